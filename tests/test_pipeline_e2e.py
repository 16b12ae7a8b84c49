"""The DVC pipeline end to end, on a tiny configuration, in a temporary copy of the repository.

What the README promises: a fresh copy with the embedded samples materialised runs `dvc repro` through
every stage to a map report and metrics; a second `dvc repro` does nothing; changing one rule threshold
re-runs only the stages downstream of it; `dvc exp run -S ...` works and `dvc exp show` compares it.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGES = ["ingest", "synthesize", "inject", "features", "detect", "realday", "background", "calibrate", "study", "augment", "train",
          "model_study", "evaluate", "predict", "report"]
TINY = {"synthesize": {"train_vessels": 12, "eval_vessels": 14, "calib_vessels": 8, "hours": 8.0, "resample_s": 60.0},
        "evaluate": {"n_per_kind": 1},
        "realday": {"max_rows": 60000},
        "study": {"max_rows": 120000, "vessels_per_split": 120, "seeds": "0", "n_per_kind": 2},
        "model": {"epochs": 1, "hidden": 8, "stride": 8, "window": 16, "coverage_min_vessels": 2},
        "model_data": {"max_rows": 150000, "region": "-98,24,-80,31", "test_vessels": 80, "seeds": "0", "n_per_kind": 2}}


def run(cmd, cwd, **kw):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout + r.stderr


def ran_stages(log: str) -> list[str]:
    return [s for s in STAGES if f"Running stage '{s}'" in log]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    "A git copy of the tracked files, tiny parameters committed, the embedded samples materialised."
    d = tmp_path_factory.mktemp("e2e") / "oceanguard"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (d / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, d / f)
    params = yaml.safe_load((d / "params.yaml").read_text())
    for sec, vals in TINY.items(): params[sec].update(vals)
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (d / "node_modules").symlink_to(ROOT / "node_modules")
    run(["git", "init", "-q"], d)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], d)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny"], d)
    run([str(BIN / "oceanguard"), "samples", "--out", "data"], d)
    return d


def test_pipeline_end_to_end(repo):
    # the materialised samples match data.dvc (a fresh clone has no DVC cache: "not in cache", never "modified")
    st = run(["dvc", "status", "data.dvc"], repo)
    assert "modified" not in st and ("not in cache" in st or "up to date" in st), st
    log = run(["dvc", "repro"], repo)
    assert ran_stages(log) == STAGES, log[-3000:]
    html = (repo / "artifacts/reports/map.html")
    assert html.exists() and html.stat().st_size > 100_000 and "OG_DATA" in html.read_text()
    metrics = json.loads((repo / "artifacts/metrics/metrics.json").read_text())
    check_metrics_reconcile(metrics, repo)
    assert metrics["skipped_injections"] == json.loads((repo / "artifacts/labels/skipped.json").read_text())
    ms = json.loads((repo / "artifacts/metrics/model_study.json").read_text())
    assert set(ms["detectors"]) == {"lstm", "pattern_of_life", "density", "isolation_forest", "dead_reckoning"}
    assert ms["model"].startswith("model:lstm@") and 0 < ms["model_coverage_share"] <= 1
    rec = [json.loads(l) for l in (repo / "artifacts/predictions/records.jsonl").read_text().splitlines()]
    assert len(rec) == 1 and rec[0]["model_version"].startswith("lstm@") and rec[0]["data_hash"]
    card = json.loads((repo / "artifacts/evaluation/model_card.json").read_text())
    assert card["training_data"]["hash"] and "evaluation" in card
    # the augmented training fleet: the originals and one copy of each vessel under a new id, reporting less often
    aug = json.loads((repo / "artifacts/metrics/augment.json").read_text())
    assert aug["vessels_out"] == 2 * aug["vessels_in"] == 2 * TINY["synthesize"]["train_vessels"], aug
    assert aug["rows_in"] < aug["rows_out"] < 2 * aug["rows_in"] and 0 < aug["dropped_share"] < 1
    assert abs(aug["median_interval_s_before"] - TINY["synthesize"]["resample_s"]) < 5, aug
    assert aug["median_interval_s_after"] > aug["median_interval_s_before"], aug
    # executed notebooks are the run records
    assert all((repo / f"artifacts/runs/{n}").exists() for n in ("01_ingest.ipynb", "09_report.ipynb"))
    # nothing changed: nothing runs
    again = run(["dvc", "repro"], repo)
    assert ran_stages(again) == [], again
    # one rule threshold: only the stages downstream of `detect` run
    p = yaml.safe_load((repo / "params.yaml").read_text())
    p["rules"]["speed"]["max_sog_kn"] = 5.0      # vessels of unknown type above 4 kn: certain to change what detect finds
    (repo / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    log = run(["dvc", "repro"], repo)
    assert ran_stages(log) == ["detect", "realday", "calibrate", "study", "evaluate", "predict", "report"]
    # the prediction store kept both batches
    assert len((repo / "artifacts/predictions/records.jsonl").read_text().splitlines()) == 2
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "speed cap 5 kn"], repo)
    run(["dvc", "commit", "-f"], repo)
    # an experiment from the command line (a report parameter: only the report stage runs), compared by dvc exp show
    log = run(["dvc", "exp", "run", "-S", "report.budget=120000"], repo)
    assert ran_stages(log) == ["report"], log[-2000:]
    shown = json.dumps(json.loads(run(["dvc", "exp", "show", "--json"], repo)))
    assert "120000" in shown and "250000" in shown and "max_sog_kn" in shown
    # metrics and plots show

    shown = run(["dvc", "metrics", "show"], repo)
    assert "precision" in shown and "per_1000_vh" in shown
    real = json.loads((repo / "artifacts/metrics/realday.json").read_text())
    assert real["positions"] > 50_000 and real["vessel_hours"] > 0
    assert real["alarms"] == sum(k["alarms"] for k in real["by_kind"].values())
    study = json.loads((repo / "artifacts/metrics/study.json").read_text())
    assert set(study["by_kind"]) == {"ais_gap", "loitering", "encounter", "drift", "speed", "teleport", "zone_entry", "identity"}
    for k, v in study["by_kind"].items():     # 2 planted per kind (encounters: 2 labels each), none quietly lost
        assert v["labels"] == (4 if k == "encounter" else 2) or f"0:{k}" in study["skipped"], (k, v["labels"], study["skipped"])
    assert (repo / "artifacts/plots/recall_vs_magnitude.csv").stat().st_size > 100
    check_plots_html(repo)


def check_metrics_reconcile(metrics, repo):
    "Event metrics agree with the label store they were computed from: per kind, overall, and recall = detected / labels."
    import pandas as pd
    from oceanguard.labels import LabelStore
    labels = LabelStore(repo / "artifacts/labels").load()
    keys = {"precision", "recall", "f1", "n_detections", "n_true_detections", "n_labels", "n_detected_labels"}
    per_kind, overall = metrics["per_kind"], metrics["overall"]
    assert set(overall) == keys and all(set(v) == keys for v in per_kind.values()), per_kind
    assert overall["n_labels"] == len(labels) >= 9
    assert {k: v["n_labels"] for k, v in per_kind.items() if v["n_labels"]} == labels["kind"].astype(str).value_counts().to_dict()
    for part in ("n_labels", "n_detected_labels", "n_detections", "n_true_detections"):
        assert sum(v[part] for v in per_kind.values()) == overall[part], part
    for v in [overall, *per_kind.values()]:
        assert v["n_detected_labels"] <= v["n_labels"] and v["n_true_detections"] <= v["n_detections"]
        if v["n_labels"]: assert v["recall"] == pytest.approx(v["n_detected_labels"] / v["n_labels"])
        if v["n_detections"]: assert v["precision"] == pytest.approx(v["n_true_detections"] / v["n_detections"])
    assert overall["n_detected_labels"] > 0                  # the pipeline finds at least some of what it planted


def check_plots_html(repo):
    "`dvc plots show` renders the model study's recall-vs-size plot to HTML carrying each detector's curve."
    import csv
    run(["dvc", "plots", "show", "-o", "plots_html"], repo)
    page = (repo / "plots_html" / "index.html").read_text()
    assert "Model study: recall by size" in page
    rows = list(csv.DictReader((repo / "artifacts/plots/model_recall_vs_magnitude.csv").open()))
    assert {r["detector"] for r in rows} == {"lstm", "pattern_of_life", "density", "isolation_forest", "dead_reckoning"}
    assert "model_recall_vs_magnitude.csv" in page and all(r["detector"] in page for r in rows[:3])