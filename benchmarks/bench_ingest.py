"""Ingest throughput (rows/s) and peak memory (RSS) of `oceanguard ingest` on seeded synthetic AIS written as
DMA CSV, NOAA MarineCadastre CSV and NMEA 0183 (tag-block timestamps, payloads encoded with pyais's encoder).

Each ingest runs in its own Python process so that its peak RSS (`resource.getrusage`, like `/usr/bin/time -v`)
is its own; the baseline RSS of a process that only imports oceanguard is printed beside it, and so is the
time of a second, idempotent ingest of the same file (hash only).

Then, on the first `--realday` rows of the shared real day (NOAA MarineCadastre 2020-01-01, `datasets/`), side by side in
one run: the whole `oceanguard ingest` process against a whole process doing pyarrow's `csv.read_csv` + `parquet.write_table`
of the same file, and the ingest's time split into reading+cleaning, the store's writing (duplicate check, sort, Parquet
files, Delta commits) and the derived catalogue.

Run: .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--quick] [--formats dma,noaa,nmea] [--chunksize N]
                                                 [--realday 1000000] [--repeat 1]
"""
import argparse
import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--rows", type=int, default=1_000_000, help="position rows per format (default 1,000,000)")
ap.add_argument("--quick", action="store_true", help="50,000 rows, for a smoke run")
ap.add_argument("--formats", default="dma,noaa,nmea", help="comma-separated subset of dma,noaa,nmea")
ap.add_argument("--chunksize", type=int, default=200_000, help="ingest chunk size (rows)")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--realday", type=int, default=None, help="rows of the real day for the ingest vs pyarrow comparison (default 1,000,000; 100,000 with --quick; 0: skip)")
ap.add_argument("--repeat", type=int, default=1, help="runs of each real-day measurement (the fastest is kept)")
args = ap.parse_args()
N = 50_000 if args.quick else args.rows
if args.realday is None: args.realday = 100_000 if args.quick else 1_000_000

def fleet(n: int, seed: int) -> pd.DataFrame:
    "n position rows: vessels on straight legs in Danish waters, 10 s reports, starting over two days (vectorised)."
    rng = np.random.default_rng(seed)
    nv = max(1, n // 500)
    per = np.full(nv, n // nv); per[: n - per.sum()] += 1
    v = np.repeat(np.arange(nv), per)
    k = np.arange(n) - np.repeat(np.cumsum(per) - per, per)             # report index within the vessel
    start = pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 2 * 86_400, nv), "s")
    sog, hdg = rng.uniform(4, 20, nv), rng.uniform(0, 360, nv)
    lat0, lon0 = rng.uniform(54.6, 57.6, nv), rng.uniform(8.2, 12.8, nv)
    d_m = sog[v] * 0.514444 * 10 * k
    lat = lat0[v] + d_m * np.cos(np.radians(hdg[v])) / 111_195 + rng.normal(0, 2e-5, n)
    lon = lon0[v] + d_m * np.sin(np.radians(hdg[v])) / (111_195 * np.cos(np.radians(lat0[v]))) + rng.normal(0, 2e-5, n)
    return pd.DataFrame({"mmsi": 219_000_000 + v * 7 % 999_999, "vessel": v, "t": start[v] + pd.to_timedelta(10 * k, "s"),
                         "lat": lat.round(6), "lon": lon.round(6), "sog": (sog[v] + rng.normal(0, 0.2, n)).clip(0, 40).round(1),
                         "cog": hdg[v].round(1), "heading": np.round(hdg[v]).astype(int) % 360, "status": 0,
                         "name": "BENCH " + pd.Series(v).astype(str), "ship_type": np.array([30, 52, 60, 70, 80])[v % 5]})

def write_dma(df: pd.DataFrame, path: Path):
    out = pd.DataFrame({"# Timestamp": df.t.dt.strftime("%d/%m/%Y %H:%M:%S"), "Type of mobile": "Class A", "MMSI": df.mmsi,
                        "Latitude": df.lat, "Longitude": df.lon, "Navigational status": "Under way using engine", "ROT": 0.0,
                        "SOG": df.sog, "COG": df.cog, "Heading": df.heading, "IMO": "Unknown", "Callsign": "OXBN", "Name": df.name,
                        "Ship type": df.ship_type.map({30: "Fishing", 52: "Tug", 60: "Passenger", 70: "Cargo", 80: "Tanker"}),
                        "Cargo type": "", "Width": 12, "Length": 80, "Type of position fixing device": "GPS", "Draught": 5.1,
                        "Destination": "AARHUS", "ETA": "", "Data source type": "AIS", "A": 60, "B": 20, "C": 6, "D": 6})
    out.to_csv(path, index=False)

