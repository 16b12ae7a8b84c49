"""The anomaly contract helpers: stable ids, builder output validates against ANOMALIES, evidence and explain()."""
import json

import numpy as np
import pandas as pd
import pytest

from oceanguard.anomalies import (ANOMALY_COLUMNS, anomaly_id, concat_anomalies, empty_anomalies, evidence_json, explain,
                                  make_anomalies, positions_evidence, ratio_score, severity)
from oceanguard.contracts import ANOMALIES, validate
from oceanguard.core import OceanguardError, sample_path
from oceanguard.readers import read_any


@pytest.fixture(scope="module")
def ferry():
    return read_any(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")).positions


def _one(ferry, rows=(10, 20)):
    a, b = rows
    return make_anomalies("ais_gap", "rule:ais_gap", ferry.object_id.iloc[[a]].to_numpy(), ferry.timestamp.iloc[[a]],
                          ferry.timestamp.iloc[[b]], ferry.lat.iloc[[a]], ferry.lon.iloc[[a]], [0.55],
                          ["mmsi:219000734 sent no position for 13.0 h (threshold 12 h)."],
                          [evidence_json({"min_gap_h": 12}, {"gap_h": 13.0}, positions_evidence(ferry, [a, b]), source="GFW")])


def test_ids_are_stable_and_distinct():
    a = anomaly_id("rule:teleport", "mmsi:219000734", "2022-10-15T11:16:01Z")
    assert a == anomaly_id("rule:teleport", "mmsi:219000734", pd.Timestamp("2022-10-15 13:16:01", tz="Europe/Copenhagen"))
    assert a != anomaly_id("rule:teleport", "mmsi:219000735", "2022-10-15T11:16:01Z")
    assert a != anomaly_id("rule:teleport", "mmsi:219000734", "2022-10-15T11:16:01Z", "mmsi:1")


def test_severity_and_score():
    assert list(severity([0.1, 0.5, 0.9])) == ["low", "medium", "high"]
    assert ratio_score(12, 12) == pytest.approx(0.3) and ratio_score(100, 12) == 1.0


def test_builder_matches_contract(ferry):
    an = _one(ferry)
    validate(an, ANOMALIES)
    assert list(an.columns) == ANOMALY_COLUMNS
    assert an.mmsi.iloc[0] == 219000734 and an.severity.iloc[0] == "medium"
    assert an.anomaly_id.iloc[0] == anomaly_id("rule:ais_gap", "mmsi:219000734", ferry.timestamp.iloc[10])
    validate(empty_anomalies(), ANOMALIES)
    both = concat_anomalies([_one(ferry, (30, 40)), _one(ferry)])
    assert both.start.is_monotonic_increasing and len(both) == 2


def test_evidence_traces_back_to_raw_lines(ferry):
    ev = json.loads(_one(ferry).evidence.iloc[0])
    assert ev["parameters"] == {"min_gap_h": 12} and ev["observed"] == {"gap_h": 13.0} and ev["source"] == "GFW"
    assert [p["raw_line"] for p in ev["positions"]] == [int(ferry.raw_line.iloc[10]), int(ferry.raw_line.iloc[20])]
    long = positions_evidence(ferry, np.arange(len(ferry)), max_positions=10)
    assert long["n_positions"] == len(ferry) and len(long["positions"]) == 10
    assert long["positions"][-1]["raw_line"] == int(ferry.raw_line.iloc[-1])


def test_explain_gives_full_trail(ferry):
    an = _one(ferry)
    txt = explain(an.anomaly_id.iloc[0], an)
    for part in ["ais_gap on mmsi:219000734", "threshold 12 h", "min_gap_h=12", "gap_h=13.0", "source of defaults: GFW",
                 f"ferry_laeso_2022-10-15.csv:{int(ferry.raw_line.iloc[20])}"]:
        assert part in txt, part
    with pytest.raises(OceanguardError, match="anomaly not found"):
        explain("0000", an)
