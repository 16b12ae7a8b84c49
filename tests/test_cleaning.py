"""Cleaning rules on real samples: sentinels, quarantine reasons, MMSI/MID, code tables, duplicates, reconciled counts."""
import numpy as np
import pandas as pd
import pytest
from pyais.stream import FileReaderStream

from oceanguard.cleaning import (SHIP_TYPES, CleanResult, clean_positions, duplicate_mask, format_counts, mid_table, mmsi_info,
                                 nav_status_code, nav_status_text, not_available_mask, null_sentinels, reject_reasons,
                                 ship_type_code, ship_type_text, sort_positions)
from oceanguard.contracts import POSITIONS, QUARANTINE, Reason, conform, validate
from oceanguard.core import OceanguardError, sample_path

NOW = pd.Timestamp("2024-01-01", tz="UTC")
FERRY = "dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"


def _dma(name):
    raw = pd.read_csv(sample_path(name))
    d = pd.DataFrame({"source": "dma", "mmsi": raw["MMSI"],
                      "timestamp": pd.to_datetime(raw["# Timestamp"], format="%d/%m/%Y %H:%M:%S"),
                      "lat": raw["Latitude"], "lon": raw["Longitude"], "sog": raw["SOG"], "cog": raw["COG"],
                      "heading": raw["Heading"], "rot": raw["ROT"], "nav_status": nav_status_code(raw["Navigational status"]),
                      "object_type": "vessel", "raw_file": name.split("/")[-1], "raw_line": np.arange(2, len(raw) + 2)})
    return d


@pytest.fixture(scope="module")
def ferry():
    return _dma(FERRY)


@pytest.fixture(scope="module")
def uscg():
    "Real USCG NAIS sentences decoded with pyais; type 27 messages carry deliberately invalid positions."
    rows, msgs = [], list(FileReaderStream(str(sample_path("nmea-format-variants/libais_test_uscg.aivdm"))))
    assert len(msgs) == 261
    for m in msgs:
        d = m.decode().asdict()        # every sentence of the log decodes: a decoding failure fails the test, never skipped
        if "lat" in d and d.get("msg_type") in (1, 2, 3, 4, 18, 19, 21, 27):
            rows.append({"mmsi": d["mmsi"], "lat": d["lat"], "lon": d["lon"], "sog": d.get("speed"), "cog": d.get("course"),
                         "heading": d.get("heading"), "rot": d.get("turn"), "msg_type": d["msg_type"]})
    d = pd.DataFrame(rows)
    for c in ("lat", "lon", "sog", "cog", "heading", "rot"): d[c] = pd.to_numeric(d[c], errors="coerce").astype("float64")
    return d.assign(source="nmea", timestamp=pd.Timestamp("2010-04-28", tz="UTC"), raw_file="libais_test_uscg.aivdm",
                    raw_line=np.arange(1, len(d) + 1), object_type="vessel")


def test_real_ferry_reconciles(ferry):
    r = clean_positions(ferry, now=NOW)
    assert isinstance(r, CleanResult)
    assert r.counts == {"input": 735, "accepted": 734, "quarantined": 0, "duplicates": 1, "invalid_mmsi": 0}
    assert format_counts(r.counts) == "735 in: 734 accepted, 0 quarantined, 1 duplicate"
    validate(r.positions, POSITIONS)
    assert r.positions["object_id"].unique().tolist() == ["mmsi:219000734"]
    assert r.positions["timestamp"].is_monotonic_increasing
    assert (r.positions["nav_status"] == 0).all()          # "Under way using engine" throughout
    assert r.positions["rot"].isna().sum() == 121          # empty ROTs in the file stay missing


def test_sentinels_set_missing_and_counted(ferry):
    d = conform(ferry.head(6).assign(object_id="mmsi:219000734"), POSITIONS)
    d.loc[0, ["lat", "lon"]] = [91.0, 181.0]
    d.loc[1, "sog"] = 102.3
    d.loc[2, "cog"] = 360.0
    d.loc[3, "heading"] = 511.0
    d.loc[4, "rot"] = -128.0
    d.loc[5, "rot"] = -731.386
    out, n = null_sentinels(d)
    assert n == {"lat": 1, "lon": 1, "sog": 1, "cog": 1, "heading": 1, "rot": 2, "nav_status": 0}
    assert out.loc[0, ["lat", "lon"]].isna().all() and out.loc[[4, 5], "rot"].isna().all()
    assert d.loc[1, "sog"] == 102.3                         # input untouched
    r = clean_positions(d, now=NOW)
    assert r.counts["quarantined.no_position"] == 1 and r.counts["nulled.heading"] == 1 and r.counts["nulled.rot"] == 2
    assert r.counts["input"] == r.counts["accepted"] + r.counts["quarantined"] + r.counts["duplicates"]


