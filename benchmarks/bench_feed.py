"""Live feed throughput and latency: a real `oceanguard replay` server serves the planted-anomaly NMEA file (real
positions of the real day, `feed.planted_nmea`) at 2,000 lines/s and up into a real `oceanguard listen --detect`.

Figures, per rate: lines committed per second (from the store's feed log), whether the listener kept up (the whole
file committed within a second or two of the replay's end: no growing backlog), and the latency from a sentence's send
time at the replay server to its anomaly row in the store. Latency: the store's anomalies table is polled every 0.1 s;
an anomaly first seen with end E of object O was made by the sentence carrying O's report at E, whose line number L is
its `raw_line` in the store; it was sent at t0 + (L - 1)/rate (t0: when the replay server accepted the listener).
The latency is the anomaly's `updated_at` at first sight minus that send time (commit time, not the poll's).
Target: 2,000 lines/s sustained with p95 <= 2 s.

Run: python benchmarks/bench_feed.py [--rates 2000,4000,8000] [--vessels 300]"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REAL = next((p for p in [ROOT / "datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz",
                         Path("/work/main/datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz")] if p.exists()), None)
CLI = [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def run(path: Path, rate: float, work: Path) -> dict:
    from oceanguard.store import load_anomalies, load_positions, read_feed_log
    store = work / f"S{int(rate)}"
    port = free_port()
    n_lines = len(path.read_bytes().splitlines())
    rep = subprocess.Popen([*CLI, "replay", str(path), "--to", f"tcp://127.0.0.1:{port}", "--rate", str(rate), "--max-clients", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    lis = subprocess.Popen([*CLI, "listen", f"tcp://127.0.0.1:{port}", "--store", str(store), "--detect", "--once"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = {}                                                    # anomaly_id -> (object_id, end, updated_at) at first sight
    t_start = time.time()
    while lis.poll() is None:
        try: an = load_anomalies(store, extra=True) if (store / "anomalies" / "_delta_log").is_dir() else None
        except Exception: an = None
        if an is not None:
            for a, o, e, u in zip(an.anomaly_id, an.object_id, an.end, an.updated_at):
                if a not in first: first[a] = (o, e, u)
        time.sleep(0.1)
    out, err = lis.communicate(); rout, _ = rep.communicate(timeout=60)
    t0 = float(re.search(r"t0=([\d.]+)", rout).group(1))
    sent = re.search(r"sent (\d+) lines .* in ([\d.]+) s", rout)
    log = read_feed_log(store)
    pos = load_positions(store, columns=["object_id", "timestamp", "raw_line"])
    line_of = dict(zip(zip(pos.object_id, pos.timestamp), pos.raw_line))
    lat = []
    for a, (o, e, u) in first.items():
        L = line_of.get((o, e))
        if L is not None: lat.append(u.timestamp() - (t0 + (L - 1) / rate))
    lat = np.array(lat)
    m = re.search(r"time: ([\d.]+) s committing, ([\d.]+) s detecting", out)
    replay_s = float(sent.group(2))
    done = sum(e["lines"] for e in log)
    end_wall = max(float(u.timestamp()) for _, _, u in first.values()) if first else np.nan
    return {"rate": rate, "lines": n_lines, "committed_lines": done, "batches": len(log), "replay_s": replay_s,
            "listen_wall_s": time.time() - t_start, "commit_s": float(m.group(1)), "detect_s": float(m.group(2)),
            "anomalies": len(first), "lat_p50": float(np.median(lat)) if len(lat) else np.nan,
            "lat_p95": float(np.percentile(lat, 95)) if len(lat) else np.nan, "lat_max": float(lat.max()) if len(lat) else np.nan,
            "kept_up": done == n_lines and (time.time() - t_start) <= replay_s + 6.0,
            "busy_share": (float(m.group(1)) + float(m.group(2))) / replay_s}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="2000,4000,8000")
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--hours", type=float, default=5.0)
    a = ap.parse_args()
    if REAL is None: sys.exit("the real day of US AIS is not here (datasets/noaa-marinecadastre-2020-01-01)")
    from oceanguard.feed import planted_nmea
    work = Path(tempfile.mkdtemp(prefix="bench_feed_"))
    f = work / "planted.nmea"
    t = time.perf_counter()
    plants = planted_nmea(REAL, f, n_vessels=a.vessels, hours=a.hours)
    print(f"planted file: {len(f.read_bytes().splitlines()):,} lines, {a.vessels} real vessels over {a.hours:g} h, "
          f"plants {', '.join(plants.kind)} ({time.perf_counter() - t:.1f} s to build)")
    rows, best = [], None
    for rate in [float(x) for x in a.rates.split(",")]:
        r = run(f, rate, work); rows.append(r)
        print(f"rate {r['rate']:>6,.0f} lines/s: {r['committed_lines']:,}/{r['lines']:,} lines committed in {r['batches']} batches, "
              f"replay {r['replay_s']:.1f} s, listener busy {r['busy_share']:.0%} (commit {r['commit_s']:.1f} s, detect {r['detect_s']:.1f} s), "
              f"{r['anomalies']} anomalies, arrival-to-anomaly p50 {r['lat_p50']:.2f} s p95 {r['lat_p95']:.2f} s max {r['lat_max']:.2f} s, "
              f"kept up: {r['kept_up']}", flush=True)
        if r["kept_up"] and r["lat_p95"] <= 2.0: best = rate
    print(f"highest sustained rate with p95 <= 2 s: {best:,.0f} lines/s" if best else "no rate met the target (sustained, p95 <= 2 s)")
    at2k = [r for r in rows if r["rate"] == 2000]
    if at2k: print(f"target 2,000 lines/s with p95 <= 2 s: {'met' if at2k[0]['kept_up'] and at2k[0]['lat_p95'] <= 2.0 else 'NOT met'} "
                   f"(p95 {at2k[0]['lat_p95']:.2f} s, kept up: {at2k[0]['kept_up']})")


if __name__ == "__main__":
    main()
