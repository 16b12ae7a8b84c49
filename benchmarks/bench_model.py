"""Benchmark: the LSTM motion model on CPU (2 threads): training windows/s, scoring windows/s, attributions/s.

Normal traffic is the seeded synthetic fleet plus the shipped real tracks. Wall-clock rates on a shared
2-core machine mostly measure the other jobs, so every figure is also given per CPU-second, with the load
average. The last block times the default configuration's whole training (params.yaml `model`).

    .venv/bin/python benchmarks/bench_model.py            # 40 vessels x 24 h, default model (minutes)
    .venv/bin/python benchmarks/bench_model.py --quick    # 8 vessels x 6 h, small model (seconds)
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
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
    from oceanguard.models.explain import attribute
    from oceanguard.models.lstm import ModelParams, fit_net, window_scores
    from oceanguard.models.train import normal_traffic, train_model
    from oceanguard.models.windows import Normaliser, make_windows, step_features

    n_vessels, hours = (8, 6) if a.quick else (40, 24)
    p = ModelParams(hidden=16, epochs=1) if a.quick else ModelParams()
    pos = normal_traffic(n_vessels, hours, seed=0)
    (st, t_feat, c_feat) = _timed(lambda: step_features(pos, p.max_gap_s))
    norm = Normaliser.fit(st)
    (w, t_win, c_win) = _timed(lambda: make_windows(st, norm, p.window, p.stride))
    X = w.X
    one = p.model_copy(update={"epochs": 1})
    fit_net(X[:256], one)                                                 # warm-up: thread pool, allocator
    ((net, _), t_fit, c_fit) = _timed(lambda: fit_net(X, one))
    from oceanguard.models.lstm import MotionModel
    model = MotionModel(net, norm, p)
    (_, t_sc, c_sc) = _timed(lambda: window_scores(model, X))
    k = min(len(X), 64 if a.quick else 256)
    (_, t_ig, c_ig) = _timed(lambda: attribute(model, X[:k], n_steps=32))
    r = {"positions": len(pos), "windows": len(X), "window": p.window, "hidden": p.hidden, "threads": torch.get_num_threads(),
         "load_avg_1min": os.getloadavg()[0],
         "step_features_rows_per_s": len(pos) / t_feat, "step_features_rows_per_cpu_s": len(pos) / c_feat,
         "windows_per_s_cut": len(X) / t_win,
         "train_windows_per_s": len(X) / t_fit, "train_windows_per_cpu_s": len(X) / c_fit,
         "score_windows_per_s": len(X) / t_sc, "score_windows_per_cpu_s": len(X) / c_sc,
         "attributions_per_s": k / t_ig, "attributions_per_cpu_s": k / c_ig}
    r["score_to_train_ratio"] = r["score_windows_per_s"] / r["train_windows_per_s"]
    r["score_to_attribution_ratio"] = r["score_windows_per_s"] / r["attributions_per_s"]
    if not a.quick:
        ((m, s), t_all, c_all) = _timed(lambda: train_model(pos, {"model": p.model_dump()}))
        r.update({"default_training_wall_s": t_all, "default_training_cpu_s": c_all, "default_epochs": p.epochs,
                  "default_train_windows_x_epochs_per_s": s["n_train_windows"] * p.epochs / t_all,
                  "holdout_false_alarm_rate": s["holdout_false_alarm_rate"]})
    for key, v in r.items():
        print(f"{key:32s} {v:,.3f}" if isinstance(v, float) else f"{key:32s} {v}")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f: json.dump(r, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