def test_pyais_not_available_values_on_gpsd_sample():
    rows, msgs = [], list(FileReaderStream(str(sample_path("nmea-format-variants/gpsd_sample.aivdm"))))
    assert len(msgs) == 102
    for m in msgs:
        d = m.decode().asdict()        # every sentence decodes: a decoding failure fails the test, never skipped
        if d.get("msg_type") in (1, 2, 3, 4, 18):
            rows.append({k: d.get(k) for k in ("lat", "lon", "speed", "course", "heading", "turn")})
    d = pd.DataFrame(rows).rename(columns={"speed": "sog", "course": "cog", "turn": "rot"}).astype("float64")
    na = not_available_mask(d)
    assert (d["heading"] == 511).sum() >= 3 and na["heading"][d["heading"] == 511].all()
    assert (d["rot"] == -128.0).sum() >= 3 and na["rot"][d["rot"] == -128.0].all()
    assert na["rot"][d["rot"].abs() == 127.0].all()            # pyais "no turn indicator"
    assert na["lat"].sum() == 1 and na["lon"].sum() == 1          # type 4 base station without fix: 91/181
    assert not na["rot"][d["rot"] == 0].any()


def test_out_of_range_positions_from_real_uscg_log(uscg):
    r = clean_positions(uscg, now=NOW)
    q = r.quarantine
    assert set(q["reason"]) == {Reason.LAT_OUT_OF_RANGE, Reason.LON_OUT_OF_RANGE, Reason.NO_POSITION}
    no_fix = uscg["lat"].isna() | uscg["lon"].isna() | (uscg["lat"] == 91) | (uscg["lon"] == 181)   # no position fix
    assert r.counts["quarantined.no_position"] == no_fix.sum() > 0
    lat_bad = (uscg["lat"].abs() > 90) & (uscg["lat"] != 91)
    lon_bad = ~lat_bad & (uscg["lon"].abs() > 180) & (uscg["lon"] != 181)
    assert r.counts["quarantined.lat_out_of_range"] == lat_bad.sum() == 4
    assert r.counts["quarantined.lon_out_of_range"] == lon_bad.sum() == 3
    assert sorted(q["raw_line"]) == sorted(uscg.loc[lat_bad | lon_bad | no_fix, "raw_line"])
    assert q["detail"].str.match(r"^(lat|lon)=").all()
    assert r.counts["nulled.cog"] >= 4                            # courses 383..509 in those messages
    assert r.counts["input"] == r.counts["accepted"] + r.counts["quarantined"] + r.counts["duplicates"]
    validate(q, QUARANTINE)
    validate(r.positions, POSITIONS)


def test_timestamps_future_and_before_1990(ferry):
    d = ferry.head(5).copy()
    d.loc[0, "timestamp"] = pd.Timestamp("1970-01-01")
    d.loc[1, "timestamp"] = pd.Timestamp("2030-06-01")
    d.loc[2, "timestamp"] = pd.NaT
    r = clean_positions(d, now=NOW)
    assert r.quarantine["reason"].tolist() == ["timestamp_before_1990", "timestamp_future", "bad_timestamp"]
    assert r.quarantine["detail"].tolist()[2] == "timestamp=missing"
    assert r.counts["accepted"] == 2
    # 'now' decides what is future: relative to mid-day, the afternoon of the ferry day is future
    rr = reject_reasons(conform(ferry.assign(object_id="x"), POSITIONS), now="2022-10-15 12:00")
    assert (rr == Reason.TIMESTAMP_FUTURE).sum() == (ferry["timestamp"] > pd.Timestamp("2022-10-15 12:00")).sum() > 0


def test_duplicates_dropped_counted_and_sorted(ferry):
    d = pd.concat([ferry.iloc[::-1], ferry.head(20).assign(raw_file="second_receiver.csv")], ignore_index=True)
    r = clean_positions(d, now=NOW)
    assert r.counts["duplicates"] == 21 and r.counts["accepted"] == 734
    assert "second_receiver.csv" not in set(r.positions["raw_file"])
    assert r.positions["timestamp"].is_monotonic_increasing
    two = pd.concat([ferry.head(3).assign(mmsi=244178000), ferry.head(3)])
    s = clean_positions(two, now=NOW).positions
    assert s["object_id"].tolist() == ["mmsi:219000734"] * 3 + ["mmsi:244178000"] * 3
    assert duplicate_mask(ferry.head(0)).shape == (0,)
    assert sort_positions(s).index.tolist() == list(range(6))


