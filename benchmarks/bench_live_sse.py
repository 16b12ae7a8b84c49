"""Live, arrival to the event stream: a real `oceanguard replay` serves the planted-anomaly NMEA file (`feed.planted_nmea`:
real reports of the real day of US AIS with 34 anomalies planted into real vessels) at 2,000 lines/s into a real
`oceanguard listen --detect`, a real `oceanguard serve` runs over the same store, and an SSE client listens on
`/anomalies/stream`. Per planted anomaly: the time from its trigger sentence leaving the replay server to the client
receiving the anomaly's event; beside it the time to the store (the Delta commit), so the service's share shows.

Timing as in `benchmarks/bench_feed.py`: the first event of the planted kind for the planted vessel gives the anomaly's end E
as first sent; the vessel's report at E (its `raw_line` L in the store) is the sentence that made it visible, sent at
t0 + (L - 1) / rate (t0: when the replay server accepted the listener). Client receipt times are this machine's clock,
the same clock the replay server stamps t0 with. Target: 2,000 sentences/s sustained with p95 <= 2 s.

Run: python benchmarks/bench_live_sse.py [--rate 2000] [--vessels 300] [--hours 5] [--workers 1]"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_feed import CLI, KINDS, REAL, first_sight, free_port       # noqa: E402


class SSEClient(threading.Thread):
    "An `/anomalies/stream` client: every event with its receipt time (epoch s)."
    def __init__(self, base: str, since: str, seconds: float):
        super().__init__(daemon=True)
        self.base, self.since, self.seconds, self.events, self.ready = base, since, seconds, [], threading.Event()
    def run(self):
        import httpx
        try:
            with httpx.Client(base_url=self.base, timeout=httpx.Timeout(10, read=self.seconds + 30)) as c:
                with c.stream("GET", "/anomalies/stream", params={"since": self.since, "timeout": self.seconds}) as r:
                    self.ready.set()
                    for line in r.iter_lines():
                        if line.startswith("data:"): self.events.append((time.time(), json.loads(line[5:].strip())))
        except httpx.HTTPError: pass                                       # the server stops at the end of the run


def wait_http(base: str, proc, seconds: float = 60):
    import httpx
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        if proc.poll() is not None: sys.exit(f"serve exited: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200: return
        except httpx.HTTPError: pass
        time.sleep(0.1)
    sys.exit("serve did not answer /health")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--vessels", type=int, default=300)
    ap.add_argument("--hours", type=float, default=5.0)
    ap.add_argument("--batch-seconds", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    if REAL is None: sys.exit("the real day of US AIS is not here (datasets/noaa-marinecadastre-2020-01-01)")
    from oceanguard.feed import planted_nmea
    from oceanguard.store import load_positions, write_samples, ingest
    work = Path(tempfile.mkdtemp(prefix="bench_live_sse_"))
    f = work / "planted.nmea"
    plants = planted_nmea(REAL, f, n_vessels=a.vessels, hours=a.hours)
    n_lines = len(f.read_bytes().splitlines())
    print(f"planted file: {n_lines:,} lines, {a.vessels} real vessels over {a.hours:g} h, {len(plants)} plants "
          f"({', '.join(f'{n} {k}' for k, n in plants.kind.value_counts().items())})", flush=True)
    # the store the service opens before the feed starts: one shipped sample of other waters and years (Danish 2010 traffic)
    store = work / "S"
    ingest([p for p in write_samples(work / "samples") if p.name == "stream_example.txt"], store)
    env = {**os.environ, "OCEANGUARD_TELEMETRY": os.environ.get("OCEANGUARD_TELEMETRY", "")}
    sport, fport = free_port(), free_port()
    base = f"http://127.0.0.1:{sport}"
    srv = subprocess.Popen([*CLI, "serve", str(store), "--port", str(sport), "--workers", str(a.workers)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_http(base, srv)
        since = pd.Timestamp.now(tz="UTC").isoformat().replace("+00:00", "Z")
        sse = SSEClient(base, since, n_lines / a.rate + 40); sse.start(); sse.ready.wait(20)
        rep = subprocess.Popen([*CLI, "replay", str(f), "--to", f"tcp://127.0.0.1:{fport}", "--rate", str(a.rate), "--max-clients", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        lis = subprocess.run([*CLI, "listen", f"tcp://127.0.0.1:{fport}", "--store", str(store), "--detect", "--once",
                              "--batch-seconds", str(a.batch_seconds)], capture_output=True, text=True, env=env)
        rout, _ = rep.communicate(timeout=60)
        if lis.returncode != 0: sys.exit(f"listen failed: {lis.stderr}")
        time.sleep(5.0)                                                   # the last batch's events
    finally:
        srv.terminate(); srv.wait(10)
    t0 = float(re.search(r"t0=([\d.]+)", rout).group(1))
    replay_s = float(re.search(r"sent (\d+) lines .* in ([\d.]+) s", rout).group(2))
    pos = load_positions(store, columns=["object_id", "timestamp", "raw_line"])
    line_of = dict(zip(zip(pos.object_id, pos.timestamp), pos.raw_line))
    ev = pd.DataFrame([(t, d["anomaly_id"], d["object_id"], d["kind"], pd.Timestamp(d["end"])) for t, d in sse.events],
                      columns=["received", "anomaly_id", "object_id", "kind", "end"])
    fs = first_sight(store)
    rows, missed = [], []
    for p in plants.itertuples():
        e = ev[(ev.object_id == p.object_id) & ev.kind.isin(KINDS[p.kind]) & (ev.end >= p.start)].sort_values("received")
        if not len(e): missed.append(f"{p.kind} {p.object_id}"); continue
        L = line_of.get((p.object_id, e.end.iloc[0]))
        if L is None: missed.append(f"{p.kind} {p.object_id} (no report at its end)"); continue
        sent = t0 + (L - 1) / a.rate
        s = fs[(fs.anomaly_id == e.anomaly_id.iloc[0])]
        rows.append((p.kind, e.received.iloc[0] - sent, (s.visible_at.iloc[0] - sent) if len(s) else np.nan))
    lat = pd.DataFrame(rows, columns=["kind", "to_sse_s", "to_store_s"])
    print(f"\nreplay: {n_lines:,} lines at {a.rate:,.0f}/s in {replay_s:.1f} s; SSE events received: {len(ev):,}; "
          f"plants seen on the stream: {len(lat)}/{len(plants)}" + (f" (missed: {', '.join(missed)})" if missed else ""))
    print("\n| kind | plants | send -> store p50 / p95 (s) | send -> SSE event p50 / p95 / max (s) |")
    print("|---|---|---|---|")
    for k, g in [*lat.groupby("kind"), ("all", lat)]:
        q = lambda s, f: float(f(s.dropna())) if s.notna().any() else float("nan")
        print(f"| {k} | {len(g)} | {q(g.to_store_s, np.median):.2f} / {q(g.to_store_s, lambda x: np.percentile(x, 95)):.2f} | "
              f"{q(g.to_sse_s, np.median):.2f} / {q(g.to_sse_s, lambda x: np.percentile(x, 95)):.2f} / {q(g.to_sse_s, np.max):.2f} |")
    p95 = float(np.percentile(lat.to_sse_s, 95)) if len(lat) else float("nan")
    kept = bool(re.search(r"sent (\d+) lines", rout)) and replay_s <= n_lines / a.rate * 1.1 + 2
    print(f"\ntarget {a.rate:,.0f} sentences/s with p95 <= 2 s from send to SSE event: {'met' if p95 <= 2 and kept and not missed else 'NOT met'} "
          f"(p95 {p95:.2f} s, replay kept its rate: {kept})")


if __name__ == "__main__":
    main()
