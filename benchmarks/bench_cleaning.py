"""Speed of contract validation and cleaning on large synthetic position frames (built from the real ferry track).

Run: .venv/bin/python benchmarks/bench_cleaning.py [--quick]
Prints rows/second for `validate(POSITIONS)`, `mmsi_info` and `clean_positions`, and the ratio between sizes
(close to the size ratio means linear scaling).
"""
import argparse
import time

import numpy as np
import pandas as pd

from oceanguard.cleaning import clean_positions, mmsi_info
from oceanguard.contracts import POSITIONS, conform, validate


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mmsi = rng.choice(np.array([219000734, 244178000, 636012345, 123456789, 2190047]), n)
    d = pd.DataFrame({"source": "synthetic", "mmsi": mmsi,
                      "timestamp": pd.Timestamp("2022-10-15", tz="UTC") + pd.to_timedelta(rng.permutation(n) * 2, "s"),
                      "lat": rng.uniform(54, 58, n), "lon": rng.uniform(8, 13, n), "sog": rng.uniform(0, 20, n),
                      "cog": rng.uniform(0, 360, n), "heading": rng.integers(0, 360, n).astype(float), "rot": 0.0,
                      "object_type": "vessel", "raw_file": "bench.csv", "raw_line": np.arange(1, n + 1)})
    d.loc[rng.random(n) < 0.001, "lat"] = 91.0        # sentinels -> no_position
    d.loc[rng.random(n) < 0.01, "heading"] = 511.0
    d = pd.concat([d, d.sample(frac=0.01, random_state=seed)], ignore_index=True)   # 1% repeated by a second receiver
    d["object_id"] = "mmsi:" + d["mmsi"].astype(str)
    return conform(d, POSITIONS)


def timed(f, *a, **k):
    t = time.perf_counter(); r = f(*a, **k); return r, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    a = ap.parse_args()
    sizes = [100_000, 1_000_000] if a.quick else [1_000_000, 10_000_000]
    res = {}
    for n in sizes:
        d = frame(n)
        _, tm = timed(mmsi_info, d["mmsi"])
        r, tc = timed(clean_positions, d, now="2024-01-01", check=False)
        _, tv = timed(validate, r.positions, POSITIONS)
        res[n] = (tv, tm, tc)
        print(f"{n:>11,} rows: validate {tv:6.2f} s ({n / tv / 1e6:5.1f} M rows/s)  mmsi_info {tm:6.2f} s  "
              f"clean_positions {tc:6.2f} s ({n / tc / 1e6:5.2f} M rows/s)  [{r.counts['quarantined']:,} quarantined, {r.counts['duplicates']:,} duplicates]")
    (n0, r0), (n1, r1) = list(res.items())[:2]
    print(f"time ratio for {n1 // n0}x rows: validate {r1[0] / r0[0]:.1f}x, mmsi_info {r1[1] / r0[1]:.1f}x, clean_positions {r1[2] / r0[2]:.1f}x")


if __name__ == "__main__":
    main()