def write_noaa(df: pd.DataFrame, path: Path):
    out = pd.DataFrame({"MMSI": df.mmsi, "BaseDateTime": df.t.dt.strftime("%Y-%m-%dT%H:%M:%S"), "LAT": df.lat, "LON": df.lon,
                        "SOG": df.sog, "COG": df.cog, "Heading": df.heading, "VesselName": df.name, "IMO": "", "CallSign": "WDB1234",
                        "VesselType": df.ship_type, "Status": df.status, "Length": 80, "Width": 12, "Draft": 5.1, "Cargo": 70,
                        "TransceiverClass": "A"})
    out.to_csv(path, index=False)

@functools.lru_cache(maxsize=None)
def _tag(epoch: int) -> str:
    body = f"c:{epoch}"
    cs = 0
    for ch in body.encode(): cs ^= ch
    return f"\\{body}*{cs:02X}\\"

def write_nmea(df: pd.DataFrame, path: Path):
    "One type 1 report per row (pyais encoder), each with an IEC 62320 tag block carrying its Unix time."
    from pyais.encode import encode_dict
    epoch = (df.t - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta("1s")
    cols = zip(df.mmsi.tolist(), df.lat.tolist(), df.lon.tolist(), df.sog.tolist(), df.cog.tolist(), df.heading.tolist(), epoch.tolist())
    with open(path, "w") as f:
        for mmsi, la, lo, sog, cog, hd, ep in cols:
            (s,) = encode_dict({"type": 1, "mmsi": mmsi, "status": 0, "lat": la, "lon": lo, "speed": sog, "course": cog,
                                "heading": hd, "second": ep % 60}, talker_id="AI", sentence_type="VDM", radio_channel="A")
            f.write(_tag(ep) + s + "\n")

WRITERS = {"dma": (write_dma, "csv"), "noaa": (write_noaa, "csv"), "nmea": (write_nmea, "nmea")}

MEASURE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from oceanguard.store import ingest
if sys.argv[1] == "-": print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})); sys.exit()
t1 = time.perf_counter()
r = ingest([sys.argv[1]], sys.argv[2], progress=False, chunksize=int(sys.argv[3]))
t2 = time.perf_counter()
r2 = ingest([sys.argv[1]], sys.argv[2], progress=False, chunksize=int(sys.argv[3]))
t3 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "again_seconds": t3 - t2, "again_added": r2.total("accepted"), "reconciled": r.reconciled,
                  **{k: r.total(k) for k in ["n_input", "accepted", "quarantined", "duplicates", "other"]},
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

