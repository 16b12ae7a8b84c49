"Rows per second of `synthesize_fleet` for ~1M positions (`--quick`: ~100k)."
import argparse, time
from oceanguard.synthetic import synthesize_fleet

ap = argparse.ArgumentParser(); ap.add_argument("--quick", action="store_true"); a = ap.parse_args()
n = 20 if a.quick else 190
synthesize_fleet(3, hours=1, seed=0)                     # warm caches (graph, anchorages)
t = time.perf_counter(); pos, st = synthesize_fleet(n, hours=24, seed=0); s = time.perf_counter() - t
print(f"{len(pos):,} positions of {n} vessels over 24 h in {s:.2f} s: {len(pos) / s:,.0f} rows/s")
