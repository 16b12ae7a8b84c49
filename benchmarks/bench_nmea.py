"""Throughput of the NMEA reader on the real DMA stream (messages/s), against pyais decoding alone.

Run: .venv/bin/python benchmarks/bench_nmea.py [--quick]
"""
import argparse
import tempfile
import time
from pathlib import Path

from pyais.stream import FileReaderStream

from oceanguard.core import sample_path
from oceanguard.nmea import NmeaReader

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true", help="one copy of the stream instead of ten")
args = ap.parse_args()
copies = 1 if args.quick else 10

src = sample_path("nmea-dma-aislib-2010/stream_example.txt").read_bytes()
with tempfile.TemporaryDirectory() as d:
    f = Path(d)/"stream.txt"
    f.write_bytes(src*copies)
    t0 = time.perf_counter()
    n_decoded = sum(1 for m in FileReaderStream(str(f)) if m.decode() is not None)
    t_pyais = time.perf_counter() - t0
    t0 = time.perf_counter()
    reader = NmeaReader(f, chunksize=20_000)
    n_pos = sum(len(c.positions) for c in reader)
    t_reader = time.perf_counter() - t0
n = reader.counts["messages"]
print(f"lines {reader.counts['data_lines']:,}  messages {n:,}  positions {n_pos:,}")
print(f"pyais decode only : {n_decoded/t_pyais:10,.0f} messages/s ({t_pyais:.2f} s)")
print(f"oceanguard reader : {n/t_reader:10,.0f} messages/s ({t_reader:.2f} s)")
print(f"reader / pyais time ratio: {t_reader/t_pyais:.2f}")
