"""CSV at Arrow speed: in ONE run, on the SAME file (the first N rows of the real NOAA day
`datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz`, decompressed into a temporary CSV first):

  (a) pyarrow alone, whole process: `pyarrow.csv.read_csv` + `pyarrow.parquet.write_table`;
  (b) oceanguard's read + clean alone (`readers.iter_clean`, the path `ingest` and `detect` share), timed inside the
      process after imports (the whole process time is printed beside it);
  (c) `oceanguard ingest FILE --out TMP` whole process.

Each is run `--repeat` times, interleaved (a, b, c, a, b, c, ...), in fresh processes; the median and the best are
printed with the load average around them (the machine is shared). Results go to benchmarks/results/csv_ingest.json.
Run: .venv/bin/python benchmarks/bench_csv_ingest.py [--rows 1000000] [--repeat 3] [--quick]
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = ROOT / "datasets" / "noaa-marinecadastre-2020-01-01" / "AIS_2020_01_01_named.csv.gz"

PYARROW = """
import sys, pyarrow.csv as c, pyarrow.parquet as pq
pq.write_table(c.read_csv(sys.argv[1]), sys.argv[2])
"""
OCEANGUARD = """
import sys, time, json
t0 = time.perf_counter()
from oceanguard.readers import iter_clean
t1 = time.perf_counter()
n = acc = 0
for c in iter_clean(sys.argv[1], now="2024-01-01"):
    n += c.counts["input"]; acc += c.counts["accepted"]
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "read_clean_s": t2 - t1, "rows": n, "accepted": acc}))
"""

def run(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    took = time.perf_counter() - t
    if p.returncode not in (0, 1): raise SystemExit(f"{cmd[:3]} failed ({p.returncode}): {p.stderr[-2000:]}")
    return took, p.stdout

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100,000 rows, one repeat")
    a = ap.parse_args()
    rows, repeat = (100_000, 1) if a.quick else (a.rows, a.repeat)
    py = sys.executable
    og = str(Path(py).with_name("oceanguard"))
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as d:
        d = Path(d)
        csv = d / f"noaa_{rows}.csv"
        with gzip.open(DAY, "rb") as f, open(csv, "wb") as g:
            for i, line in enumerate(f):
                if i > rows: break
                g.write(line)
        res = {"a_pyarrow_whole_process_s": [], "b_read_clean_s": [], "b_whole_process_s": [], "b_import_s": [],
               "c_ingest_whole_process_s": []}
        load = [os.getloadavg()[0]]
        for k in range(repeat):
            t, _ = run([py, "-c", PYARROW, str(csv), str(d / "pa.parquet")])
            res["a_pyarrow_whole_process_s"].append(t)
            t, out = run([py, "-c", OCEANGUARD, str(csv)])
            info = json.loads(out.strip().splitlines()[-1])
            res["b_read_clean_s"].append(info["read_clean_s"]); res["b_whole_process_s"].append(t); res["b_import_s"].append(info["import_s"])
            shutil.rmtree(d / "store", ignore_errors=True)
            t, out = run([og, "ingest", str(csv), "--out", str(d / "store"), "--quiet", "--now", "2024-01-01"])
            res["c_ingest_whole_process_s"].append(t)
            load.append(os.getloadavg()[0])
        med = {k: statistics.median(v) for k, v in res.items()}
        best = {k: min(v) for k, v in res.items()}
        a_ = med["a_pyarrow_whole_process_s"]
        out = {"rows": rows, "file_mb": round(csv.stat().st_size / 1e6, 1), "repeat": repeat, "accepted": info["accepted"],
               "median": med, "best": best, "runs": res, "load_avg_1min": load,
               "ratio_b_to_a": med["b_read_clean_s"] / a_, "ratio_c_to_a": med["c_ingest_whole_process_s"] / a_,
               "ratio_c_to_a_best": best["c_ingest_whole_process_s"] / best["a_pyarrow_whole_process_s"]}
    print(f"rows: {rows:,}  file: {out['file_mb']} MB  repeats: {repeat}  load avg (1 min): {', '.join(f'{x:.1f}' for x in load)}")
    print(f"(a) pyarrow read_csv + write_table, whole process : median {a_:.2f} s  best {best['a_pyarrow_whole_process_s']:.2f} s")
    print(f"(b) oceanguard read + clean (iter_clean), in process: median {med['b_read_clean_s']:.2f} s  best {best['b_read_clean_s']:.2f} s"
          f"  (whole process {med['b_whole_process_s']:.2f} s, imports {med['b_import_s']:.2f} s)  = {out['ratio_b_to_a']:.2f}x (a)")
    print(f"(c) oceanguard ingest, whole process               : median {med['c_ingest_whole_process_s']:.2f} s  best {best['c_ingest_whole_process_s']:.2f} s"
          f"  = {out['ratio_c_to_a']:.2f}x (a)  (target: within 2x)")
    res_dir = ROOT / "benchmarks" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "csv_ingest.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {res_dir / 'csv_ingest.json'}")

if __name__ == "__main__":
    main()
