"""Benchmark: oceanguard features + rules against a movingpandas pipeline (like for like), plus throughput.

1. Like for like, on two datasets: clean synthetic data (whole vessels of a seeded synthetic fleet) and messy
   real data (whole vessels from the start of the NOAA MarineCadastre day in `datasets/`, read with
   `oceanguard.readers.read_any(format="noaa")` and cleaned with `clean_positions`, as `oceanguard detect` does).
   Each dataset is cleaned once and written to one Parquet file; both sides load that same file, so they get
   the same rows in the same order. Each side: 1 warm-up call on the same rows, then median of 3 timed calls.
   - oceanguard: `add_features` + `detect` (all eight rules); catalogue and static history built beforehand (untimed).
   - movingpandas: GeoDataFrame, TrajectoryCollection, add_speed, add_direction, add_acceleration,
     ObservationGapSplitter (gaps), TrajectoryStopDetector (slow stays).
   -> rows/s, rows per CPU-second, peak RSS, load average, and the ratio (median to median, same rows only).
2. Throughput, oceanguard alone (no movingpandas, no ratio): `add_features` + `detect` on N synthetic
   positions (the fleet tiled with new identities, shifted in time), in file (time) order and sorted by object,
   first call and median of 3; and on about N real rows (whole vessels), 1 warm-up call then median of 3.
3. `oceanguard detect` on the N synthetic positions written as one NOAA-layout CSV, as a whole process
   (read, clean, features, rules, write) -> wall time, CPU-seconds and peak RSS.

Every measurement runs in its own subprocess so its peak memory (ru_maxrss) is its own. Figures go to
benchmarks/results/bench_detect[_quick|_big].json (gitignored) as well as stdout.
Targets: >= 1M positions/s for features + rules; a 1M-row CSV within 10 s and 2 GB; 10M within 60 s and 4 GB.

    .venv/bin/python benchmarks/bench_detect.py            # like for like on 20k rows; throughput on 1M
    .venv/bin/python benchmarks/bench_detect.py --quick    # like for like on 5k rows; throughput on 100k
    .venv/bin/python benchmarks/bench_detect.py --big      # throughput on 10M synthetic (real: the whole file, 5.5M)
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
REAL = ROOT.parent / "datasets" / "noaa-marinecadastre-2020-01-01" / "AIS_2020_01_01_named.csv.gz"
WARMUP, REPS = 1, 3
PROTOCOL = f"each side: {WARMUP} warm-up call on the same rows, then median of {REPS} timed calls"


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


def whole_vessels(ids: pd.Series, n: int) -> set:
    "Object ids in order of first appearance, each taken whole if it still fits within `n` rows (the smallest if none fits)."
    counts = ids.value_counts(sort=False).reindex(ids.drop_duplicates())
    keep, total = [], 0
    for oid, k in counts.items():
        if total + k <= n: keep.append(oid); total += k
        if total >= 0.98 * n: break
    return set(keep) or {counts.idxmin()}


def _clean(pos: pd.DataFrame, reports: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """clean_positions (sorted by object and time, duplicates and bad fixes out), as `oceanguard detect` does: with
    check=False like `detect.read_clean` (the real day has MMSIs above 999999999, which the contract check refuses)."""
    from oceanguard.cleaning import clean_positions
    c = clean_positions(pos, check=False)
    return c.positions, reports, c.counts


def _save(name: str, pos: pd.DataFrame, reports: pd.DataFrame | None, info: dict) -> tuple[Path, Path]:
    pq, sq = OUT / f"{name}.parquet", OUT / f"{name}.statics.parquet"
    pos.to_parquet(pq, index=False)
    (reports if reports is not None else pd.DataFrame({"object_id": pd.Series([], dtype="string")})).to_parquet(sq, index=False)
    (OUT / f"{name}.info.json").write_text(json.dumps(info, default=str))
    return pq, sq


def synthetic_rows(n: int) -> tuple[Path, Path, dict]:
    "Whole vessels of the seeded synthetic fleet (one day, 10 s reporting), about `n` rows, cleaned; cached."
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"like_synthetic_{n}"
    if (OUT / f"{name}.info.json").exists():
        return OUT / f"{name}.parquet", OUT / f"{name}.statics.parquet", json.loads((OUT / f"{name}.info.json").read_text())
    from oceanguard.synthetic import synthesize_fleet
    base, st = synthesize_fleet(n_vessels=60, hours=24, seed=0)
    ids = whole_vessels(base.object_id, n)
    sub = base[base.object_id.isin(ids)].copy()
    sub["raw_line"] = pd.array(np.arange(1, len(sub) + 1), dtype="Int64")
    pos, reports, counts = _clean(sub, st[st.object_id.isin(ids)].reset_index(drop=True))
    info = {"dataset": "synthetic", "vessels": len(ids), "rows_in": len(sub), "rows": len(pos), "clean": counts}
    return *_save(name, pos, reports, info), info


def real_rows(n: int) -> tuple[Path, Path, dict]:
    """Whole vessels from the start of the real NOAA day (sorted by MMSI then time), about `n` raw rows: read with
    pandas (gzip), written as a plain CSV, read with `read_any(format="noaa")`, cleaned with `clean_positions`; cached."""
    import tempfile
    from oceanguard.readers import read_any
    OUT.mkdir(parents=True, exist_ok=True)
    name = f"like_real_{n}"
    if (OUT / f"{name}.info.json").exists():
        return OUT / f"{name}.parquet", OUT / f"{name}.statics.parquet", json.loads((OUT / f"{name}.info.json").read_text())
    t = time.perf_counter()
    want = n + 5_000                                  # a vessel has at most ~1,300 reports a day
    raw = pd.read_csv(REAL, nrows=want, dtype=str, keep_default_na=False)   # text as published
    if len(raw) == want: raw = raw[raw.MMSI != raw.MMSI.iloc[-1]]             # the last vessel may be cut off
    ids = whole_vessels(raw.MMSI, n)
    raw = raw[raw.MMSI.isin(ids)]
    with tempfile.TemporaryDirectory() as d:          # read_any does not read .gz: a plain CSV slice
        csv = Path(d) / f"{REAL.name.removesuffix('.gz')}"
        raw.to_csv(csv, index=False)
        r = read_any(csv, format="noaa")
    pos, reports, counts = _clean(r.positions, r.statics if len(r.statics) else None)
    info = {"dataset": "real", "file": REAL.name, "vessels": len(ids), "rows_in": len(raw), "read_quarantined": len(r.quarantine),
            "rows": len(pos), "clean": counts, "prep_s": time.perf_counter() - t}
    return *_save(name, pos, reports, info), info


def _maxrss_mb() -> float:
    """This process's peak RSS in MB: VmHWM, which starts afresh at exec. (ru_maxrss does not: on Linux a child
    forked and exec'd from this bench starts from the bench's own RSS at fork, so it would read the parent's data.)"""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024
    except OSError: pass
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


