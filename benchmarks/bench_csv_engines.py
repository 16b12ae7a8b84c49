"""How near a columnar engine comes to pyarrow on the core of a CSV ingest: a measure for choosing the next reading path.

The file is `bench_csv_ingest.py`'s: the first N rows (`--rows`, default 1,000,000; 100,000 with `--quick`) of the real NOAA
day `datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz`, decompressed into a temporary CSV. Interleaved,
`--repeat` rounds (default 3) of fresh processes, the same file for all:

  (a) pyarrow `read_csv` + `parquet.write_table` (the issue's yardstick: no cleaning, no order);
  (p) Polars, the core of an ingest: every value read as text with its line number, casts, the rows without a time, a
      position in range or a 30-bit MMSI split off, AIS not-available sentinels nulled, rows equal in every field but the
      line dropped, the store's order (hour, object, time), zstd Parquet;
  (d) DuckDB, less of it: read, casts, range filters, the store's order, zstd Parquet (no line numbers, no duplicates);
  (x) pyarrow and NumPy alone, the core as (p): `read_csv` with the column types given (the parse and the casts in
      Arrow's threads), line numbers, Arrow compute for the quarantine split and the sentinels, objects as a dictionary,
      the store's order and the duplicates found as equal neighbours with NumPy, zstd Parquet: the floor of an
      Arrow-only path with no new dependency;
  (c) `oceanguard ingest` (all of it: statics, quarantine with its details, Delta commits, the catalogue).

(p), (d) and (x) are sketches of the core only, written for this NOAA file: they keep no statics and no quarantine
details, and are not checked row for row against oceanguard (the bench prints the rows each keeps). Polars is not a dependency: it is
installed with pip into the bench's own virtual environment under `benchmarks/.cache/engines-venv`; DuckDB is one
already. Median and best wall seconds and CPU seconds per side, the parallel capacity before and after
(`machine.py`). Results go to benchmarks/results/csv_engines.json.
Run: .venv/bin/python benchmarks/bench_csv_engines.py [--rows N] [--repeat 3] [--quick]
"""
import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_csv_ingest import PYARROW, ROOT, real_day_head, run  # noqa: E402  (the same file, the same yardstick)
from comparators import own_venv  # noqa: E402
from machine import parallel_capacity  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"

POLARS = """
import sys
import polars as pl
src, out = sys.argv[1], sys.argv[2]
d = pl.read_csv(src, infer_schema=False, row_index_name="raw_line", row_index_offset=2)
num = lambda c: pl.col(c).str.strip_chars().cast(pl.Float64, strict=False)
d = d.select(pl.col("MMSI").cast(pl.Int64, strict=False).alias("mmsi"),
             pl.col("BaseDateTime").str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_zone="UTC").alias("timestamp"),
             num("LAT").alias("lat"), num("LON").alias("lon"), num("SOG").alias("sog"), num("COG").alias("cog"),
             num("Heading").alias("heading"), pl.col("raw_line").cast(pl.Int64))
ok = (pl.col("timestamp").is_not_null() & pl.col("lat").is_between(-90, 90) & pl.col("lon").is_between(-180, 180)
      & pl.col("mmsi").is_between(0, (1 << 30) - 1))
d = d.with_columns(ok.fill_null(False).alias("ok"))
quarantined = d.filter(~pl.col("ok")).height
d = d.filter(pl.col("ok")).drop("ok")
off = lambda c, bad: pl.when(bad).then(None).otherwise(pl.col(c)).alias(c)
d = d.with_columns(off("sog", ((pl.col("sog") - 102.3).abs() < 1e-6) | (pl.col("sog") < 0)),
                   off("cog", (pl.col("cog") >= 360) | (pl.col("cog") < 0)),
                   off("heading", (pl.col("heading") >= 360) | (pl.col("heading") < 0)),
                   ("mmsi:" + pl.col("mmsi").cast(pl.Utf8)).alias("object_id"),
                   pl.lit("noaa").alias("source"), pl.lit("vessel").alias("object_type"))
d = d.unique(subset=[c for c in d.columns if c != "raw_line"], keep="first", maintain_order=True)
d = d.sort([pl.col("timestamp").dt.truncate("1h"), "object_id", "timestamp"])
d.write_parquet(out, compression="zstd", row_group_size=1_000_000)
print(d.height, quarantined)
"""

