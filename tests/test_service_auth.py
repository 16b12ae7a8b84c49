"""API keys on a real server: 401 without or with a wrong key, 403 below the role, telemetry (the store's, through
`oceanguard.telemetry`) for admins with key ids and never keys, and a pseudonymised viewer who never sees a raw MMSI, IMO,
name or call sign of the store in any response, and sees the pseudonyms `--pseudonymise` shows on the command line."""
import json
import re

import httpx
import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.store import load_anomalies, load_objects, load_positions, load_statics
from service_server import Server, build_store

KEYS = {"k-viewer-123": {"id": "vera", "role": "viewer"}, "k-pseudo-456": {"id": "paul", "role": "viewer", "pseudonymised": True},
        "k-analyst-789": {"id": "anna", "role": "analyst"}, "k-admin-000": {"id": "adam", "role": "admin"}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    store = build_store(root)
    (root / "keys.json").write_text(json.dumps(KEYS))
    (root / "pseudonym.key").write_text("a deployment secret\n")
    s = Server(store, "--api-keys", str(root / "keys.json"), "--telemetry", str(root / "telemetry"), "--key-file", str(root / "pseudonym.key"))
    yield s, store, root
    s.stop()


def whole_words(words, text) -> list[str]:
    "The `words` found in `text` as whole words (not inside a longer word)."
    def whole(w):
        i = text.find(w)
        while i >= 0:
            a, b = text[i - 1:i], text[i + len(w):i + len(w) + 1]
            if not (a.isalnum() or a == "_") and not (b.isalnum() or b == "_"): return True
            i = text.find(w, i + 1)
        return False
    return sorted(w for w in words if whole(w))


def get(s, path, key=None, **kw): return httpx.get(s.url + path, headers={"X-API-Key": key} if key else {}, timeout=60, **kw)
def post(s, path, key=None, **kw): return httpx.post(s.url + path, headers={"X-API-Key": key} if key else {}, timeout=60, **kw)


def test_keys_and_roles(served):
    s, store, root = served
    aid = load_anomalies(store)["anomaly_id"].iloc[0]
    for r in (get(s, "/collections"), get(s, "/collections", "wrong-key")):
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json") and r.json()["parameter"] == "X-API-Key"
    assert get(s, "/collections", "k-viewer-123").status_code == 200
    verdict = {"anomaly_id": aid, "verdict": "confirmed"}
    assert post(s, "/labels", "k-viewer-123", json=verdict).status_code == 403
    assert httpx.post(s.url + "/detect", content="mmsi,timestamp,lat,lon\n1,2020-01-01T00:00Z,55,12\n",
                      headers={"content-type": "text/csv", "X-API-Key": "k-viewer-123"}).status_code == 403
    assert post(s, "/labels", "k-analyst-789", json=verdict).status_code == 201
    assert get(s, "/telemetry", "k-analyst-789").status_code == 403
    ev = get(s, "/telemetry", "k-admin-000", params={"operation": "api:"}).json()["events"]
    assert {"vera", "anna"} <= {e["actor"] for e in ev}
    assert ("anna", "api:POST /labels", "ok") in {(e["actor"], e["operation"], e["outcome"]) for e in ev}
    assert ("vera", "api:POST /labels", "http 403") in {(e["actor"], e["operation"], e["outcome"]) for e in ev}
    logged = "".join(f.read_text() for f in (root / "telemetry").glob("telemetry-*.jsonl"))
    assert "anna" in logged and not any(k in logged for k in KEYS)          # key ids, never keys


def test_serve_refuses_pseudonymised_keys_without_a_key(served, monkeypatch, capsys):
    _, store, root = served
    monkeypatch.delenv("OCEANGUARD_PSEUDONYM_KEY", raising=False)
    assert main(["serve", str(store), "--api-keys", str(root / "keys.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "paul" in err and "OCEANGUARD_PSEUDONYM_KEY" in err and "--key-file" in err


def test_pseudonymised_viewer_never_sees_a_raw_identity(served):
    s, store, root = served
    key = "k-pseudo-456"
    an = load_anomalies(store)
    objs = load_objects(store)
    mmsis = {str(m) for m in objs["mmsi"].dropna().astype(int) if m >= 100_000} | {str(m) for m in an["mmsi"].dropna().astype(int) if m >= 100_000}
    aid = an["anomaly_id"].iloc[0]
    oid = an["object_id"].iloc[0]
    pos = load_positions(store, object_ids=[oid])
    bodies = [get(s, p, key) for p in ("/collections/anomalies/items?limit=10000", "/collections/positions/items?limit=10000",
                                       "/collections/objects/items?limit=10000", f"/collections/anomalies/items/{aid}", f"/anomalies/{aid}",
                                       "/health", "/map?bbox=10.5,57,11.5,57.6")]
    assert all(r.status_code == 200 for r in bodies), [(r.request.url, r.status_code) for r in bodies if r.status_code != 200]
    text = "\n".join(r.text for r in bodies)
    leaked = sorted(set(re.findall(r"(?<!\d)\d{6,9}(?!\d)", text)) & mmsis)
    assert not leaked, leaked[:5]
    assert an["explanation"].str.contains(r"\d{6,9}").any()                  # the explanations do name MMSIs, so the check bites
    plain = get(s, f"/anomalies/{aid}", "k-viewer-123").text                   # an ordinary viewer sees them
    assert str(int(an["mmsi"].iloc[0])) in plain
    st = load_statics(store)
    words = set(objs["name"].dropna()) | set(objs["callsign"].dropna()) | set(st.loc[st["field"].isin(["name", "callsign"]), "value"].dropna())
    words = {str(w).strip() for w in words if len(str(w).strip()) >= 4}
    imos = {str(int(i)) for i in pd.to_numeric(pd.concat([objs["imo"], st.loc[st["field"] == "imo", "value"]]), errors="coerce").dropna()}
    assert words and imos
    seen_words = whole_words(words, text)
    assert not seen_words, seen_words[:5]
    assert not set(re.findall(r"(?<!\d)\d{7}(?!\d)", text)) & imos
    objects_plain = get(s, "/collections/objects/items?limit=10000", "k-viewer-123").text   # the check bites: a plain viewer sees them
    assert whole_words(words, objects_plain)
    # the same pseudonyms as `oceanguard anomalies list --pseudonymise` with the same key
    from oceanguard.privacy import Pseudonymiser
    cli = Pseudonymiser(b"a deployment secret", [objs, st]).frame(an).set_index("anomaly_id")
    f = get(s, f"/collections/anomalies/items/{aid}", key).json()["properties"]
    assert (f["object_id"], f["mmsi"], f["explanation"]) == (cli.loc[aid, "object_id"], int(cli.loc[aid, "mmsi"]), cli.loc[aid, "explanation"])
