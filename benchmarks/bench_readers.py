"""Reader throughput on a large DMA CSV built from the real ferry sample (rows repeated).

Prints rows/s for `iter_dma` against a plain `pandas.read_csv` of the same file (the floor: no
quarantine, no contract), and the peak traced memory of streaming in chunks against reading whole.
Run: .venv/bin/python benchmarks/bench_readers.py [--quick]
"""
import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from oceanguard.core import sample_path
from oceanguard.readers import iter_dma


def build(n_rows: int, out: Path) -> Path:
    lines = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    reps = -(-n_rows // len(rows))
    body = "\n".join(rows * reps).split("\n")[:n_rows]
    out.write_text(header + "\n" + "\n".join(body) + "\n")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n = 100_000 if a.quick else 1_000_000
    with tempfile.TemporaryDirectory() as d:
        f = build(n, Path(d)/"dma_big.csv")
        t = time.perf_counter(); pd.read_csv(f); t_pd = time.perf_counter() - t
        t = time.perf_counter(); got = sum(r.n_input for r in iter_dma(f, chunksize=100_000)); t_og = time.perf_counter() - t
        assert got == n
        print(f"rows: {n:,}  file: {f.stat().st_size/1e6:.1f} MB")
        print(f"pandas.read_csv: {n/t_pd:,.0f} rows/s ({t_pd:.2f} s)")
        print(f"iter_dma       : {n/t_og:,.0f} rows/s ({t_og:.2f} s)  ratio to pandas: {t_og/t_pd:.1f}x")
        small = n // 10
        tracemalloc.start()
        for _ in iter_dma(f, chunksize=small // 2): pass
        peak_stream = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
        tracemalloc.start()
        for _ in iter_dma(f, chunksize=n): pass
        peak_whole = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
        print(f"peak memory: chunks of {small//2:,}: {peak_stream/1e6:.0f} MB, one chunk: {peak_whole/1e6:.0f} MB "
              f"(ratio {peak_whole/peak_stream:.1f}x)")


if __name__ == "__main__":
    main()
