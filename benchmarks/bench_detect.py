"""Benchmark: features + all rule detectors, and `oceanguard detect` as a whole process.

1. In process: `add_features` + `detect` (all eight rules) on N synthetic positions (a seeded
   synthetic fleet, tiled with new identities and shifted in time to reach N), in file (time) order
   and again already sorted by object -> rows/s, rows per CPU-second, peak RSS. Each is timed on its
   first call (fresh memory: page faults included) and as the median of 3 repeats (steady state).
2. The movingpandas way on a subset (TrajectoryCollection, add_speed, add_direction, add_acceleration, ObservationGapSplitter for
   gaps, TrajectoryStopDetector for slow stays), median of 3 runs -> rows/s, peak RSS, and the ratio (median to median).
3. `oceanguard detect` on the same N positions written as one NOAA-layout CSV, as a whole process
   (read, clean, features, rules, write) -> wall time, CPU-seconds and peak RSS.

Every measurement runs in its own subprocess so its peak memory (ru_maxrss) is its own.
Targets: >= 1M positions/s for features + rules; a 1M-row CSV within 10 s and 2 GB; 10M within 60 s and 4 GB.

    .venv/bin/python benchmarks/bench_detect.py            # 1M positions, movingpandas on 20k
    .venv/bin/python benchmarks/bench_detect.py --quick    # 100k positions, movingpandas on 5k
    .venv/bin/python benchmarks/bench_detect.py --big      # 10M positions (CSV run too)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "results"


def make_fleet(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    "N positions: one seeded synthetic fleet (24 h, 10 s reporting) tiled with new MMSIs, each copy a day later."
    from oceanguard.synthetic import synthesize_fleet
    base, st = synthesize_fleet(n_vessels=60, hours=24, seed=seed)
    k = int(np.ceil(n / len(base)))
    parts, stats = [], []
    for i in range(k):
        p = base.copy(); s = st.copy()
        p["mmsi"] = p["mmsi"] + i * 97; s["mmsi"] = s["mmsi"] + i * 97
        p["object_id"] = "mmsi:" + p["mmsi"].astype("string"); s["object_id"] = "mmsi:" + s["mmsi"].astype("string")
        p["timestamp"] = p["timestamp"] + pd.Timedelta(days=i); s["timestamp"] = s["timestamp"] + pd.Timedelta(days=i)
        parts.append(p); stats.append(s)
    pos = pd.concat(parts, ignore_index=True).iloc[:n].copy()
    pos["raw_line"] = pd.array(np.arange(1, len(pos) + 1), dtype="Int64")
    stat = pd.concat(stats, ignore_index=True)
    return pos, stat[stat.object_id.isin(set(pos.object_id))].reset_index(drop=True)


def data_files(n: int) -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    pq, sq = OUT / f"detect_{n}.parquet", OUT / f"detect_{n}.statics.parquet"
    if not pq.exists():
        pos, st = make_fleet(n)
        pos.to_parquet(pq, index=False); st.to_parquet(sq, index=False)
    return pq, sq


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _runs(fn, reps: int) -> list[tuple[float, float]]:
    "(wall s, CPU s) of `fn()` for a first call and `reps` repeats."
    out = []
    for _ in range(reps + 1):
        c0, t0 = time.process_time(), time.perf_counter(); fn(); out.append((time.perf_counter() - t0, time.process_time() - c0))
    return out


def run_inproc(pq: str, sq: str, reps: int = 3) -> dict:
    "features + rules on the positions in file (time) order and again sorted by object: first call and median of `reps` repeats."
    from oceanguard.catalogue import build_catalogue
    from oceanguard.cleaning import sort_positions
    from oceanguard.detect import detect
    from oceanguard.features import add_features
    pos, st = pd.read_parquet(pq), pd.read_parquet(sq)
    objects = build_catalogue(pos, st)
    detect(add_features(pos.iloc[:2000]), objects=objects, statics=st)          # warm-up: imports, port index, caches
    base = _maxrss_mb()
    c0, t0 = time.process_time(), time.perf_counter(); feats = add_features(pos); c1, t1 = time.process_time(), time.perf_counter()
    an = detect(feats, objects=objects, statics=st); c2, t2 = time.process_time(), time.perf_counter()
    res = {"n": len(pos), "features_s": t1 - t0, "rules_s": t2 - t1, "features_cpu": c1 - c0, "rules_cpu": c2 - c1,
           "peak_mb": _maxrss_mb(), "input_mb": base, "anomalies": an.kind.value_counts().to_dict()}
    del feats, an
    rep = _runs(lambda: detect(add_features(pos), objects=objects, statics=st), reps)[1:]
    res |= {"file_med_s": float(np.median([w for w, _ in rep])), "file_med_cpu": float(np.median([c for _, c in rep]))}
    pos = sort_positions(pos)                        # as `oceanguard detect` and the store hand them over
    runs = _runs(lambda: detect(add_features(pos), objects=objects, statics=st), reps)
    res |= {"sorted_first_s": runs[0][0], "sorted_med_s": float(np.median([w for w, _ in runs[1:]])),
            "sorted_med_cpu": float(np.median([c for _, c in runs[1:]]))}
    return res


def run_mpd(pq: str, n: int, reps: int = 3) -> dict:
    "The movingpandas way on the first `n` positions (whole vessels): median of `reps` runs."
    import warnings
    from datetime import timedelta
    warnings.filterwarnings("ignore")
    import geopandas as gpd
    import movingpandas as mpd
    pos = pd.read_parquet(pq)
    ids = pos.object_id.drop_duplicates().to_numpy()
    sub = pos[pos.object_id.isin(ids[: max(1, int(len(ids) * n / len(pos)))])].head(n)
    sub = sub.assign(t=sub.timestamp.dt.tz_localize(None))
    base = _maxrss_mb()

    found = {}

    def once():
        gdf = gpd.GeoDataFrame(sub, geometry=gpd.points_from_xy(sub.lon, sub.lat), crs="EPSG:4326")
        tc = mpd.TrajectoryCollection(gdf, "object_id", t="t")
        tc.add_speed(units=("nm", "h")); tc.add_direction(); tc.add_acceleration(units=("nm", "h", "s"))
        gaps = mpd.ObservationGapSplitter(tc).split(gap=timedelta(hours=12))
        stops = mpd.TrajectoryStopDetector(tc).get_stop_segments(min_duration=timedelta(hours=4), max_diameter=2000)
        found.update(gaps_split=len(gaps.trajectories), stops=len(stops.trajectories))
    runs = _runs(once, reps - 1)
    return {"n": len(sub), "mpd_s": float(np.median([w for w, _ in runs])), "mpd_cpu": float(np.median([c for _, c in runs])),
            "mpd_all_s": [w for w, _ in runs], "peak_mb": _maxrss_mb(), "input_mb": base, **found}


def run_cli(csv: Path, out: Path) -> dict:
    "Run `oceanguard detect CSV` in a child process; wall time and the child's peak RSS."
    code = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': r.returncode, 'wall_s': time.perf_counter() - t, "
            "'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "'cpu_s': resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime, 'out': r.stdout, 'err': r.stderr[-500:]}))")
    cmd = [sys.executable, "-c", code, sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())",
           "detect", str(csv), "--out", str(out), "--no-model"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def child(mode: str, *args) -> dict:
    r = subprocess.run([sys.executable, __file__, "--_child", mode, *map(str, args)], capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"{mode} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k positions, movingpandas on 5k")
    ap.add_argument("--big", action="store_true", help="10M positions")
    ap.add_argument("-n", type=int, help="positions (overrides --quick/--big)")
    ap.add_argument("--mpd-n", type=int, help="movingpandas subset size")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process CSV run")
    ap.add_argument("--cli-only", action="store_true", help="only the whole-process CSV run")
    ap.add_argument("--_child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._child:
        mode, *rest = a._child
        res = run_inproc(*rest) if mode == "inproc" else run_mpd(rest[0], int(rest[1]))
        print(json.dumps(res, default=str)); return
    n = a.n or (100_000 if a.quick else 10_000_000 if a.big else 1_000_000)
    mpd_n = a.mpd_n or (5_000 if a.quick else 20_000)
    t = time.perf_counter()
    pq, sq = data_files(n)
    print(f"data: {n:,} synthetic positions ({pq.name}, made/cached in {time.perf_counter() - t:.1f} s)")

    if a.cli_only: return cli_part(n, pq, sq)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared: wall-clock rates shrink with load, per-CPU-second rates do not)")
    r = child("inproc", pq, sq)
    n = r["n"]
    tot, cpu = r["features_s"] + r["rules_s"], r["features_cpu"] + r["rules_cpu"]
    print(f"oceanguard features+rules, {n:,} rows in file (time) order:")
    print(f"  first call: features {r['features_s']:.2f} s ({r['features_cpu']:.2f} CPU-s), rules {r['rules_s']:.2f} s "
          f"({r['rules_cpu']:.2f} CPU-s) -> {n / tot:,.0f} rows/s; peak RSS {r['peak_mb']:,.0f} MB (input loaded: {r['input_mb']:,.0f} MB)")
    print(f"  median of 3 repeats: {r['file_med_s']:.2f} s ({r['file_med_cpu']:.2f} CPU-s) -> {n / r['file_med_s']:,.0f} rows/s, "
          f"{n / r['file_med_cpu']:,.0f} rows per CPU-second")
    print(f"  anomalies: {r['anomalies']}")
    print(f"  input already sorted by object and time (as the detect CLI and the store give it): first call {r['sorted_first_s']:.2f} s, "
          f"median {r['sorted_med_s']:.2f} s ({r['sorted_med_cpu']:.2f} CPU-s) -> {n / r['sorted_med_s']:,.0f} rows/s")
    m = child("mpd", pq, mpd_n)
    mrate, mcrate = m["n"] / m["mpd_s"], m["n"] / m["mpd_cpu"]
    print(f"movingpandas (speed, direction, acceleration, gap split, stop detector): {m['n']:,} rows, median of "
          f"{' / '.join(f'{x:.1f}' for x in m['mpd_all_s'])} s = {m['mpd_s']:.2f} s  -> {mrate:,.0f} rows/s, "
          f"{mcrate:,.0f} rows per CPU-second; peak RSS {m['peak_mb']:,.0f} MB")
    first, med, srt = n / tot, n / r["file_med_s"], n / r["sorted_med_s"]
    print(f"ratio to movingpandas (oceanguard runs features + 8 rules, movingpandas features + 2 steps), rows/s: file order "
          f"{first / mrate:,.0f}x first call, {med / mrate:,.0f}x median; sorted {srt / mrate:,.0f}x median; "
          f"per CPU-second (file order, median) {n / r['file_med_cpu'] / mcrate:,.0f}x")
    ok = lambda x: "PASS" if x else "MISS"
    print(f"target >= 1M rows/s features+rules: file order {ok(med >= 1e6)} ({med / 1e6:.2f}M/s median, {first / 1e6:.2f}M/s first call); "
          f"sorted {ok(srt >= 1e6)} ({srt / 1e6:.2f}M/s median)")
    print(f"target >= 1000x movingpandas: {ok(med / mrate >= 1000)} ({med / mrate:,.0f}x file order, median)")

    if not a.no_cli: cli_part(n, pq, sq)


def cli_part(n: int, pq: Path, sq: Path):
    if True:
        csv = OUT / f"detect_{n}.csv"
        if not csv.exists():
            from oceanguard.synthetic import write_fleet
            t = time.perf_counter(); write_fleet(pd.read_parquet(pq), pd.read_parquet(sq), csv)
            print(f"wrote {csv.name} ({csv.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.1f} s")
        c = run_cli(csv, OUT / f"anomalies_{n}.parquet")
        if c["rc"] != 0: print(f"oceanguard detect failed (exit {c['rc']}): {c['err']}")
        print(f"oceanguard detect CSV ({n:,} rows, load average {os.getloadavg()[0]:.1f}) as a whole process: "
              f"{c['wall_s']:.1f} s wall, {c['cpu_s']:.1f} CPU-s, peak RSS {c['peak_mb']:,.0f} MB")
        print("  " + c["out"].strip().replace("\n", "\n  "))
        lim_s, lim_mb = (60, 4096) if n >= 10_000_000 else (10, 2048)
        ok = c["rc"] == 0 and c["wall_s"] <= lim_s * n / (10_000_000 if n >= 10_000_000 else 1_000_000) and c["peak_mb"] <= lim_mb
        print(f"target {n:,} rows within {lim_s * n / (10_000_000 if n >= 10_000_000 else 1_000_000):.0f} s and {lim_mb} MB: "
              f"{'PASS' if ok else 'MISS'}")


if __name__ == "__main__":
    main()