ARROW = """
import sys
import numpy as np, pyarrow as pa, pyarrow.csv as csv, pyarrow.compute as pc, pyarrow.parquet as pq
src, out = sys.argv[1], sys.argv[2]
f64 = pa.float64()
types = {"MMSI": pa.int64(), "BaseDateTime": pa.timestamp("ns"), "LAT": f64, "LON": f64, "SOG": f64, "COG": f64,
         "Heading": f64, "VesselName": pa.string(), "IMO": pa.string(), "CallSign": pa.string(), "VesselType": f64}
t = csv.read_csv(src, convert_options=csv.ConvertOptions(column_types=types))
t = t.append_column("raw_line", pa.array(np.arange(2, t.num_rows + 2)))
m, lat, lon = t["MMSI"], t["LAT"], t["LON"]
ok = pc.fill_null(pc.and_(pc.and_(pc.is_valid(t["BaseDateTime"]), pc.and_(pc.greater_equal(lat, -90), pc.less_equal(lat, 90))),
                          pc.and_(pc.and_(pc.greater_equal(lon, -180), pc.less_equal(lon, 180)),
                                  pc.and_(pc.greater_equal(m, 0), pc.less_equal(m, (1 << 30) - 1)))), False)
quarantined = t.num_rows - pc.sum(ok).as_py()
t = t.filter(ok)
off = lambda c, bad: pc.if_else(pc.fill_null(bad, False), pa.scalar(None, f64), c)
sog, cog, hd = t["SOG"], t["COG"], t["Heading"]
sog = off(sog, pc.or_(pc.less(pc.abs(pc.subtract(sog, 102.3)), 1e-6), pc.less(sog, 0)))
cog = off(cog, pc.or_(pc.greater_equal(cog, 360), pc.less(cog, 0)))
hd = off(hd, pc.or_(pc.greater_equal(hd, 360), pc.less(hd, 0)))
n = t.num_rows
u, inv = np.unique(t["MMSI"].to_numpy(), return_inverse=True)
objects = pc.binary_join_element_wise("mmsi:", pc.cast(pa.array(u), pa.string()), "")
pos = pa.table({"source": pa.DictionaryArray.from_arrays(np.zeros(n, np.int8), ["noaa"]),
                "object_id": pa.DictionaryArray.from_arrays(inv.astype(np.int32), objects),
                "mmsi": t["MMSI"], "timestamp": pc.assume_timezone(t["BaseDateTime"], "UTC"),
                "lat": t["LAT"], "lon": t["LON"], "sog": sog, "cog": cog, "heading": hd, "raw_line": t["raw_line"]})
ts = pc.cast(t["BaseDateTime"], pa.int64()).to_numpy()
mix = np.zeros(n, np.uint64)                    # the other fields folded into one key: equal rows end up side by side
for c in (pos["lat"], pos["lon"], sog, cog, hd):
    mix = (mix * np.uint64(0x9E3779B97F4A7C15)) ^ np.nan_to_num(c.to_numpy(zero_copy_only=False), nan=-1.0).view(np.uint64)
order = np.argsort(mix, kind="stable")
order = order[np.argsort(ts[order], kind="stable")]
key = ((ts // 3_600_000_000_000 - ts.min() // 3_600_000_000_000) << 32) | inv      # hour, then object (store order)
order = order[np.argsort(key[order], kind="stable")]
pos = pos.take(order)
same = np.ones(n - 1, bool)                     # neighbours equal in every field but the line
for c in ("mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading"):
    a = pos[c].to_numpy(zero_copy_only=False)
    a = a.view(np.int64) if a.dtype.kind == "M" else a
    same &= (a[1:] == a[:-1]) | ((np.isnan(a[1:]) & np.isnan(a[:-1])) if a.dtype.kind == "f" else False)
keep = np.ones(n, bool); keep[1:] = ~same
pos = pos.filter(pa.array(keep))
pq.write_table(pos, out, compression="zstd", row_group_size=1_000_000)
print(pos.num_rows, quarantined)
"""

