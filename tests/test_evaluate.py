"""Event-level evaluation on hand-built cases, false alarms per vessel-hour, PR curve data, the evaluate CLI."""
import json

import numpy as np
import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.evaluate import event_metrics, false_alarms_per_1000h, match_events, vessel_hours
from oceanguard.core import sample_path


def ferry_positions() -> pd.DataFrame:
    "The real Laeso ferry track as a minimal positions frame."
    raw = pd.read_csv(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"))
    return pd.DataFrame({"object_id": "mmsi:" + raw["MMSI"].astype(str),
                         "timestamp": pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S", utc=True),
                         "lat": raw["Latitude"], "lon": raw["Longitude"], "sog": raw["SOG"], "cog": raw["COG"]})

T = lambda s: pd.Timestamp(f"2024-01-01 {s}", tz="UTC")


def _labels():
    return pd.DataFrame({"object_id": ["mmsi:1", "mmsi:2", "mmsi:3", "mmsi:4"],
                         "kind": ["route_deviation", "ais_gap", "loitering", "route_deviation"],
                         "start": [T("10:00"), T("12:00"), T("08:00"), T("01:00")],
                         "end": [T("11:00"), T("15:00"), T("09:00"), T("02:00")]})


def _dets():
    return pd.DataFrame({
        "object_id": ["mmsi:1", "mmsi:1", "mmsi:2", "mmsi:2", "mmsi:9", "mmsi:3", "mmsi:2"],
        "kind": ["unusual_motion", "route_deviation", "ais_gap", "teleport", "ais_gap", "loitering", "ais_gap"],
        "detector": ["model:lstm@x", "model:lstm@x", "rule:ais_gap", "rule:teleport", "rule:ais_gap", "rule:loitering", "rule:ais_gap"],
        "start": [T("10:20"), T("13:00"), T("11:57"), T("12:30"), T("12:00"), T("09:04"), T("14:00")],
        "end": [T("10:40"), T("13:10"), T("12:10"), T("12:31"), T("13:00"), T("09:30"), T("14:30")]})


def test_matching_rules():
    m = match_events(_dets(), _labels())
    # hit via alias; late detour; gap hit; wrong kind; other vessel; loitering 4 min late (inside 5 min); second gap hit
    assert sorted(m.detection.tolist()) == [0, 2, 5, 6]
    assert sorted(match_events(_dets(), _labels(), tolerance="0min").detection.tolist()) == [0, 2, 6]
    assert sorted(match_events(_dets(), _labels(), tolerance="3h").detection.tolist()) == [0, 1, 2, 5, 6]


def test_metrics_per_kind_and_detector():
    em = event_metrics(_dets(), _labels())
    o = em["overall"]
    assert (o["n_detections"], o["n_true_detections"], o["n_labels"], o["n_detected_labels"]) == (7, 4, 4, 3)
    assert o["precision"] == pytest.approx(4 / 7) and o["recall"] == pytest.approx(3 / 4)
    assert o["f1"] == pytest.approx(2 * (4 / 7) * 0.75 / (4 / 7 + 0.75))
    rd = em["per_kind"]["route_deviation"]
    assert (rd["precision"], rd["recall"]) == (0.5, 0.5)       # mmsi:4's detour never seen
    assert em["per_kind"]["teleport"]["precision"] == 0.0 and em["per_kind"]["teleport"]["n_labels"] == 0
    gap = em["per_detector"]["rule:ais_gap"]
    assert gap["precision"] == pytest.approx(2 / 3) and gap["recall"] == 1.0
    assert em["per_detector"]["model:lstm@x"]["recall"] == 0.5
    assert em["time_to_detect_s"]["median"] == 20 * 60.0       # 0 s (early gap), 20 min (detour), 64 min (loitering)
    empty = event_metrics(_dets().iloc[:0], _labels())["overall"]
    assert empty["recall"] == 0.0 and np.isnan(empty["precision"])


def test_false_alarms_per_vessel_hours_on_real_ferry():
    f = ferry_positions()
    h = vessel_hours(f)
    assert h == pytest.approx((f.timestamp.max() - f.timestamp.min()).total_seconds() / 3600)   # gaps <= 22 s
    fa = false_alarms_per_1000h(_dets().iloc[:2], f)
    assert fa["overall"] == pytest.approx(2000 / h) and fa["model:lstm@x"] == pytest.approx(2000 / h)


def test_evaluate_cli(tmp_path, capsys):
    _dets().to_parquet(tmp_path / "an.parquet"); _labels().to_csv(tmp_path / "labels.csv", index=False)
    ferry_positions().to_parquet(tmp_path / "clean.parquet")
    assert main(["evaluate", "--anomalies", str(tmp_path / "an.parquet"), "--labels", str(tmp_path / "labels.csv"),
                 "--out", str(tmp_path / "out" / "metrics.json"), "--clean-anomalies", str(tmp_path / "an.parquet"),
                 "--clean-positions", str(tmp_path / "clean.parquet")]) == 0
    assert "recall 0.750" in capsys.readouterr().out
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["overall"]["n_detected_labels"] == 3 and m["false_alarms_per_1000h"]["overall"] > 0
    assert m["per_kind"]["teleport"]["recall"] is None          # NaN written as null
    assert main(["evaluate", "--anomalies", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "labels.csv")]) == 2
    assert "anomalies file not found" in capsys.readouterr().err
    assert main(["evaluate", "--anomalies", str(tmp_path / "an.parquet"), "--labels", str(tmp_path / "labels.csv"),
                 "--tolerance", "soon"]) == 2
    assert "--tolerance is not a duration" in capsys.readouterr().err


