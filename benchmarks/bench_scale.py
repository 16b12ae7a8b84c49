"""Peak memory and rows/s of `scale.detect_store` (dask, object partitions) against the in-memory `detect` on one store.

A synthetic fleet of ~5M positions (`--quick`: ~500k) with injected anomalies (two of each kind, so the encounter second
pass runs) is ingested into a store once (kept with `--store DIR`), then each engine runs in its own fresh process so its
peak RSS (VmHWM) is its own. Both must find the same anomalies, every column (content hash of the sorted frames).
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

def build(store: Path, rows: int, seed: int = 0):
    import numpy as np
    from oceanguard.injection import inject
    from oceanguard.synthetic import synthesize_fleet, write_fleet
    from oceanguard.store import ingest
    n_vessels = max(20, rows // 5_300)                          # ~5.3k reports per vessel-day at 10 s resampling
    t = time.perf_counter()
    pos, st = synthesize_fleet(n_vessels, hours=24, seed=seed)
    pos, _, st = inject(pos, n_per_kind=2, seed=seed, statics=st, return_statics=True)   # with the encounter partners' statics
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "fleet.csv"
        write_fleet(pos, st, csv)
        rep = ingest([csv], store, progress=False, now="2030-01-01")
    print(f"store: {rep.total('accepted'):,} positions of {n_vessels} vessels ingested in {time.perf_counter() - t:.0f} s -> {store}")

def peak_rss_mb() -> float:
    "This process's own peak RSS: VmHWM of its memory map. `ru_maxrss` is not: Linux carries the parent's peak over fork and exec."
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024
    except OSError: pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def run(engine: str, store: str, npartitions, scheduler: str) -> dict:
    from oceanguard.core import frame_hash
    from oceanguard.store import positions_dataset
    t0, c0 = time.perf_counter(), time.process_time()
    if engine == "memory":
        from oceanguard.detect import detect, load_inputs
        from oceanguard.features import features_from_params
        data = load_inputs([store])
        an = detect(features_from_params(data["positions"], {}), {}, objects=data["objects"], statics=data["statics"])
    else:
        from oceanguard.scale import detect_store
        an = detect_store(store, {}, scheduler=scheduler, npartitions=npartitions)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = peak_rss_mb()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"engine": engine, "rows": positions_dataset(store).count_rows(), "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mb": rss, "child_peak_rss_mb": kids, "ids": sorted(an["anomaly_id"].tolist()),
            "kinds": an["kind"].value_counts().sort_index().to_dict(),
            "hash": frame_hash(an.sort_values("anomaly_id").reset_index(drop=True))}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="~500k positions instead of ~5M")
    ap.add_argument("--rows", type=int, help="approximate store size (default 5M, quick 500k)")
    ap.add_argument("--store", help="store folder to build (if missing) and reuse")
    ap.add_argument("--npartitions", type=int, default=10, help="object partitions for dask (default 10: ~500k rows each at 5M)")
    ap.add_argument("--scheduler", default="threads", choices=["threads", "processes", "synchronous"])
    ap.add_argument("--run", choices=["memory", "dask"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run:
        print(json.dumps(run(a.run, a.store, a.npartitions, a.scheduler))); return
    rows = a.rows or (500_000 if a.quick else 5_000_000)
    tmp = None
    if a.store: store = Path(a.store)
    else: tmp = tempfile.TemporaryDirectory(); store = Path(tmp.name) / "store"
    if not (store / "positions").exists(): build(store, rows)
    res = {}
    for eng in ("dask", "memory"):
        cmd = [sys.executable, __file__, "--run", eng, "--store", str(store), "--scheduler", a.scheduler]
        cmd += ["--npartitions", str(a.npartitions)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode: sys.exit(f"{eng} failed:\n{out.stderr[-3000:]}")
        res[eng] = json.loads(out.stdout.strip().splitlines()[-1])
    m, d = res["memory"], res["dask"]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall-clock figures suffer when the box is shared)")
    print(f"{'engine':<28}{'rows':>11}{'wall s':>9}{'rows/s':>11}{'cpu s':>9}{'rows/cpu-s':>12}{'peak RSS MB':>13}")
    for name, r in (("in-memory detect", m), (f"detect_store {a.scheduler} x{a.npartitions}", d)):
        peak = max(r["peak_rss_mb"], r["child_peak_rss_mb"]) if a.scheduler == "processes" and r is d else r["peak_rss_mb"]
        r["peak"] = peak
        print(f"{name:<28}{r['rows']:>11,}{r['wall_s']:>9.1f}{r['rows'] / r['wall_s']:>11,.0f}{r['cpu_s']:>9.1f}"
              f"{r['rows'] / max(r['cpu_s'], 1e-9):>12,.0f}{peak:>13,.0f}")
    print(f"peak RSS dask / in-memory: {d['peak'] / m['peak']:.2f}; rows/s dask / in-memory: {m['wall_s'] / d['wall_s']:.2f}")
    same = m["ids"] == d["ids"] and m["hash"] == d["hash"]
    print(f"anomalies: in-memory {len(m['ids'])}, dask {len(d['ids'])} ({', '.join(f'{k} {v}' for k, v in d['kinds'].items())}); "
          f"same ids: {m['ids'] == d['ids']}, same every column: {m['hash'] == d['hash']}")
    if tmp: tmp.cleanup()
    sys.exit(0 if same else 1)

if __name__ == "__main__": main()