DUCKDB = """
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f'''
COPY (
  SELECT 'noaa' AS source, 'mmsi:' || mmsi AS object_id, * FROM (
    SELECT TRY_CAST(MMSI AS BIGINT) AS mmsi, TRY_CAST(BaseDateTime AS TIMESTAMP) AS timestamp,
           TRY_CAST(LAT AS DOUBLE) AS lat, TRY_CAST(LON AS DOUBLE) AS lon, TRY_CAST(SOG AS DOUBLE) AS sog,
           TRY_CAST(COG AS DOUBLE) AS cog, TRY_CAST(Heading AS DOUBLE) AS heading
    FROM read_csv('{src}', all_varchar=true, header=true))
  WHERE timestamp IS NOT NULL AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 AND mmsi BETWEEN 0 AND 1073741823
  ORDER BY date_trunc('hour', timestamp), object_id, timestamp
) TO '{out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)''')
print(con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0], -1)
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100,000 rows, one repeat")
    a = ap.parse_args()
    rows, repeat = (100_000, 1) if a.quick else (a.rows, a.repeat)
    pl_py = own_venv("engines-venv", "polars")
    og = str(Path(sys.executable).with_name("oceanguard"))
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as d:
        d = Path(d)
        csv = real_day_head(rows, d)
        sides = {"a_pyarrow": [sys.executable, "-c", PYARROW, str(csv), str(d / "a.parquet")],
                 **({"p_polars": [str(pl_py), "-c", POLARS, str(csv), str(d / "p.parquet")]} if pl_py else {}),
                 "d_duckdb": [sys.executable, "-c", DUCKDB, str(csv), str(d / "d.parquet")],
                 "x_arrow": [sys.executable, "-c", ARROW, str(csv), str(d / "x.parquet")],
                 "c_oceanguard_ingest": [og, "ingest", str(csv), "--out", str(d / "store"), "--quiet", "--now", "2024-01-01"]}
        wall, cpu, kept = {k: [] for k in sides}, {k: [] for k in sides}, {}
        capacity = [parallel_capacity()]
        for _ in range(repeat):
            for k, cmd in sides.items():
                shutil.rmtree(d / "store", ignore_errors=True)
                w, out, c = run(cmd)
                wall[k].append(w); cpu[k].append(c)
                if out.strip() and k != "c_oceanguard_ingest": kept[k] = out.split()[0]
        capacity.append(parallel_capacity())
    med = {k: statistics.median(v) for k, v in wall.items()}
    a_ = med["a_pyarrow"]
    res = {"rows": rows, "repeat": repeat, "parallel_capacity": capacity, "wall_s": wall, "cpu_s": cpu, "rows_kept": kept,
           "median_wall_s": med, "ratio_to_pyarrow": {k: v / a_ for k, v in med.items()}}
    print(f"rows: {rows:,}  repeats: {repeat}  parallel capacity before/after: {capacity[0]} / {capacity[1]} cores")
    for k in sides:
        print(f"{k:22s} median {med[k]:5.2f} s  best {min(wall[k]):5.2f} s  cpu {statistics.median(cpu[k]):5.2f} s"
              f"  = {med[k] / a_:4.2f}x (a)" + (f"  rows kept {int(kept[k]):,}" if k in kept else ""))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "csv_engines.json").write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {RESULTS / 'csv_engines.json'}")

if __name__ == "__main__":
    main()