def test_investigator_precision_from_a_label_store(tmp_path, capsys):
    """Verdicts in the label store give investigator precision per kind (unsure counted, not in the ratio); the event
    metrics stay those of the event labels; a verdict on an anomaly that is not evaluated is counted apart."""
    from oceanguard.labels import LabelStore, make_labels, verdict_labels
    dets = _dets().assign(anomaly_id=[f"d{i}" for i in range(7)])
    dets.to_parquet(tmp_path / "an.parquet")
    store = LabelStore(tmp_path / "labels")
    store.add(make_labels(_labels().assign(source="injected")))
    args = ["evaluate", "--anomalies", str(tmp_path / "an.parquet"), "--labels", str(tmp_path / "labels"), "--out", str(tmp_path / "m.json")]
    assert main(args) == 0
    m0 = json.loads((tmp_path / "m.json").read_text())
    assert m0["investigator"]["n_judged"] == 0 and m0["investigator"]["precision"] is None and m0["investigator"]["ci95"] == [None, None]
    said = [("d2", "confirmed"), ("d6", "false_alarm"), ("d4", "false_alarm"), ("d3", "confirmed"), ("d5", "unsure"), ("d0", "unsure")]
    for i, (aid, v) in enumerate(said):
        store.add(verdict_labels(dets[dets.anomaly_id == aid], v, author="ana", created_at=pd.Timestamp("2024-02-01", tz="UTC") + pd.Timedelta(minutes=i)))
    store.add(verdict_labels(dets[dets.anomaly_id == "d1"].assign(anomaly_id="from-another-run"), "confirmed", author="bo"))
    assert main(args) == 0
    printed = capsys.readouterr().out
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["overall"] == m0["overall"]
    ip = m["investigator"]
    assert (ip["confirmed"], ip["false_alarm"], ip["unsure"], ip["n_judged"], ip["n_verdicts_elsewhere"]) == (2, 2, 2, 6, 1)
    assert ip["precision"] == 0.5 and ip["ci95"][0] == pytest.approx(0.150, abs=1e-3) and ip["ci95"][1] == pytest.approx(0.850, abs=1e-3)
    assert ip["per_kind"]["ais_gap"] == {"precision": 1 / 3, "ci95": pytest.approx([0.0615, 0.7923], abs=1e-3), "n_judged": 3,
                                         "confirmed": 1, "false_alarm": 2, "unsure": 0}
    assert ip["per_kind"]["teleport"]["precision"] == 1.0 and ip["per_kind"]["loitering"]["precision"] is None
    assert ip["per_detector"]["rule:ais_gap"]["n_judged"] == 3
    assert "investigator precision 0.500 (2 confirmed, 2 false alarm(s), 95% CI 0.15-0.85; 2 unsure; n=6)" in printed
