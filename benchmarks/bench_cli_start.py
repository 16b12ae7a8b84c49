"""Start-up time of the `oceanguard` command, whole process: `--help`, a subcommand's `--help` and an argument error.

Each case runs the installed entry point (or `python -c` calling `oceanguard.cli.main` when it is not on PATH) in a fresh
process REPS times after one warm-up run; the median wall time is printed with the min, max and the load
average around it. Target: under 0.3 s (issue 11).

    .venv/bin/python benchmarks/bench_cli_start.py            # 15 runs per case
    .venv/bin/python benchmarks/bench_cli_start.py --quick    # 5 runs per case
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

CASES = [("oceanguard --help", ["--help"]), ("oceanguard detect --help", ["detect", "--help"]),
         ("oceanguard detect --bogus", ["detect", "--bogus"]), ("oceanguard ingest --help", ["ingest", "--help"]),
         ("oceanguard ingest --format excel", ["ingest", "a.csv", "--out", "s", "--format", "excel"]),
         ("oceanguard store --help", ["store", "--help"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 runs per case instead of 15")
    ap.add_argument("--reps", type=int, help="runs per case")
    a = ap.parse_args()
    reps = a.reps or (5 if a.quick else 15)
    exe = shutil.which("oceanguard")
    base = [exe] if exe else [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; {reps} runs per case after 1 warm-up; command {' '.join(base)}")
    for name, argv in CASES:
        load0 = os.getloadavg()[0]
        times = []
        for i in range(reps + 1):
            t = time.perf_counter()
            subprocess.run(base + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i: times.append(time.perf_counter() - t)
        med = statistics.median(times)
        target = " PASS" if med < 0.3 else " MISS"
        print(f"  {name:<34} median {med:.3f} s (min {min(times):.3f}, max {max(times):.3f}); load {load0:.2f} -> {os.getloadavg()[0]:.2f};"
              f" target < 0.3 s{target}")


if __name__ == "__main__":
    main()
