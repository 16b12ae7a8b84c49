"""The live feed with real processes: a real `oceanguard replay` TCP server on 127.0.0.1 serving the shipped NMEA
samples to a real `oceanguard listen --detect` subprocess. The store it fills holds the positions `oceanguard ingest`
makes of the same file, quarantine counts that reconcile, and the anomalies `oceanguard detect --no-model` finds.
A `kill -9` mid-stream loses at most one batch, and the restarted listener says what the store holds."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.store import check_store, load_anomalies, load_positions, load_quarantine, read_feed_log, write_samples

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
OG = [sys.executable, "-m", "oceanguard.cli"]


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())", *map(str, args)],
                          capture_output=True, text=True, env=ENV, **kw)


def _popen(*args, **kw):
    return subprocess.Popen([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _replay(path, *opts):
    "A real replay server on a free port; waits until it accepts connections."
    port = _free_port()
    p = _popen("replay", path, "--to", f"tcp://127.0.0.1:{port}", *opts)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1): pass
            break
        except OSError: time.sleep(0.05)
    return p, port


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    write_samples(d)
    return d


def _positions(store):
    p = load_positions(store).drop(columns=["raw_file"])
    return p.sort_values(["object_id", "timestamp", "raw_line"]).reset_index(drop=True)


CASES = ["nmea-dma-aislib-2010/stream_example.txt", "nmea-format-variants/gpsd_sample.aivdm",
         "nmea-format-variants/libais_test_uscg.aivdm", "nmea-format-variants/libais_tagblock.nmea"]


@pytest.mark.parametrize("name", [CASES[0]] + [pytest.param(c, marks=pytest.mark.slow) for c in CASES[1:]])   # each ~30 s or more: three CLIs
def test_replay_listen_equals_ingest_and_detect(samples, tmp_path, name):
    f = samples / name
    srv, port = _replay(f, "--rate", "20000", "--max-clients", "2")     # one client for the probe above, one for listen
    r = _cli("listen", f"tcp://127.0.0.1:{port}", "--store", tmp_path / "S", "--detect", "--once", "--batch-seconds", "0.3", timeout=120)
    srv.wait(30)
    assert r.returncode == 0, r.stderr
    assert "reconciled" in r.stdout and "NOT RECONCILED" not in r.stdout, r.stdout
    i = _cli("ingest", f, "--out", tmp_path / "S2", "--quiet", timeout=120)
    assert i.returncode == 0, i.stdout + i.stderr
    if name.endswith("gpsd_sample.aivdm"):   # sentences without a time: ingest quarantines them, the listener dates them on arrival
        q2 = load_quarantine(tmp_path / "S2")
        live = load_positions(tmp_path / "S")
        q1 = load_quarantine(tmp_path / "S")
        assert (q1.reason == "bad_timestamp").sum() == 0 and 0 < len(live) <= int((q2.reason == "bad_timestamp").sum())
        assert len(live) + len(q1) <= len(q2)        # dated on arrival: accepted, refused by the cleaner, or a duplicate
        assert (live.timestamp > pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=5)).all()
        return
    # (a) the positions of ingest, row for row (raw_file names the source, not the file)
    pd.testing.assert_frame_equal(_positions(tmp_path / "S"), _positions(tmp_path / "S2"))
    # (b) quarantine: the same reasons and counts, and the listener's sum reconciles with ingest's
    q1, q2 = load_quarantine(tmp_path / "S"), load_quarantine(tmp_path / "S2")
    assert q1["reason"].value_counts().to_dict() == q2["reason"].value_counts().to_dict()
    m = re.search(r"(\d+) = (\d+) \+ (\d+) \+ (\d+) \+ (\d+)", r.stdout)
    m2 = re.search(r"(\d+) = (\d+) \+ (\d+) \+ (\d+) \+ (\d+) \(reconciled\)", i.stdout)
    assert m.groups() == m2.groups(), (r.stdout, i.stdout)
    # (c) the anomalies of a batch detect run: same ids, kinds, starts, ends
    d = _cli("detect", f, "--out", tmp_path / "x.parquet", "--no-model", timeout=120)
    assert d.returncode == 0, d.stderr
    key = lambda a: sorted(zip(a.anomaly_id, a.kind, a.start, a.end))
    assert key(load_anomalies(tmp_path / "S")) == key(pd.read_parquet(tmp_path / "x.parquet"))


def test_kill_9_loses_at_most_one_batch(samples, tmp_path):
    f = samples / "nmea-dma-aislib-2010/stream_example.txt"
    store = tmp_path / "S"
    srv, port = _replay(f, "--rate", "1500", "--max-clients", "3")
    lis = _popen("listen", f"tcp://127.0.0.1:{port}", "--store", store, "--once", "--batch-seconds", "0.5")
    for _ in range(400):                                   # wait for a few batches, then kill -9 mid-stream
        if len(read_feed_log(store)) >= 3: break
        time.sleep(0.05)
    os.kill(lis.pid, signal.SIGKILL); lis.wait(10)
    log = read_feed_log(store)
    assert 3 <= len(log) and sum(e["lines"] for e in log) < len(f.read_bytes().splitlines()), "killed after the stream ended"
    assert check_store(store)["damaged"] == []
    n_before = len(load_positions(store))                  # readable, and what was committed is whole batches
    assert n_before == sum(e["positions"] for e in log)
    r = _cli("listen", f"tcp://127.0.0.1:{port}", "--store", store, "--once", "--batch-seconds", "0.5", timeout=120)
    srv.wait(30)
    assert r.returncode == 0, r.stderr
    m = re.search(r"the store holds (\d+) batches \((\d+) reports, (\d+) positions\) from 1 earlier session\(s\); the last one \((\S+)\) "
                  r"did not end cleanly and lost (\d+) received line\(s\) not committed", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) == len(log) and int(m.group(3)) == n_before
    lost = int(m.group(5))
    assert lost <= 1500 * 0.5 * 3 + 2000, lost              # at most the uncommitted batch (0.5 s at 1500 lines/s, and a read)
    # the replay resends the whole file: the store ends with exactly the rows of one ingest, the rest counted as duplicates
    i = _cli("ingest", f, "--out", tmp_path / "S2", "--quiet", timeout=120)
    pd.testing.assert_frame_equal(_positions(store), _positions(tmp_path / "S2"))
    assert re.search(rf"3154 = {3127 - n_before} \+ 27 \+ {n_before} \+ 0 \(reconciled\)", r.stdout), r.stdout


def test_sigterm_commits_pending_and_exits_0(samples, tmp_path):
    f = samples / "nmea-dma-aislib-2010/stream_example.txt"
    srv, port = _replay(f, "--rate", "2000", "--max-clients", "2")
    lis = _popen("listen", f"tcp://127.0.0.1:{port}", "--store", tmp_path / "S", "--batch-seconds", "30")
    while "connected to" not in (line := lis.stderr.readline()):           # its SIGTERM handler is set by then
        assert line, "the listener ended before connecting"
    time.sleep(1)
    lis.send_signal(signal.SIGTERM)
    out, err = lis.communicate(timeout=60)
    srv.kill(); srv.wait(10)
    assert lis.returncode == 0, err
    assert "1 batches committed" in out and "(reconciled)" in out, out
    assert len(load_positions(tmp_path / "S")) > 0


def test_unreachable_source_says_so_in_one_line(tmp_path):
    port = _free_port()
    p = _popen("listen", f"tcp://127.0.0.1:{port}", "--store", tmp_path / "S", "--idle-timeout", "2")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0
    lines = [l for l in err.splitlines() if "cannot reach" in l]
    assert lines and all(l.startswith(f"oceanguard listen: cannot reach tcp://127.0.0.1:{port}") for l in lines), err
    assert "retrying in 0.5 s" in lines[0] and "retrying in 1 s" in lines[1]


def test_bad_source_is_one_line_error(tmp_path):
    r = _cli("listen", "http://x:1", "--store", tmp_path / "S")
    assert r.returncode == 2 and r.stderr.strip() == "oceanguard: error: source http://x:1: unknown scheme (tcp://HOST:PORT, udp://[HOST]:PORT, - or a file)"
    r = _cli("replay", tmp_path / "missing.nmea", "--to", "tcp://127.0.0.1:1")
    assert r.returncode == 2 and "NMEA file not found" in r.stderr and "Traceback" not in r.stderr


def test_udp_and_stdin_sources(samples, tmp_path):
    f = samples / "nmea-format-variants/libais_tagblock.nmea"
    r = _cli("listen", "-", "--store", tmp_path / "S", input=f.read_text(), timeout=60)
    assert r.returncode == 0 and "3 = 3 + 0 + 0 + 0" in r.stdout, r.stdout + r.stderr
    port = _free_port()
    p = _popen("listen", f"udp://:{port}", "--store", tmp_path / "U", "--idle-timeout", "3")
    while "listening on udp://" not in (line := p.stderr.readline()):        # datagrams sent before the bind are lost
        assert line, "the listener ended before binding its UDP port"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for line in f.read_bytes().splitlines(): s.sendto(line + b"\r\n", ("127.0.0.1", port))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0 and "3 = 3 + 0 + 0 + 0" in out, out + err
