"""Live end to end with real processes on 127.0.0.1: `oceanguard replay` serves a shipped NMEA sample, `oceanguard listen
--detect` writes the store, `oceanguard serve` runs over it, and an SSE client on `/anomalies/stream` receives the anomalies
the listener writes, with the same anomaly ids as a batch `oceanguard detect` of the same file."""
import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd
import pytest

from oceanguard.store import is_store, write_samples
from service_server import REPO, Server

CLI = [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def cli(*args, **kw):
    return subprocess.Popen([*CLI, *map(str, args)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_listener_anomalies_reach_an_sse_client_with_batch_ids(tmp_path):
    f = [p for p in write_samples(tmp_path / "samples") if p.name == "stream_example.txt"][0]
    batch = cli("detect", f, "--out", tmp_path / "batch.parquet", "--no-model")         # the reference, beside the live run
    port, store = free_port(), tmp_path / "S"
    since = pd.Timestamp.now(tz="UTC").isoformat().replace("+00:00", "Z")
    rep = cli("replay", f, "--to", f"tcp://127.0.0.1:{port}", "--rate", "4000", "--max-clients", "1")
    time.sleep(1.0)
    lis = cli("listen", f"tcp://127.0.0.1:{port}", "--store", store, "--detect", "--once", "--batch-seconds", "0.5")
    t_end = time.monotonic() + 30
    while not is_store(store) and time.monotonic() < t_end:                  # the listener's first commit makes the store
        assert lis.poll() is None or lis.returncode == 0, lis.stderr.read()
        time.sleep(0.1)
    srv = Server(store)                                                       # a real uvicorn over the store being written
    events = []
    def listen():
        try:
            with httpx.Client(base_url=srv.url, timeout=httpx.Timeout(10, read=60)) as c:
                with c.stream("GET", "/anomalies/stream", params={"since": since, "timeout": 25}) as r:
                    for line in r.iter_lines():
                        if line.startswith("data:"): events.append(json.loads(line[5:].strip()))
        except httpx.HTTPError: pass                                         # the server stops at the end
    try:
        t = threading.Thread(target=listen, daemon=True); t.start()
        assert lis.wait(60) == 0, lis.stderr.read()
        rep.wait(30)
        assert batch.wait(60) == 0, batch.stderr.read()
        ref = pd.read_parquet(tmp_path / "batch.parquet")
        assert len(ref) > 0
        t_end = time.monotonic() + 20
        while time.monotonic() < t_end and not set(ref.anomaly_id) <= {e["anomaly_id"] for e in events}: time.sleep(0.25)
    finally:
        srv.stop()
        for p in (rep, lis, batch):
            if p.poll() is None: p.kill()
    got = {e["anomaly_id"]: e for e in events}
    assert set(ref.anomaly_id) <= set(got), sorted(set(ref.anomaly_id) - set(got))[:5]      # every batch anomaly arrived live
    a = ref.iloc[0]
    assert (got[a.anomaly_id]["kind"], got[a.anomaly_id]["object_id"]) == (a.kind, a.object_id)
    assert pd.Timestamp(got[a.anomaly_id]["start"]) == a.start