def _protocol(fn) -> dict:
    "The like-for-like protocol: WARMUP untimed calls (their wall time kept for information), then REPS timed calls -> medians."
    load0 = os.getloadavg()[0]
    warm = _runs(fn, WARMUP - 1)                     # _runs makes 1 + reps calls
    runs = _runs(fn, REPS - 1)
    return {"warmup_s": [w for w, _ in warm], "all_s": [w for w, _ in runs], "all_cpu": [c for _, c in runs],
            "med_s": float(np.median([w for w, _ in runs])), "med_cpu": float(np.median([c for _, c in runs])),
            "load_start": load0, "load_end": os.getloadavg()[0]}


def run_like_og(pq: str, sq: str) -> dict:
    "oceanguard features + all rules on the rows in `pq` (cleaned, sorted), under the like-for-like protocol."
    from oceanguard.catalogue import build_catalogue, static_history
    from oceanguard.detect import detect
    from oceanguard.features import add_features
    pos, reports = pd.read_parquet(pq), pd.read_parquet(sq)
    reports = reports if len(reports) else None
    objects = build_catalogue(pos, reports)          # as `oceanguard detect` does, before features and rules (untimed)
    statics = static_history(reports) if reports is not None else None
    base = _maxrss_mb()
    found = {}
    def once():
        an = detect(add_features(pos), objects=objects, statics=statics)
        found.update(an.kind.value_counts().to_dict())
    r = _protocol(once)
    return {"n": len(pos), **r, "peak_mb": _maxrss_mb(), "input_mb": base, "anomalies": found}


def run_like_mpd(pq: str) -> dict:
    "The movingpandas way on the rows in `pq` (the same file oceanguard gets), under the like-for-like protocol."
    import warnings
    from datetime import timedelta
    warnings.filterwarnings("ignore")
    import geopandas as gpd
    import movingpandas as mpd
    pos = pd.read_parquet(pq)
    sub = pos.assign(t=pos.timestamp.dt.tz_localize(None))   # the same frame; movingpandas wants naive times
    base = _maxrss_mb()
    found = {}

    def once():
        gdf = gpd.GeoDataFrame(sub, geometry=gpd.points_from_xy(sub.lon, sub.lat), crs="EPSG:4326")
        tc = mpd.TrajectoryCollection(gdf, "object_id", t="t")
        tc.add_speed(units=("nm", "h")); tc.add_direction(); tc.add_acceleration(units=("nm", "h", "s"))
        gaps = mpd.ObservationGapSplitter(tc).split(gap=timedelta(hours=12))
        stops = mpd.TrajectoryStopDetector(tc).get_stop_segments(min_duration=timedelta(hours=4), max_diameter=2000)
        found.update(trajectories=len(tc.trajectories), gaps_split=len(gaps.trajectories), stops=len(stops.trajectories))
    r = _protocol(once)
    return {"n": len(pos), **r, "peak_mb": _maxrss_mb(), "input_mb": base, **found}


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


