"""Contracts: schemas accept conformed real data, reject bad frames with one line, empty frames are typed."""
import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import (ANOMALIES, FEATURES, LABELS, OBJECTS, POSITIONS, PREDICTIONS, QUARANTINE, SCHEMAS, STATICS,
                                  STRING, UTC_NS, Reason, conform, empty, empty_anomalies, empty_labels, empty_positions,
                                  empty_quarantine, validate)
from oceanguard.core import OceanguardError, sample_path

T0 = pd.Timestamp("2022-10-15 11:16:01", tz="UTC")


@pytest.fixture(scope="module")
def ferry():
    raw = pd.read_csv(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"))
    d = pd.DataFrame({"source": "dma", "object_id": "mmsi:" + raw["MMSI"].astype(str), "mmsi": raw["MMSI"],
                      "timestamp": pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S"),
                      "lat": raw["Latitude"], "lon": raw["Longitude"], "sog": raw["SOG"], "cog": raw["COG"],
                      "heading": raw["Heading"], "rot": raw["ROT"], "object_type": "vessel",
                      "raw_file": "ferry_laeso_2022-10-15.csv", "raw_line": np.arange(2, len(raw) + 2)})
    return conform(d, POSITIONS)


def test_real_ferry_conforms_and_validates(ferry):
    assert len(ferry) == 735
    assert list(ferry.columns) == list(POSITIONS.columns)
    assert ferry["timestamp"].dtype == UTC_NS and ferry["object_id"].dtype == STRING and ferry["mmsi"].dtype == "Int64"
    assert ferry["timestamp"].min() == T0
    assert validate(ferry, POSITIONS) is ferry


@pytest.mark.parametrize("col,value,needle", [
    ("lat", 91.5, "column 'lat' failed in_range(-90, 90)"),
    ("lon", -181.0, "column 'lon' failed in_range(-180, 180)"),
    ("sog", -0.1, "column 'sog' failed greater_than_or_equal_to(0)"),
    ("cog", 360.0, "column 'cog' failed in_range(0, 360)"),
    ("heading", 511.0, "column 'heading' failed in_range(0, 360)"),
    ("object_type", "ship", "column 'object_type' failed isin"),
])
def test_bad_values_rejected_with_one_line(ferry, col, value, needle):
    bad = ferry.copy()
    bad.loc[10, col] = value
    with pytest.raises(OceanguardError) as e:
        validate(bad, POSITIONS, what="ferry_laeso_2022-10-15.csv")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("ferry_laeso_2022-10-15.csv: ") and needle in msg and "1 value(s)" in msg


def test_missing_column_naive_time_and_nulls_rejected(ferry):
    with pytest.raises(OceanguardError, match="required column 'lat' is missing"):
        validate(ferry.drop(columns="lat"), POSITIONS)
    with pytest.raises(OceanguardError, match="column 'timestamp' must have dtype datetime64"):
        validate(ferry.assign(timestamp=ferry["timestamp"].dt.tz_localize(None)), POSITIONS)
    with pytest.raises(OceanguardError, match="'object_id'.*not_nullable"):
        validate(ferry.assign(object_id=pd.array([pd.NA] * len(ferry), dtype=STRING)), POSITIONS)
    with pytest.raises(OceanguardError, match="expected a DataFrame"):
        validate([1, 2], POSITIONS)


def test_many_failures_summarised_in_one_line(ferry):
    bad = ferry.assign(lat=100.0, sog=-1.0)
    with pytest.raises(OceanguardError) as e:
        validate(bad, POSITIONS)
    assert "\n" not in str(e.value) and "735 value(s)" in str(e.value) and "1 other failing check" in str(e.value)


def test_sample_knob_checks_values_on_a_sample(ferry):
    assert len(validate(ferry, POSITIONS, sample=100)) == 735
    with pytest.raises(OceanguardError, match="column 'lat'"):
        validate(ferry.assign(lat=100.0), POSITIONS, sample=100)


def test_conform_casts_adds_and_orders(ferry):
    d = ferry[["lat", "lon", "timestamp", "object_id", "source", "object_type"]].copy()
    d["timestamp"] = d["timestamp"].dt.tz_convert("Europe/Copenhagen").astype(str)   # text with offsets
    d["extra"] = 1
    c = conform(d, POSITIONS)
    assert list(c.columns) == list(POSITIONS.columns)
    assert c["timestamp"].iloc[0] == T0 and c["timestamp"].dtype == UTC_NS
    assert c["mmsi"].isna().all() and c["sog"].isna().all() and c["sog"].dtype == "float64"
    validate(c, POSITIONS)
    assert list(conform(d, POSITIONS, keep_extra=True).columns)[-1] == "extra"
    with pytest.raises(OceanguardError, match="positions: column 'lat' cannot be cast"):
        conform(d.assign(lat="north"), POSITIONS)


def test_empty_frames_are_typed_and_valid():
    for name, schema in SCHEMAS.items():
        e = empty(schema)
        assert len(e) == 0 and list(e.columns) == list(schema.columns), name
        validate(e, schema)
    assert empty_positions()["timestamp"].dtype == UTC_NS
    assert empty_quarantine()["raw_line"].dtype == "Int64"
    assert empty_anomalies()["score"].dtype == "float64"
    assert empty_labels()["start"].dtype == UTC_NS
    # concatenating a typed empty frame keeps the dtypes
    assert pd.concat([empty_positions(), empty_positions()])["timestamp"].dtype == UTC_NS


def _anomaly(**kw):
    d = {"anomaly_id": ["a1"], "object_id": ["mmsi:219000734"], "mmsi": [219000734], "kind": ["ais_gap"],
         "detector": ["rule:ais_gap"], "start": [T0], "end": [T0 + pd.Timedelta("2h")], "lat": [57.3], "lon": [10.9],
         "score": [0.7], "severity": ["medium"], "explanation": ["no AIS for 2 h"], "evidence": ['{"gap_h": 2.0}']}
    d.update({k: [v] for k, v in kw.items()})
    return conform(pd.DataFrame(d), ANOMALIES)


def test_anomalies_predictions_labels():
    validate(_anomaly(), ANOMALIES)
    for kw, needle in [({"score": 1.2}, "'score'"), ({"severity": "severe"}, "'severity'"), ({"kind": "AIS Gap"}, "'kind'"),
                       ({"detector": "lstm"}, "'detector'"), ({"evidence": "gap"}, "'evidence'"),
                       ({"end": T0 - pd.Timedelta("1s")}, "end_not_before_start")]:
        with pytest.raises(OceanguardError, match=needle):
            validate(_anomaly(**kw), ANOMALIES)
    p = conform(_anomaly().assign(model_version="lstm@3", data_hash="abc", batch_id="b1", predicted_at=T0), PREDICTIONS)
    validate(p, PREDICTIONS)
    lab = conform(pd.DataFrame({"label_id": ["l1"], "object_id": ["mmsi:1"], "kind": ["teleport"], "start": [T0], "end": [T0],
                                "source": ["third-party"]}), LABELS)
    validate(lab, LABELS)
    with pytest.raises(OceanguardError, match="'source' failed isin"):
        validate(lab.assign(source="rumour"), LABELS)


def test_objects_unique_statics_quarantine_features(ferry):
    ob = conform(pd.DataFrame({"object_id": ["mmsi:219000734", "mmsi:219000734"], "object_type": "vessel",
                               "ais_class": ["A", "A"], "mmsi_valid": [True, True]}), OBJECTS)
    with pytest.raises(OceanguardError, match="object_id_unique"):
        validate(ob, OBJECTS)
    with pytest.raises(OceanguardError, match="'ais_class'"):
        validate(ob.head(1).assign(ais_class="C"), OBJECTS)
    st = conform(pd.DataFrame({"source": ["dma"], "object_id": ["mmsi:219000734"], "mmsi": [219000734], "imo": [9107370],
                               "name": ["ANE LAESOE"], "ship_type": [60], "object_type": ["vessel"], "length": [54.0]}), STATICS)
    validate(st, STATICS)
    with pytest.raises(OceanguardError, match="'ship_type'"):
        validate(st.assign(ship_type=300), STATICS)
    q = conform(pd.DataFrame({"source": ["nmea"], "raw_file": ["x.nmea"], "raw_line": [7], "reason": [Reason.BAD_CHECKSUM],
                              "detail": ["*5C != *5D"], "raw": ["!AIVDM,1,1,,A,...*5C"]}), QUARANTINE)
    validate(q, QUARANTINE)
    with pytest.raises(OceanguardError, match="'reason' failed isin"):
        validate(q.assign(reason="checksum"), QUARANTINE)
    f = conform(ferry.assign(dt_s=10.0, dist_m=5.0, speed_kn=1.0, bearing=90.0, segment_id=0, is_stopped=False), FEATURES)
    validate(f, FEATURES)
    with pytest.raises(OceanguardError, match="'bearing'"):
        validate(f.assign(bearing=400.0), FEATURES)


def test_reason_codes():
    assert len(Reason.ALL) == len(set(Reason.ALL)) >= 19
    assert {Reason.EMPTY_FILE, Reason.BAD_CHECKSUM, Reason.DUPLICATE, Reason.TIMESTAMP_FUTURE} <= set(Reason.ALL)
    assert all(Reason.describe(c) for c in Reason.ALL)
    with pytest.raises(OceanguardError, match="unknown quarantine reason"):
        Reason.describe("odd")
