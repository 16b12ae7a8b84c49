"""`oceanguard detect STORE` in one process against `oceanguard detect STORE --dask local` (a LocalCluster of 2 worker
processes), both as whole processes on one store: wall time, CPU time (the command and its workers), and whether the
anomalies are equal in every column (content hash of the sorted frames).

The store is a synthetic fleet with injected anomalies (`bench_scale.build`), made once (kept with `--store DIR`).
The cluster's workers are separate processes: their memory is not in the command's peak RSS (printed for the command only).

    .venv/bin/python benchmarks/bench_cluster.py --quick          # ~500k positions
    .venv/bin/python benchmarks/bench_cluster.py --rows 2000000 --store /tmp/store2m
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import build  # noqa: E402

CLI = [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]


def run(argv: list[str]) -> dict:
    t = time.perf_counter(); r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(CLI + argv, capture_output=True, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode: sys.exit(f"failed: {' '.join(argv)}\n{p.stderr[-2000:]}")
    return {"wall_s": time.perf_counter() - t, "cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
            "out": p.stdout.strip().splitlines()[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~500k positions instead of ~2M")
    ap.add_argument("--rows", type=int, help="approximate store size")
    ap.add_argument("--store", help="store folder to build (if missing) and reuse")
    ap.add_argument("--partition-rows", default="250000")
    a = ap.parse_args()
    import pandas as pd
    from oceanguard.core import frame_hash
    rows = a.rows or (500_000 if a.quick else 2_000_000)
    tmp = tempfile.TemporaryDirectory()
    store = Path(a.store) if a.store else Path(tmp.name) / "store"
    if not (store / "positions").exists(): build(store, rows)
    out = Path(tmp.name)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    res = {"in memory": run(["detect", str(store), "--out", str(out / "mem.parquet"), "--no-model"]),
           "dask local (2 workers)": run(["detect", str(store), "--out", str(out / "dask.parquet"), "--no-model", "--dask", "local",
                                          "--partition-rows", a.partition_rows])}
    for name, r in res.items():
        print(f"  {name:<24} {r['wall_s']:6.1f} s wall, {r['cpu_s']:6.1f} CPU-s (the command and its worker processes)  | {r['out']}")
    sort = ["start", "object_id", "kind", "anomaly_id"]
    h = [frame_hash(pd.read_parquet(out / f).sort_values(sort, kind="stable").reset_index(drop=True)) for f in ("mem.parquet", "dask.parquet")]
    print(f"  same anomalies, every column: {h[0] == h[1]}; load average {os.getloadavg()[0]:.1f} at the end")
    sys.exit(0 if h[0] == h[1] else 1)


if __name__ == "__main__":
    main()
