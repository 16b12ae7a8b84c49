"""CSV at Arrow speed: in ONE run, on the SAME file (the first N rows of the real NOAA day
`datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz`, decompressed into a temporary CSV first):

  (a) pyarrow alone, whole process: `pyarrow.csv.read_csv` + `pyarrow.parquet.write_table`;
  (b) oceanguard's read + clean alone (`readers.iter_clean`, the path `ingest` and `detect` share), timed inside the
      process after imports (the whole process time is printed beside it);
  (c) `oceanguard ingest FILE --out TMP` whole process.

Each is run `--repeat` times, interleaved (a, b, c, a, b, c, ...), in fresh processes; the median and the best are
printed with the load average around them (the machine is shared), and beside each whole process its CPU seconds (user +
system of the process and its threads: steadier than wall time on a shared machine). `--baseline DIR` runs (b) and (c) a
second time in each round with another checkout of oceanguard first on PYTHONPATH (e.g. `git archive main | tar -x -C DIR`),
so that before and after come from one run on one file. Results go to benchmarks/results/csv_ingest.json.
Run: .venv/bin/python benchmarks/bench_csv_ingest.py [--rows 1000000] [--repeat 3] [--quick] [--baseline DIR]
"""
import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import parallel_capacity  # noqa: E402  (cores' worth of CPU two processes get now: 2.0 on a free machine)

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

def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run(cmd: list[str], root: Path = ROOT) -> tuple[float, str, float]:
    "Wall seconds, stdout and CPU seconds of one subprocess (run with `root` first on PYTHONPATH)."
    c, t = _children_cpu(), time.perf_counter()
    # cwd=root: `python -c` puts the working directory first on sys.path, before PYTHONPATH (run from a checkout, the
    # baseline side would otherwise import that checkout's oceanguard)
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    took, cpu = time.perf_counter() - t, _children_cpu() - c
    if p.returncode not in (0, 1): raise SystemExit(f"{cmd[:3]} failed ({p.returncode}): {p.stderr[-2000:]}")
    return took, p.stdout, cpu

def real_day_head(rows: int, d: Path) -> Path:
    "The header and first `rows` rows of the real NOAA day, decompressed into `d/noaa_<rows>.csv`."
    csv = d / f"noaa_{rows}.csv"
    with gzip.open(DAY, "rb") as f, open(csv, "wb") as g:
        for i, line in enumerate(f):
            if i > rows: break
            g.write(line)
    return csv

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100,000 rows, one repeat")
    ap.add_argument("--baseline", type=Path, help="another checkout of oceanguard, measured in the same run for (b) and (c)")
    a = ap.parse_args()
    rows, repeat = (100_000, 1) if a.quick else (a.rows, a.repeat)
    py = sys.executable
    og = str(Path(py).with_name("oceanguard"))
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as d:
        d = Path(d)
        csv = real_day_head(rows, d)
        sides = [("", ROOT)] + ([("baseline_", a.baseline.resolve())] if a.baseline else [])
        res = {"a_pyarrow_whole_process_s": [], "a_pyarrow_cpu_s": []}
        for pre, _ in sides:
            res |= {f"{pre}{k}": [] for k in ("b_read_clean_s", "b_whole_process_s", "b_whole_process_cpu_s", "b_import_s",
                                               "c_ingest_whole_process_s", "c_ingest_cpu_s")}
        load, capacity = [os.getloadavg()[0]], [parallel_capacity()]
        for k in range(repeat):
            t, _, cpu = run([py, "-c", PYARROW, str(csv), str(d / "pa.parquet")])
            res["a_pyarrow_whole_process_s"].append(t); res["a_pyarrow_cpu_s"].append(cpu)
            for pre, root in sides:
                t, out, cpu = run([py, "-c", OCEANGUARD, str(csv)], root)
                info = json.loads(out.strip().splitlines()[-1])
                res[f"{pre}b_read_clean_s"].append(info["read_clean_s"]); res[f"{pre}b_whole_process_s"].append(t)
                res[f"{pre}b_whole_process_cpu_s"].append(cpu); res[f"{pre}b_import_s"].append(info["import_s"])
                if pre: accepted_baseline = info["accepted"]
                else: accepted = info["accepted"]
                shutil.rmtree(d / "store", ignore_errors=True)
                t, out, cpu = run([og, "ingest", str(csv), "--out", str(d / "store"), "--quiet", "--now", "2024-01-01"], root)
                res[f"{pre}c_ingest_whole_process_s"].append(t); res[f"{pre}c_ingest_cpu_s"].append(cpu)
            load.append(os.getloadavg()[0])
        capacity.append(parallel_capacity())
        if a.baseline and accepted_baseline != accepted: raise SystemExit(f"accepted rows differ: {accepted:,} here, {accepted_baseline:,} in the baseline")
        med = {k: statistics.median(v) for k, v in res.items()}
        best = {k: min(v) for k, v in res.items()}
        a_ = med["a_pyarrow_whole_process_s"]
        out = {"rows": rows, "file_mb": round(csv.stat().st_size / 1e6, 1), "repeat": repeat, "accepted": accepted,
               "baseline": str(a.baseline) if a.baseline else None,
               "median": med, "best": best, "runs": res, "load_avg_1min": load, "parallel_capacity": capacity,
               "ratio_b_to_a": med["b_read_clean_s"] / a_, "ratio_c_to_a": med["c_ingest_whole_process_s"] / a_,
               "ratio_c_to_a_best": best["c_ingest_whole_process_s"] / best["a_pyarrow_whole_process_s"]}
    print(f"rows: {rows:,}  file: {out['file_mb']} MB  repeats: {repeat}  load avg (1 min): {', '.join(f'{x:.1f}' for x in load)}"
          f"  parallel capacity before/after: {capacity[0]} / {capacity[1]} cores")
    print(f"(a) pyarrow read_csv + write_table, whole process : median {a_:.2f} s  best {best['a_pyarrow_whole_process_s']:.2f} s"
          f"  cpu {med['a_pyarrow_cpu_s']:.2f} s")
    for pre, _ in sides:
        if pre:
            out["baseline_ratio_c_to_a"] = med["baseline_c_ingest_whole_process_s"] / a_
            print(f"baseline {a.baseline}:")
        print(f"(b) oceanguard read + clean (iter_clean), in process: median {med[pre + 'b_read_clean_s']:.2f} s  best {best[pre + 'b_read_clean_s']:.2f} s"
              f"  (whole process {med[pre + 'b_whole_process_s']:.2f} s, cpu {med[pre + 'b_whole_process_cpu_s']:.2f} s, imports {med[pre + 'b_import_s']:.2f} s)"
              f"  = {med[pre + 'b_read_clean_s'] / a_:.2f}x (a)")
        print(f"(c) oceanguard ingest, whole process               : median {med[pre + 'c_ingest_whole_process_s']:.2f} s  best {best[pre + 'c_ingest_whole_process_s']:.2f} s"
              f"  cpu {med[pre + 'c_ingest_cpu_s']:.2f} s  = {med[pre + 'c_ingest_whole_process_s'] / a_:.2f}x (a)  (target: within 2x)")
    res_dir = ROOT / "benchmarks" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "csv_ingest.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {res_dir / 'csv_ingest.json'}")

if __name__ == "__main__":
    main()