def _load(r: dict) -> str:
    return f"load average {r['load_start']:.1f} -> {r['load_end']:.1f}"


def like_for_like(label: str, pq: Path, sq: Path, info: dict) -> dict:
    "Both sides on the same rows, same protocol; print and return their figures and the ratio."
    cl = info["clean"]
    extra = (f", {info['read_quarantined']:,} quarantined by the reader" if "read_quarantined" in info else "")
    print(f"\n[{label}] like for like: {info['rows']:,} rows, {info['vessels']} whole vessels "
          f"({info['rows_in']:,} rows in{extra}; clean_positions: {cl['quarantined']:,} quarantined, {cl['duplicates']:,} duplicates), "
          f"sorted by object and time; both sides load the same file {pq.name}")
    print(f"  protocol: {PROTOCOL}")
    o, m = child("like_og", pq, sq), child("like_mpd", pq)
    assert o["n"] == m["n"] == info["rows"], (o["n"], m["n"], info["rows"])
    n = o["n"]
    for name, r, what in (("oceanguard  ", o, "features + 8 rules"), ("movingpandas", m, "speed, direction, acceleration, gap split, stop detector")):
        print(f"  {name} ({what}): warm-up {r['warmup_s'][0]:.3f} s, timed {' / '.join(f'{x:.3f}' for x in r['all_s'])} s, "
              f"median {r['med_s']:.3f} s ({r['med_cpu']:.3f} CPU-s) -> {n / r['med_s']:,.0f} rows/s, {n / r['med_cpu']:,.0f} rows per CPU-second; "
              f"peak RSS {r['peak_mb']:,.0f} MB (input and imports: {r['input_mb']:,.0f} MB); {_load(r)}")
    print(f"  oceanguard found {o['anomalies']}; movingpandas found {m['trajectories']} trajectories, "
          f"{m['gaps_split']} after gap split, {m['stops']} stops")
    ratio, cratio = m["med_s"] / o["med_s"], m["med_cpu"] / o["med_cpu"]
    print(f"  ratio oceanguard / movingpandas, same {n:,} rows, median to median: {ratio:,.1f}x rows/s, {cratio:,.1f}x rows per CPU-second "
          f"(oceanguard does more: 8 rules against movingpandas' 2 steps)")
    return {"data": info, "oceanguard": o, "movingpandas": m, "ratio_rows_per_s": ratio, "ratio_rows_per_cpu_s": cratio}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="like for like on 5k rows, throughput on 100k")
    ap.add_argument("--big", action="store_true", help="throughput on 10M positions")
    ap.add_argument("-n", type=int, help="throughput positions (overrides --quick/--big)")
    ap.add_argument("--like-n", "--mpd-n", dest="like_n", type=int, help="rows for the like-for-like comparison (both sides)")
    ap.add_argument("--no-real", action="store_true", help="skip the real NOAA data")
    ap.add_argument("--no-throughput", action="store_true", help="skip the oceanguard-alone throughput runs")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process CSV run")
    ap.add_argument("--cli-only", action="store_true", help="only the whole-process CSV run")
    ap.add_argument("--_child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._child:
        mode, *rest = a._child
        res = {"inproc": run_inproc, "like_og": run_like_og, "like_mpd": run_like_mpd}[mode](*rest)
        print(json.dumps(res, default=str)); return
    n = a.n or (100_000 if a.quick else 10_000_000 if a.big else 1_000_000)
    like_n = a.like_n or (5_000 if a.quick else 20_000)
    real = not a.no_real and REAL.exists()
    if not a.no_real and not real: print(f"real data not found ({REAL}): synthetic only")
    res_path = OUT / f"bench_detect{'_quick' if a.quick else '_big' if a.big else ''}.json"
    results = {"argv": sys.argv[1:], "cores": os.cpu_count(), "load_at_start": os.getloadavg(), "protocol": PROTOCOL}

    if a.cli_only:
        pq, sq = data_files(n)
        return cli_part(n, pq, sq)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared: wall-clock rates shrink "
          f"with load, per-CPU-second rates do not; each figure below carries the 1-min load average around it)")

    t = time.perf_counter(); pq, sq, info = synthetic_rows(like_n)
    print(f"data: synthetic like-for-like rows made/cached in {time.perf_counter() - t:.1f} s")
    results["synthetic"] = like_for_like("synthetic, clean", pq, sq, info)
    if real:
        t = time.perf_counter(); pq, sq, info = real_rows(like_n)
        print(f"data: real like-for-like rows (first vessels of {REAL.name}) read, cleaned/cached in {time.perf_counter() - t:.1f} s")
        results["real"] = like_for_like("real NOAA 2020-01-01, messy", pq, sq, info)
    ok = lambda x: "PASS" if x else "MISS"
    print(f"\ntarget >= 1000x movingpandas (like for like, rows/s, median): "
          + "; ".join(f"{k} {ok(results[k]['ratio_rows_per_s'] >= 1000)} ({results[k]['ratio_rows_per_s']:,.1f}x)" for k in ("synthetic", "real") if k in results))

    if not a.no_throughput:
        results["throughput"] = throughput(n, real)
    res_path.parent.mkdir(parents=True, exist_ok=True)
    res_path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures written to {res_path.relative_to(ROOT.parent)}")
    if not a.no_cli and not a.no_throughput: cli_part(n, *data_files(n))


