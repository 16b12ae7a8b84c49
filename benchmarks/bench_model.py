"""Benchmark: the track model on CPU (2 threads): training windows/s, scoring reports/s, attributions/s.

Normal traffic is the lane world of `oceanguard.models.normalcy` (two one-way lanes and sparse waters). Wall-clock
rates on a shared 2-core machine mostly measure the other jobs, so every figure is also given per CPU-second, with
the load average.

    .venv/bin/python benchmarks/bench_model.py            # the default model parameters (minutes)
    .venv/bin/python benchmarks/bench_model.py --quick    # a small model, one epoch (seconds)
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch


def _timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/bench_model.json")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    from oceanguard.models.explain import attribute_stretch
    from oceanguard.models.lstm import model_steps, score_steps
    from oceanguard.models.normalcy import lane_world
    from oceanguard.models.train import train_model

    params = {"model": {"epochs": 1, "hidden": 16, "window": 16, "stride": 8, "coverage_min_vessels": 2}} if a.quick else \
             {"model": {"coverage_min_vessels": 2}}
    train, test = lane_world(seed=1), lane_world("t", seed=2)
    ((model, s), t_fit, c_fit) = _timed(lambda: train_model(train, params))
    score_steps(model, test.iloc[:2000])                                   # warm-up: thread pool, allocator
    (_, t_sc, c_sc) = _timed(lambda: score_steps(model, test))
    st = model_steps(test)
    k = 8 if a.quick else 32
    (_, t_ig, c_ig) = _timed(lambda: [attribute_stretch(model, st, 100 + 20 * i, 110 + 20 * i) for i in range(k)])
    r = {"train_positions": len(train), "test_positions": len(test), "train_windows": s["n_train_windows"],
         "epochs": model.params.epochs, "threads": torch.get_num_threads(), "load_avg_1min": os.getloadavg()[0],
         "train_windows_x_epochs_per_s": s["n_train_windows"] * model.params.epochs / t_fit,
         "train_windows_x_epochs_per_cpu_s": s["n_train_windows"] * model.params.epochs / c_fit,
         "score_reports_per_s": len(test) / t_sc, "score_reports_per_cpu_s": len(test) / c_sc,
         "attributions_per_s": k / t_ig, "attributions_per_cpu_s": k / c_ig}
    for key, v in r.items():
        print(f"{key:34s} {v:,.3f}" if isinstance(v, float) else f"{key:34s} {v}")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f: json.dump(r, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
