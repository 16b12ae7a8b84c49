"""Investigator map report at volume: file size, time to write, and time to open in headless Chromium.

Synthetic traffic (seeded) with injected anomalies found by the real rule detectors, at 10k and 1M
positions by default. Targets (issue 5): with 1M positions the HTML stays under 30 MB and opens in under
10 s in headless Chromium. Prints one line per size and the ratios to the targets.

    python benchmarks/bench_report.py [--quick] [--sizes 10000 1000000]
"""
import argparse
import shutil
import tempfile
import time
from pathlib import Path

from oceanguard.detect import detect
from oceanguard.features import add_features
from oceanguard.injection import inject
from oceanguard.report import build_report, write_report
from oceanguard.synthetic import synthesize_fleet

COASTAL = {"rules": {"ais_gap": {"min_gap_h": 2, "min_dist_port_nm": 5}, "loitering": {"min_dist_port_nm": 5},
                     "encounter": {"min_dist_port_km": 5}}}


def fleet(n_positions: int, seed: int = 0):
    "About `n_positions` positions: 24 h of traffic, the number of vessels scaled to the size (10 s reports)."
    n_vessels = max(4, round(n_positions / 4_800))
    pos, st = synthesize_fleet(n_vessels, 24.0, seed=seed, resample_s=10.0)
    if len(pos) > n_positions: pos = pos.sample(n=n_positions, random_state=seed).sort_index()
    return pos, st


def open_time(path: Path) -> tuple[float, list]:
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                              "--disable-component-update", "--disable-sync"])
        page = b.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(path.as_uri(), timeout=120_000)
        page.wait_for_selector("body[data-og-ready='1']", state="attached", timeout=120_000)
        dt = time.perf_counter() - t0
        b.close()
    return dt, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    ap.add_argument("--quick", action="store_true", help="10k and 100k positions")
    a = ap.parse_args()
    sizes = [10_000, 100_000] if a.quick else a.sizes
    print(f"{'positions':>10} {'objects':>8} {'anomalies':>9} {'build+write s':>13} {'size MB':>8} {'open s':>7}  vs targets (30 MB, 10 s)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            pos, st = fleet(n)
            inj, _ = inject(pos, n_per_kind=max(1, len(pos) // 200_000), seed=1, statics=st)
            an = detect(add_features(inj), COASTAL)
            t0 = time.perf_counter()
            out = write_report(build_report(inj, None, an, title=f"benchmark {n:,}"), Path(tmp) / f"map_{n}.html")
            t_write = time.perf_counter() - t0
            mb = out.stat().st_size / 1e6
            t_open, errors = open_time(out)
            print(f"{len(inj):>10,} {inj.object_id.nunique():>8,} {len(an):>9,} {t_write:>13.1f} {mb:>8.1f} {t_open:>7.2f}  "
                  f"size {mb / 30:.2f}x, open {t_open / 10:.2f}x of target{'  ERRORS: ' + '; '.join(errors) if errors else ''}")


if __name__ == "__main__":
    main()
