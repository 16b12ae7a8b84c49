"""The model registry: every version kept and listed, lineage on the card, and `latest` as the newest model whose
training area covers the data (in the registry, in `model_anomalies` and in `oceanguard detect`)."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from model_fixtures import ferry_positions, untrained_model
from oceanguard.cli import main
from oceanguard.core import OceanguardError, sample_path
from oceanguard.models.registry import (NoModelCoverage, area_share, lineage, list_models, model_anomalies, model_card,
                                        save_model, select_model, training_area)

ROOT = Path(__file__).resolve().parents[1]
FERRY = str(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"))
GULF = training_area([28.9, 29.3, 29.6], [-94.9, -94.6, -93.2], cell_deg=0.5)     # Galveston approaches
CAPE_TOWN = ([-33.9], [18.4])
EVALUATED = {"evaluation": {"model_events": {"overall": {"precision": 0.5, "recall": 0.83, "f1": 0.62}},
                            "false_alarms_per_1000h": {"vessel_hours": 100.0, "overall": 3.2}}}


def _registry(root: Path, with_old: bool = True) -> Path:
    "Three versions: an old one without an area (2020), one on the ferry's Kattegat waters (2021), a newer one in the Gulf of Mexico (2022)."
    f = ferry_positions()
    versions = [("v-kattegat", "2021", training_area(f.lat, f.lon)), ("v-gulf", "2022", GULF)]
    if with_old: versions.insert(0, ("v-old", "2020", None))
    for v, year, area in versions:
        m = untrained_model(v)
        save_model(m, root, m.card | {"created": f"{year}-01-01T00:00:00+00:00", "area": area,
                                      "metrics": EVALUATED if area is not None else {"holdout_false_alarm_rate": 0.01}})
    return root


def test_every_version_is_listed_with_metrics_area_and_lineage(tmp_path, capsys):
    reg = _registry(tmp_path / "models")
    df = list_models(reg)
    assert df.version.tolist() == ["v-old", "v-kattegat", "v-gulf"]                      # oldest first, none dropped
    assert df.detector.tolist() == [f"model:lstm@{v}" for v in df.version]
    assert df.recall.tolist()[1:] == [0.83, 0.83] and df.false_alarms_per_1000h.tolist()[1:] == [3.2, 3.2] and np.isnan(df.recall[0])
    assert df.metrics[0] == "holdout false alarm rate 0.01" and df.metrics[2] == "recall 0.83, false alarms/1000 h 3.2, f1 0.62"
    assert df.area_bbox[0] is None and df.area_bbox[2] == [-94.9, 28.9, -93.2, 29.6]
    assert df.data_hash.tolist() == ["hash-v-old", "hash-v-kattegat", "hash-v-gulf"] and (df.n_positions == 735).all()
    assert "git_commit" in df
    assert main(["models", "list", "--dir", str(reg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and all(v in o for v, o in zip(["v-old", "v-kattegat", "v-gulf"], out[1:]))
    assert "anywhere" in out[1] and "-94.9,28.9,-93.2,29.6" in out[3] and "recall 0.83" in out[3]
    assert main(["models", "show", "v-kattegat", "--dir", str(reg)]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "v-kattegat"
    assert main(["models", "show", "v-none", "--dir", str(reg)]) == 2 and "no model version v-none" in capsys.readouterr().err


def test_select_model_is_the_newest_covering_the_data(tmp_path):
    reg = _registry(tmp_path / "models")
    f = ferry_positions()
    assert select_model(reg, f.lat, f.lon).name == "lstm-v-kattegat"          # the Gulf model is newer but elsewhere
    assert select_model(reg, [29.0, 29.5], [-94.8, -93.3]).name == "lstm-v-gulf"
    assert select_model(reg, *CAPE_TOWN).name == "lstm-v-old"                 # only the model without an area covers it
    mixed_lat, mixed_lon = np.r_[f.lat[:40], [-33.9] * 60], np.r_[f.lon[:40], [18.4] * 60]
    assert area_share(json.loads((reg / "lstm-v-kattegat/card.json").read_text()), mixed_lat, mixed_lon) == 0.4
    assert select_model(reg, mixed_lat, mixed_lon).name == "lstm-v-old"       # 40 % < min_share 0.5: falls back
    assert select_model(reg, mixed_lat, mixed_lon, min_share=0.3).name == "lstm-v-kattegat"


def test_no_covering_model_is_a_one_line_error(tmp_path):
    reg = _registry(tmp_path / "models", with_old=False)
    with pytest.raises(NoModelCoverage) as e: select_model(reg, *CAPE_TOWN)
    msg = str(e.value)
    assert isinstance(e.value, OceanguardError) and "\n" not in msg
    assert "lstm-v-gulf [-94.9,28.9,-93.2,29.6]" in msg and "lstm-v-kattegat [" in msg and "18.40,-33.90" in msg
    with pytest.raises(OceanguardError, match="no trained model found"): select_model(tmp_path / "empty", *CAPE_TOWN)
    cape = ferry_positions().assign(lat=-33.9, lon=18.4)
    with pytest.raises(NoModelCoverage): model_anomalies(cape, reg / "latest", explain=False)
    assert model_anomalies(ferry_positions(), reg / "latest", explain=False) is not None       # the Kattegat model scores the ferry


def test_detect_latest_uses_only_a_model_of_these_waters(tmp_path, capsys, monkeypatch):
    reg = tmp_path / "models"; m = untrained_model("v-gulf"); save_model(m, reg, m.card | {"area": GULF})
    monkeypatch.chdir(tmp_path); monkeypatch.setenv("OCEANGUARD_MODELS", str(reg))
    base = ["detect", FERRY, "--out", str(tmp_path / "a.parquet"), "--kinds", "ais_gap"]
    assert main(base) == 0                                                      # default: rules alone, and it says why
    assert "model: none trained on these waters, rules only" in capsys.readouterr().out
    assert main(base + ["--model", "latest"]) == 2                               # asked for: one line naming the models
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no model in" in err[0] and "lstm-v-gulf [-94.9,28.9,-93.2,29.6]" in err[0]


def test_card_lineage(tmp_path):
    m = untrained_model("v1")
    card = model_card(m, "abc", 10, 2, paths=["data/ais.csv", "artifacts/store"], cwd=ROOT)
    td = card["training_data"]
    assert td["paths"] == ["data/ais.csv", "artifacts/store"] and td["hash"] == "abc" and card["area"]["cells"] == [int(k) for k in m.coverage.cells]   # the area is the coverage
    assert td["dvc_data_version"] == yaml.safe_load((ROOT / "data.dvc").read_text())["outs"][0]["md5"]
    if (ROOT / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", td["git_commit"]), td["git_commit"]
    from importlib.metadata import version
    assert td["code_version"] == version("oceanguard")
    assert model_card(m, "abc", area=GULF)["area"] == GULF
    with pytest.raises(OceanguardError, match="model area must be"): model_card(m, "abc", area={"bbox": [1, 2]})


def test_lineage_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                                                 # no git checkout here, no data.dvc
    card = model_card(untrained_model("v1"), "abc")
    assert card["training_data"]["git_commit"] is None and card["training_data"]["dvc_data_version"] is None
    (tmp_path / "data.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: data\n")
    assert lineage()["dvc_data_version"] == "0123456789abcdef0123456789abcdef.dir"
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))                      # git missing altogether
    assert lineage(ROOT)["git_commit"] is None


def test_the_train_stage_keeps_every_version():
    "The pipeline never deletes a model version: no rmtree in the train notebook, and DVC does not wipe the registry."
    nb = (ROOT / "pipeline/06_train.ipynb").read_text()
    assert "rmtree" not in nb and "save_model(" in nb
    outs = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["train"]["outs"]
    assert {"artifacts/models": {"persist": True}} in outs
