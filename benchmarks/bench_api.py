"""Latency and throughput of the oceanguard API on a big store: random bbox + 1-3 h item queries (limit=100) from concurrent clients.

Builds once (cached under benchmarks/.cache) a store of the real NOAA day 2020-01-01 (5.46M rows) plus a copy shifted to
2020-01-02 (10.9M positions; `--quick`: the first 1M rows of the day only), compares the two position query paths in process
(pyarrow dataset with row-group statistics vs DuckDB over the Delta table's Parquet files), then starts the real server
(uvicorn on 127.0.0.1, 1 and 2 workers) and loads it with `wrk` (or one asyncio process of httpx clients) at 4, 8 and 16
concurrent keep-alive clients, every request a different query. Prints p50/p95/p99 latency, requests/s and the CPU share of
the server and of the load generator (they share the cores).
Target (2 cores): p95 <= 100 ms and >= 200 requests/s.
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
REAL = Path(os.environ.get("OCEANGUARD_REAL_DAY", REPO.parent / "main" / "datasets" / "noaa-marinecadastre-2020-01-01" / "AIS_2020_01_01_named.csv.gz"))
if not REAL.exists(): REAL = REPO / "datasets" / "noaa-marinecadastre-2020-01-01" / "AIS_2020_01_01_named.csv.gz"
CACHE = ROOT / ".cache" / "api"

# busy US waters (W, S, E, N): boxes are drawn inside these
BUSY = [(-95.5, 28.5, -93.5, 30.0), (-91.5, 28.8, -89.0, 30.2), (-76.8, 36.6, -75.8, 39.5), (-74.5, 40.0, -73.5, 41.0),
        (-71.5, 41.0, -70.0, 42.6), (-123.5, 46.0, -122.0, 48.5), (-119.0, 33.3, -117.5, 34.2), (-82.8, 27.0, -80.0, 28.5),
        (-88.5, 30.0, -87.5, 30.8), (-80.3, 25.5, -80.0, 26.5)]


def _shifted_copy(src: Path, dst: Path, n_rows: int | None):
    "The day's CSV (first `n_rows` rows) with every timestamp moved one day later, written once."
    if dst.exists(): return
    tmp = dst.with_suffix(".tmp")
    with gzip.open(src, "rt") as fi, open(tmp, "w") as fo:
        fo.write(fi.readline())
        for i, line in enumerate(fi):
            if n_rows is not None and i >= n_rows: break
            fo.write(line.replace(",2020-01-01T", ",2020-01-02T", 1))
    tmp.replace(dst)


def _head(src: Path, dst: Path, n_rows: int):
    if dst.exists(): return
    tmp = dst.with_suffix(".tmp")
    with gzip.open(src, "rt") as fi, open(tmp, "w") as fo:
        for i, line in enumerate(fi):
            if i > n_rows: break
            fo.write(line)
    tmp.replace(dst)


def build_store(quick: bool) -> Path:
    "The benchmark store (cached): the real day and a copy one day later (quick: the first 1M rows, once)."
    CACHE.mkdir(parents=True, exist_ok=True)
    store = CACHE / ("store-1m" if quick else "store-10m")
    done = store / ".complete"
    if done.exists(): return store
    if store.exists(): shutil.rmtree(store)
    from oceanguard.store import ingest
    t = time.perf_counter()
    if quick:
        head = CACHE / "day-1m.csv"; _head(REAL, head, 1_000_000)
        ingest([head], store, format="noaa")
    else:
        shifted = CACHE / "day2-shifted.csv"; _shifted_copy(REAL, shifted, None)
        ingest([REAL], store, format="noaa")
        ingest([shifted], store, format="noaa")
    done.write_text("ok")
    print(f"store built in {time.perf_counter() - t:.0f} s: {store}")
    return store


def random_queries(n: int, days: list[str], seed: int = 0) -> list[tuple]:
    "`n` (bbox, start, end): boxes 0.5-2 degrees inside busy waters, windows of 1-3 h on the stored days."
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        W, S, E, N = rng.choice(BUSY)
        w, h = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)
        cx, cy = rng.uniform(W, E), rng.uniform(S, N)
        day = rng.choice(days)
        h0 = rng.uniform(0, 21)
        dur = rng.uniform(1, 3)
        t0 = np.datetime64(f"{day}T00:00:00") + np.timedelta64(int(h0 * 3600), "s")
        t1 = t0 + np.timedelta64(int(dur * 3600), "s")
        out.append(((round(cx - w / 2, 4), round(cy - h / 2, 4), round(cx + w / 2, 4), round(cy + h / 2, 4)), f"{t0}Z", f"{t1}Z"))
    return out


def compare_paths(store: Path, queries: list[tuple]) -> dict:
    """Time (ms) of one limit=100 bbox + time page in process, three ways: the service's row-group index, a pyarrow dataset
    scanner with the same filter (statistics pruning), and DuckDB over the Delta table's Parquet files. First pass cold (each
    process decodes what it touches once), second pass warm."""
    from oceanguard.service.adapters import StorePositionRepository, DuckDBPositionRepository, POSITION_COLUMNS
    from oceanguard.service.core import Query, parse_datetime
    from oceanguard.store import position_filter, positions_dataset
    qs = [Query(bbox=b, start=parse_datetime(x)[0], end=parse_datetime(y)[0], limit=100) for b, x, y in queries]
    dset = positions_dataset(store)
    scan = lambda q: dset.scanner(columns=POSITION_COLUMNS, filter=position_filter(q.bbox, q.start, q.end)).head(q.limit + 1)
    index, duck = StorePositionRepository(store), DuckDBPositionRepository(store)
    res = {}
    for name, run in (("row-group index", index.query), ("pyarrow scanner", scan), ("duckdb", duck.query)):
        for phase in ("cold", "warm"):
            ts = []
            for q in qs:
                t = time.perf_counter(); run(q); ts.append((time.perf_counter() - t) * 1e3)
            res[(name, phase)] = (float(np.median(ts)), float(np.percentile(ts, 95)))
            print(f"  in process, {name:<16} {phase}: p50 {res[(name, phase)][0]:6.1f} ms  p95 {res[(name, phase)][1]:6.1f} ms  ({len(ts)} queries)")
    best = min(("row-group index", "pyarrow scanner", "duckdb"), key=lambda n: res[(n, "warm")][1])
    print(f"  fastest warm p95 in process: {best}")
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def item_paths(queries: list[tuple]) -> list[str]:
    "The GET paths of the queries: positions by bbox and time, one page of 100."
    from urllib.parse import urlencode
    return ["/collections/positions/items?" + urlencode({"bbox": ",".join(map(str, b)), "datetime": f"{x}/{y}", "limit": 100}) for b, x, y in queries]


def _tree(pid: int) -> list[int]:
    "A process and its descendants (Linux /proc)."
    out, todo = [], [pid]
    while todo:
        p = todo.pop(); out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError: pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    "User + system CPU seconds of `pids` so far (Linux /proc)."
    tot = 0
    for p in pids:
        try: f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError: continue
        tot += int(f[11]) + int(f[12])
    return tot / os.sysconf("SC_CLK_TCK")


WRK_LUA = r"""
local paths = {}
for line in io.lines(os.getenv("OG_PATHS")) do paths[#paths + 1] = line end
local i = tonumber(os.getenv("OG_OFFSET") or "0")
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("OGRESULT %d %d %d %d %.3f %.3f %.3f\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def load_wrk(base: str, paths: list[str], clients: int, seconds: float, offset: int = 0) -> dict:
    "`wrk` (one thread, `clients` keep-alive connections) over `paths` in turn; its own CPU share measured beside."
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "paths.txt").write_text("\n".join(paths) + "\n")
    (CACHE / "items.lua").write_text(WRK_LUA)
    env = {**os.environ, "OG_PATHS": str(CACHE / "paths.txt"), "OG_OFFSET": str(offset)}
    p = subprocess.Popen(["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(CACHE / "items.lua"), base],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = p.communicate()
    line = next((l for l in out.splitlines() if l.startswith("OGRESULT")), None)
    if line is None: raise SystemExit(f"wrk gave no result:\n{out[-2000:]}")
    n, dur_us, errs, bad_status, p50, p95, p99 = line.split()[1:]
    return {"n": int(n), "wall": int(dur_us) / 1e6, "errors": int(errs) + int(bad_status), "p50": float(p50), "p95": float(p95), "p99": float(p99)}


async def _load_httpx(base: str, paths: list[str], clients: int, seconds: float, offset: int = 0):
    import httpx
    lat, errors, stop = [], 0, time.perf_counter() + seconds
    async def client(k: int, c):
        nonlocal errors
        i = offset + k
        while time.perf_counter() < stop:
            t = time.perf_counter()
            r = await c.get(paths[i % len(paths)]); i += clients
            lat.append((time.perf_counter() - t) * 1e3)
            if r.status_code != 200: errors += 1
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as c:        # HTTP/1.1, keep-alive
        t0 = time.perf_counter()
        await asyncio.gather(*(client(k, c) for k in range(clients)))
        wall = time.perf_counter() - t0
    p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if lat else (float("nan"),) * 3
    return {"n": len(lat), "wall": wall, "errors": errors, "p50": p50, "p95": p95, "p99": p99}


def load_httpx(base, paths, clients, seconds, offset=0) -> dict:
    "One asyncio process of httpx clients (this process: its CPU is the generator's)."
    return asyncio.run(_load_httpx(base, paths, clients, seconds, offset))


def start_server(store: Path, workers: int):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), "OCEANGUARD_TELEMETRY": os.environ.get("OCEANGUARD_TELEMETRY", "")}
    srv = subprocess.Popen([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())", "serve", str(store), "--host", "127.0.0.1",
                            "--port", str(port), "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    import httpx
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200: return srv, base
        except httpx.HTTPError: pass
        if srv.poll() is not None: raise SystemExit(f"server exited: {srv.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    srv.terminate(); raise SystemExit("server did not answer /health")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1M rows, short load")
    ap.add_argument("--workers", default="1,2", help="uvicorn worker counts to measure (default 1,2)")
    ap.add_argument("--clients", default="4,8,16", help="concurrent clients (keep-alive connections) to measure (default 4,8,16)")
    ap.add_argument("--seconds", type=float, default=None, help="seconds of load per cell (default 20; quick 8)")
    ap.add_argument("--generator", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx",
                    help="load generator: wrk (C, cheap; apt install wrk) or one asyncio process of httpx clients")
    ap.add_argument("--warmup", type=float, default=10, help="seconds of unmeasured load first, per server (default 10)")
    ap.add_argument("--no-compare", action="store_true", help="skip the in-process comparison of query paths")
    ap.add_argument("--build-only", action="store_true")
    a = ap.parse_args(argv)
    store = build_store(a.quick)
    if a.build_only: return 0
    from oceanguard.store import data_files
    days = sorted({Path(f).parent.name.split("=")[-1] for f in data_files(store)})
    queries = random_queries(40_000, days)
    print(f"store: {store} ({len(data_files(store))} files, days {', '.join(days)})")
    if not a.no_compare: compare_paths(store, queries[:200 if not a.quick else 60])
    paths = item_paths(queries[1000:])                   # every request a different query: the response cache never answers
    seconds = a.seconds or (8 if a.quick else 20)
    run = load_wrk if a.generator == "wrk" else load_httpx
    print(f"\nHTTP load: random bbox (0.5-2 deg) + 1-3 h positions pages of 100, {seconds:.0f} s per cell, generator {a.generator}, "
          f"{os.cpu_count()} cores shared by server and generator")
    print(f"{'workers':>7} {'clients':>7} {'requests':>9} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>6} {'server CPU':>10} {'generator CPU':>13}  target")
    offset, rows = 0, []
    for w in [int(x) for x in str(a.workers).split(",")]:
        srv, base = start_server(store, w)
        try:
            run(base, item_paths(queries[:1000]), 8, a.warmup)     # warm-up: each worker decodes the row groups it touches once (not measured)
            for c in [int(x) for x in str(a.clients).split(",")]:
                spids = _tree(srv.pid)
                s0, t0 = cpu_seconds(spids), time.perf_counter()
                g0 = sum(os.times()[:2]) + (cpu_seconds([]) if a.generator == "httpx" else 0)
                gen_before = os.times()
                r = run(base, paths, c, seconds, offset)
                offset += r["n"] + 1
                wall = time.perf_counter() - t0
                s_cpu = cpu_seconds(spids) - s0
                if a.generator == "wrk":
                    gen_after = os.times()
                    g_cpu = (gen_after.children_user + gen_after.children_system) - (gen_before.children_user + gen_before.children_system)
                else:
                    g_cpu = sum(os.times()[:2]) - g0
                rps = r["n"] / r["wall"]
                ok = r["p95"] <= 100 and rps >= 200
                rows.append((w, c, r, rps, s_cpu / wall, g_cpu / wall))
                print(f"{w:>7} {c:>7} {r['n']:>9,} {r['errors']:>6} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['p99']:>7.1f} {rps:>6.0f} "
                      f"{100 * s_cpu / wall:>8.0f} % {100 * g_cpu / wall:>11.0f} %  {'met' if ok else 'MISSED'}", flush=True)
        finally:
            srv.terminate(); srv.wait(10)
    print("CPU shares are of one core (200 % = both cores); target: p95 <= 100 ms and >= 200 requests/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
