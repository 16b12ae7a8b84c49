"""Latency and throughput of the oceanguard API on a big store: random bbox + 1-3 h item queries (limit=100) from concurrent clients.

Builds once (cached under benchmarks/.cache) a store of the real NOAA day 2020-01-01 (5.46M rows) plus a copy shifted to
2020-01-02 (10.9M positions; `--quick`: the first 1M rows of the day only), compares the two position query paths in process
(pyarrow dataset with row-group statistics vs DuckDB over the Delta table's Parquet files), then starts the real server
(uvicorn on 127.0.0.1) and loads it with httpx clients. Prints p50/p95/p99 latency and requests/s.
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


async def load(base: str, queries: list[tuple], clients: int, seconds: float) -> tuple[list[float], int, float]:
    import httpx
    lat, errors, stop = [], 0, time.perf_counter() + seconds
    async def client(k: int):
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            i = k
            while time.perf_counter() < stop:
                bbox, a, b = queries[i % len(queries)]; i += clients
                t = time.perf_counter()
                r = await c.get("/collections/positions/items", params={"bbox": ",".join(map(str, bbox)), "datetime": f"{a}/{b}", "limit": 100})
                lat.append((time.perf_counter() - t) * 1e3)
                if r.status_code != 200: errors += 1
    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return lat, errors, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1M rows, short load")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--build-only", action="store_true")
    a = ap.parse_args(argv)
    store = build_store(a.quick)
    if a.build_only: return 0
    from oceanguard.store import data_files
    days = sorted({Path(f).parent.name.split("=")[-1] for f in data_files(store)})
    queries = random_queries(2000, days)
    print(f"store: {store} ({len(data_files(store))} files, days {', '.join(days)})")
    compare_paths(store, queries[:200 if not a.quick else 60])
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    srv = subprocess.Popen([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())", "serve", str(store), "--host", "127.0.0.1", "--port", str(port),
                            "--workers", str(a.workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200: break
            except httpx.HTTPError: pass
            if srv.poll() is not None: raise SystemExit(f"server exited: {srv.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        asyncio.run(load(base, queries[:50], a.clients, 2.0))               # warm-up (each worker opens its dataset)
        lat, errors, wall = asyncio.run(load(base, queries, a.clients, a.seconds or (10 if a.quick else 30)))
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        rps = len(lat) / wall
        print(f"HTTP, {a.workers} worker(s), {a.clients} clients, {len(lat):,} requests in {wall:.1f} s, {errors} errors")
        print(f"  latency p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms;  {rps:.0f} requests/s")
        print(f"  target p95 <= 100 ms: {'met' if p95 <= 100 else 'MISSED'};  >= 200 requests/s: {'met' if rps >= 200 else 'MISSED'}")
    finally:
        srv.terminate(); srv.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
