"""With --pseudonymise, no output of `anomalies list` or `report` holds a raw MMSI, name, call sign or IMO of the store."""
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.store import ingest, load_objects, load_positions, load_statics, write_samples

from conftest import OG


@pytest.fixture
def store(named_store):
    return named_store


def identities(store) -> dict:
    "Every raw identity the store holds: MMSIs, and names, call signs and IMO numbers ever reported."
    st = load_statics(store)
    words = {f: set(st.loc[st["field"] == f, "value"].dropna().astype(str)) for f in ("name", "callsign", "imo")}
    words["name"] = {w for w in words["name"] if len(w) >= 4}           # a 2-3 letter name would match ordinary text
    words["callsign"] = {w for w in words["callsign"] if len(w) >= 4}
    mmsi = set(load_positions(store, columns=["mmsi"])["mmsi"].dropna().astype(int).astype(str)) | set(load_objects(store)["mmsi"].dropna().astype(int).astype(str))
    return {"mmsi": {m for m in mmsi if len(m) == 9}, **words}


def run(args, env=None):
    return subprocess.run(OG + args, capture_output=True, text=True, env={**os.environ, **(env or {})})


def leaks(text: str, ids: dict) -> dict:
    "The identities that stand as words in `text` (not inside a longer word, number or decimal such as a coordinate)."
    numbers = set(re.findall(r"(?<![\w.])\d+(?![\w]|\.\d)", text))
    words = [w for k in ("name", "callsign") for w in ids[k]]
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")(?![\w])")
    named = set(pattern.findall(text))
    out = {k: sorted(v & (numbers if k in ("mmsi", "imo") else named)) for k, v in ids.items()}
    return {k: v for k, v in out.items() if v}


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
