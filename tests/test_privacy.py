"""With --pseudonymise, no output of `anomalies list` or `report` holds a raw MMSI, name, call sign or IMO of the store."""
import json
import os
import subprocess

import pytest

from conftest import OG, identities, leaks


@pytest.fixture
def store(named_store):
    return named_store


def run(args, env=None):
    return subprocess.run(OG + args, capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_pseudonymised_outputs_hold_no_raw_identity(store, tmp_path):
    ids = identities(store)
    assert len(ids["mmsi"]) > 20 and len(ids["name"]) > 5 and len(ids["imo"]) > 3
    key = {"OCEANGUARD_PSEUDONYM_KEY": "a-secret-of-the-operator"}
    plain = run(["anomalies", "list", str(store), "--format", "json"])
    assert plain.returncode == 0, plain.stderr
    assert leaks(plain.stdout, ids)                     # the check can fail: plain output names vessels
    pseudo = run(["anomalies", "list", str(store), "--format", "json", "--pseudonymise"], key)
    assert pseudo.returncode == 0, pseudo.stderr
    assert len(json.loads(pseudo.stdout)) == len(json.loads(plain.stdout))
    test_leaks = leaks(pseudo.stdout, ids)
    assert not test_leaks, test_leaks
    first = json.loads(pseudo.stdout)[0]["anomaly_id"]
    ex = run(["anomalies", "explain", str(store), first, "--pseudonymise"], key)
    assert ex.returncode == 0 and not leaks(ex.stdout, ids), ex.stdout

    for name, extra in (("plain", []), ("pseudo", ["--pseudonymise"])):
        r = run(["report", str(store), "--anomalies", str(store), "--out", str(tmp_path / f"{name}.html"), *extra], key)
        assert r.returncode == 0, r.stderr
    html_plain, html_pseudo = (tmp_path / "plain.html").read_text(), (tmp_path / "pseudo.html").read_text()
    assert leaks(html_plain, ids)["mmsi"]
    assert not leaks(html_pseudo, ids), leaks(html_pseudo, ids)


def test_pseudonymise_needs_a_key(store):
    env = {k: v for k, v in os.environ.items() if k != "OCEANGUARD_PSEUDONYM_KEY"}
    r = subprocess.run(OG + ["anomalies", "list", str(store), "--pseudonymise"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "no default key" in r.stderr and "Traceback" not in r.stderr