def measure(*argv) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *map(str, argv)], capture_output=True, text=True)
    if out.returncode: sys.exit(f"bench_ingest: ingest failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])

REALDAY = Path(__file__).resolve().parents[1] / "datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz"

PHASES = r"""
import json, sys, time
import oceanguard.store as S
T = {}
def timed(name, key):
    f = getattr(S, name)
    def g(*a, **k):
        t = time.perf_counter(); r = f(*a, **k); T[key] = T.get(key, 0) + time.perf_counter() - t; return r
    setattr(S, name, g)
timed("_read_file", "read_clean_s"); timed("_commit_file", "store_write_s"); timed("load_objects", "catalogue_s")
t = time.perf_counter()
r = S.ingest([sys.argv[1]], sys.argv[2], progress=False)
print(json.dumps({"ingest_s": time.perf_counter() - t, **T, "accepted": r.total("accepted")}))
"""

def realday(n: int, d: Path, repeat: int) -> dict:
    "Whole-process `oceanguard ingest` of the first n rows of the real day vs pyarrow read_csv + write_table of the same file."
    import gzip, itertools, os, resource
    src = d / f"realday_{n}.csv"
    with gzip.open(REALDAY, "rt") as f, open(src, "w") as out:
        out.writelines(itertools.islice(f, n + 1))
    exe = Path(sys.executable).parent / "oceanguard"
    og = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]
    pa_code = ("import sys, pyarrow.csv as c, pyarrow.parquet as pq; pq.write_table(c.read_csv(sys.argv[1]), sys.argv[2])")
    def wall(cmd, clean) -> float:
        best = float("inf")
        for _ in range(repeat):
            clean()
            t = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True); w = time.perf_counter() - t
            if r.returncode: sys.exit(f"bench_ingest: {' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
            best = min(best, w)
        return best
    import shutil
    store = d / "realday_store"
    t_og = wall(og + ["ingest", str(src), "--out", str(store), "--quiet"], lambda: shutil.rmtree(store, ignore_errors=True))
    rss_og = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t_pa = wall([sys.executable, "-c", pa_code, str(src), str(d / "realday.parquet")], lambda: None)
    shutil.rmtree(store, ignore_errors=True)
    ph = subprocess.run([sys.executable, "-c", PHASES, str(src), str(store)], capture_output=True, text=True)
    if ph.returncode: sys.exit(f"bench_ingest: phases failed:\n{ph.stderr[-2000:]}")
    ph = json.loads(ph.stdout.strip().splitlines()[-1])
    size = sum(f.stat().st_size for f in (store / "positions").rglob("*.parquet"))
    return {"rows": n, "csv_MB": src.stat().st_size / 2**20, "oceanguard_ingest_s": t_og, "pyarrow_read_write_s": t_pa,
            "ratio": t_og / t_pa, "peak_RSS_MB": rss_og, "store_MB": size / 2**20,
            "pyarrow_parquet_MB": (d / "realday.parquet").stat().st_size / 2**20, **ph}

formats = [f.strip() for f in args.formats.split(",") if f.strip()]
bad = [f for f in formats if f not in WRITERS]
if bad: sys.exit(f"bench_ingest: unknown format(s) {bad} (choose from dma, noaa, nmea)")
base = measure("-")["maxrss_mb"]
print(f"rows per format: {N:,}   chunksize: {args.chunksize:,}   seed: {args.seed}   baseline RSS (imports only): {base:.0f} MB")
df = fleet(N, args.seed)
rows = []
with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    for fmt in formats:
        write, ext = WRITERS[fmt]
        path = d / f"bench_{fmt}.{ext}"
        t0 = time.perf_counter(); write(df, path); t_gen = time.perf_counter() - t0
        m = measure(path, d / f"store_{fmt}", args.chunksize)
        rows.append({"format": fmt, "file_MB": path.stat().st_size / 2**20, "write_s": t_gen, "ingest_s": m["seconds"],
                     "rows_per_s": m["n_input"] / m["seconds"], "peak_RSS_MB": m["maxrss_mb"], "RSS_over_base_MB": m["maxrss_mb"] - base,
                     "accepted": m["accepted"], "quarantined": m["quarantined"], "duplicates": m["duplicates"],
                     "reconciled": m["reconciled"], "reingest_s": m["again_seconds"], "reingest_added": m["again_added"]})
        r = rows[-1]
        print(f"{fmt:5s} {r['file_MB']:7.1f} MB written in {r['write_s']:6.1f} s | ingest {r['ingest_s']:6.1f} s = {r['rows_per_s']:9,.0f} rows/s"
              f" | peak RSS {r['peak_RSS_MB']:6.0f} MB (+{r['RSS_over_base_MB']:.0f}) | accepted {r['accepted']:,} reconciled={r['reconciled']}"
              f" | re-ingest {r['reingest_s']:.2f} s adds {r['reingest_added']}", flush=True)
t = pd.DataFrame(rows)
if len(t):
    print()
    print(t.to_string(index=False, float_format=lambda x: f"{x:,.1f}"))
if len(t) > 1:
    fastest = t.rows_per_s.max()
    print("throughput relative to the fastest format: " + ", ".join(f"{f} {v / fastest:.2f}" for f, v in zip(t.format, t.rows_per_s)))

if args.realday:
    with tempfile.TemporaryDirectory() as d:
        r = realday(args.realday, Path(d), args.repeat)
    print()
    print(f"real day, first {r['rows']:,} rows ({r['csv_MB']:.0f} MB CSV), whole processes, best of {args.repeat}:")
    print(f"  oceanguard ingest             {r['oceanguard_ingest_s']:6.2f} s   (peak RSS {r['peak_RSS_MB']:.0f} MB, store {r['store_MB']:.1f} MB)")
    print(f"  pyarrow read_csv+write_table  {r['pyarrow_read_write_s']:6.2f} s   (Parquet {r['pyarrow_parquet_MB']:.1f} MB)")
    print(f"  ratio                         {r['ratio']:6.2f} x")
    print(f"  inside the ingest ({r['ingest_s']:.2f} s in-process): read+clean {r['read_clean_s']:.2f} s, "
          f"store write (duplicates, sort, Parquet, Delta commits) {r['store_write_s']:.2f} s, catalogue {r['catalogue_s']:.2f} s")