def test_missing_mmsi_is_bad_mmsi_not_dropped(ferry):
    d = ferry.head(3).copy()
    d["mmsi"] = pd.array([219000734, pd.NA, 219000734], dtype="Int64")
    r = clean_positions(d, now=NOW)
    assert r.quarantine["reason"].tolist() == [Reason.BAD_MMSI] and r.quarantine["raw_line"].tolist() == [3]


@pytest.mark.parametrize("mmsi,valid,flag,kind", [
    (219000734, True, "Denmark", "ship"),
    (12345, False, None, None),
    (0, False, None, None),
    (123456789, False, None, None),
    (999999999, False, None, None),
    (1_000_000_000, False, None, None),
    (244178000, True, "Netherlands", "ship"),
    (2190047, True, "Denmark", "coast"),             # 002190047
    (111219500, True, "Denmark", "sar_aircraft"),
    (970012345, True, None, "sart"),
    (972001234, True, None, "mob"),
    (974001234, True, None, "epirb"),
    (982190001, True, "Denmark", "craft"),
    (992191234, True, "Denmark", "aton"),
    (636012345, True, "Liberia", "ship"),
])
def test_mmsi_and_mid(mmsi, valid, flag, kind):
    i = mmsi_info(pd.Series([mmsi])).iloc[0]
    assert bool(i["mmsi_valid"]) is valid
    assert (None if pd.isna(i["flag_state"]) else i["flag_state"]) == flag
    assert (None if pd.isna(i["mmsi_kind"]) else i["mmsi_kind"]) == kind


def test_mid_table_and_real_snapshot_flags():
    t = mid_table()
    assert t["mid"].is_unique and t["mid"].between(201, 775).all() and len(t) == 292
    assert dict(zip(t["mid"], t["country"]))[219] == "Denmark"
    snap = pd.read_csv(sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv"))
    info = mmsi_info(snap["MMSI"])
    assert info["mmsi_valid"].all() and info["flag_state"].notna().all()
    assert mmsi_info(pd.Series([pd.NA], dtype="Int64"))["mmsi_valid"].tolist() == [False]


def test_invalid_mmsi_kept_and_counted(ferry):
    r = clean_positions(ferry.head(10).assign(mmsi=123456789), now=NOW)
    assert r.counts["accepted"] == 10 and r.counts["invalid_mmsi"] == 10
    assert "10 rows with invalid MMSI" in format_counts(r.counts)


def test_code_tables_on_real_dma_words():
    assert len(SHIP_TYPES) == 100 and SHIP_TYPES[30] == "Fishing" and SHIP_TYPES[52] == "Tug"
    assert SHIP_TYPES[83] == "Tanker, hazardous category C" and SHIP_TYPES[69] == "Passenger, no additional information"
    assert ship_type_text([70]).tolist() == ["Cargo, all ships of this type"]
    snap = pd.read_csv(sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv"))
    codes = ship_type_code(snap["Ship type"])
    assert set(snap.loc[codes.isna(), "Ship type"]) == {"Reserved"}
    assert codes[snap["Ship type"] == "Fishing"].eq(30).all() and codes[snap["Ship type"] == "Tanker"].eq(80).all()
    ns = nav_status_code(snap["Navigational status"])
    assert ns.notna().all() and ns[snap["Navigational status"] == "Unknown value"].eq(15).all()
    assert nav_status_text(ns).notna().all()
    assert nav_status_text([7]).tolist() == ["Engaged in fishing"]


def test_contract_rejects_bad_frame_with_one_line(ferry):
    bad = clean_positions(ferry, now=NOW).positions.copy()
    bad.loc[0, "lat"] = 123.0
    with pytest.raises(OceanguardError) as e:
        validate(bad, POSITIONS, what="cleaned positions")
    assert "\n" not in str(e.value) and "cleaned positions: column 'lat' failed in_range(-90, 90)" in str(e.value)


def test_unusable_frames_are_one_line_errors(ferry):
    with pytest.raises(OceanguardError, match="required column 'lat' is missing"):
        clean_positions(ferry.drop(columns="lat"))
    with pytest.raises(OceanguardError, match="need an 'object_id' or 'mmsi'"):
        clean_positions(pd.DataFrame({"lat": [1.0]}))
    e = clean_positions(ferry.head(0))
    assert e.counts["input"] == 0 and list(e.positions.columns) == list(POSITIONS.columns)