def throughput(n: int, real: bool) -> dict:
    "oceanguard alone at size `n`: a throughput figure, never compared with movingpandas."
    out = {}
    print(f"\nthroughput, oceanguard alone (not compared with movingpandas; no ratio):")
    t = time.perf_counter(); pq, sq = data_files(n)
    print(f"  data: {n:,} synthetic positions ({pq.name}, made/cached in {time.perf_counter() - t:.1f} s)")
    load0 = os.getloadavg()[0]
    r = child("inproc", pq, sq)
    r["load_start"], r["load_end"] = load0, os.getloadavg()[0]
    out["synthetic"] = r
    n = r["n"]
    tot = r["features_s"] + r["rules_s"]
    print(f"  synthetic, {n:,} rows in file (time) order (warm-up: 1 call on the first 2,000 rows, then the first call on all rows, then median of 3); {_load(r)}:")
    print(f"    first call: features {r['features_s']:.2f} s ({r['features_cpu']:.2f} CPU-s), rules {r['rules_s']:.2f} s "
          f"({r['rules_cpu']:.2f} CPU-s) -> {n / tot:,.0f} rows/s; peak RSS {r['peak_mb']:,.0f} MB (input loaded: {r['input_mb']:,.0f} MB)")
    print(f"    median of 3 repeats: {r['file_med_s']:.2f} s ({r['file_med_cpu']:.2f} CPU-s) -> {n / r['file_med_s']:,.0f} rows/s, "
          f"{n / r['file_med_cpu']:,.0f} rows per CPU-second")
    print(f"    anomalies: {r['anomalies']}")
    print(f"    input already sorted by object and time (as the detect CLI and the store give it): first call {r['sorted_first_s']:.2f} s, "
          f"median {r['sorted_med_s']:.2f} s ({r['sorted_med_cpu']:.2f} CPU-s) -> {n / r['sorted_med_s']:,.0f} rows/s")
    first, med, srt = n / tot, n / r["file_med_s"], n / r["sorted_med_s"]
    ok = lambda x: "PASS" if x else "MISS"
    print(f"    target >= 1M rows/s features+rules: file order {ok(med >= 1e6)} ({med / 1e6:.2f}M/s median, {first / 1e6:.2f}M/s first call); "
          f"sorted {ok(srt >= 1e6)} ({srt / 1e6:.2f}M/s median)")
    if real:
        t = time.perf_counter(); pq, sq, info = real_rows(n)
        print(f"  data: real, {info['rows']:,} cleaned rows of {info['vessels']:,} whole vessels ({info['rows_in']:,} rows in), "
              f"read/cleaned/cached in {time.perf_counter() - t:.1f} s")
        r = child("like_og", pq, sq)
        out["real"] = {"data": info, **r}
        print(f"  real, {r['n']:,} rows sorted by object and time ({PROTOCOL.replace('each side', 'oceanguard')}); {_load(r)}: "
              f"warm-up {r['warmup_s'][0]:.2f} s, median {r['med_s']:.2f} s ({r['med_cpu']:.2f} CPU-s) -> {r['n'] / r['med_s']:,.0f} rows/s, "
              f"{r['n'] / r['med_cpu']:,.0f} rows per CPU-second; peak RSS {r['peak_mb']:,.0f} MB (input and imports: {r['input_mb']:,.0f} MB)")
        print(f"    anomalies: {r['anomalies']}")
    return out


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
