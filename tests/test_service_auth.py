"""API keys on a real server: 401 without or with a wrong key, 403 below the role, telemetry for admins with key ids and
never keys, and a pseudonymised viewer who never sees a raw MMSI of the store in any response."""
import json
import re

import httpx
import pytest

from oceanguard.store import load_anomalies, load_objects, load_positions
from service_server import Server, build_store

KEYS = {"k-viewer-123": {"id": "vera", "role": "viewer"}, "k-pseudo-456": {"id": "paul", "role": "viewer", "pseudonymised": True},
        "k-analyst-789": {"id": "anna", "role": "analyst"}, "k-admin-000": {"id": "adam", "role": "admin"}}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    store = build_store(root)
    (root / "keys.json").write_text(json.dumps(KEYS))
    s = Server(store, "--api-keys", str(root / "keys.json"), "--telemetry", str(root / "telemetry.jsonl"))
    yield s, store, root
    s.stop()


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
    ev = get(s, "/telemetry", "k-admin-000").json()["events"]
    assert {"vera", "anna"} <= {e["key_id"] for e in ev}
    logged = (root / "telemetry.jsonl").read_text()
    assert "anna" in logged and not any(k in logged for k in KEYS)          # key ids, never keys


def test_pseudonymised_viewer_never_sees_a_raw_mmsi(served):
    s, store, _ = served
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
