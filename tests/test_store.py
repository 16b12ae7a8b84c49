"""The position store (Delta Lake tables): filtered reads return exactly the expected subsets and touch fewer partitions and row
groups; overlapping files are deduplicated; incremental ingest gives the same store and catalogue as one ingest."""
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from oceanguard.contracts import POSITIONS, validate
from oceanguard.core import OceanguardError, sample_path
from oceanguard.store import (ingest, load_objects, load_positions, load_statics, positions_dataset, position_filter,
                              read_manifest, scan_plan)

FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
SNAPSHOT = sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv")
GBG = sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")
BOSTON = sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")
UTC = lambda s: pd.Timestamp(s, tz="UTC")

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("store")
    rep = ingest([FERRY, SNAPSHOT, GBG, BOSTON], d, source=None, progress=False, row_group_size=50, chunksize=300)
    assert rep.reconciled
    return d

@pytest.fixture(scope="module")
def everything(store):
    return load_positions(store)

def test_contract_and_layout(store, everything):
    validate(everything, POSITIONS)
    dates = sorted(p.name for p in (store / "positions").glob("date=*"))
    assert dates == sorted({f"date={d}" for d in everything.timestamp.dt.strftime("%Y-%m-%d")})
    assert all(len(list((store / "positions" / d).glob("*.parquet"))) == 1 for d in dates)   # compacted: one file per day
    assert everything.groupby("object_id").timestamp.is_monotonic_increasing.all()

def _plan(store, expr):
    "Files and row groups pyarrow keeps for `expr` (partition pruning, then row-group statistics)."
    dset = positions_dataset(store)
    frags = list(dset.get_fragments(filter=expr))
    return len(frags), sum(len(f.split_by_row_group(expr, schema=dset.schema)) for f in frags)

def test_bbox_exact_and_pruned(store, everything):
    box = (10.5, 57.25, 11.0, 57.5)                      # Frederikshavn - Læsø
    got = load_positions(store, bbox=box)
    exp = everything[everything.lat.between(57.25, 57.5) & everything.lon.between(10.5, 11.0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp)
    assert set(got.object_id) >= {"mmsi:219000734"}
    total = _plan(store, None if False else ds.scalar(True))
    nf, nrg = _plan(store, position_filter(bbox=box))
    assert nrg < total[1]
    assert scan_plan(store, bbox=box)["row_groups"] == nrg

def test_time_window_exact_and_pruned(store, everything):
    t0, t1 = UTC("2022-10-15 12:00"), UTC("2022-10-15 12:20")
    got = load_positions(store, start=t0, end=t1)
    exp = everything[everything.timestamp.between(t0, t1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp)
    assert len(got) > 50
    nf, nrg = _plan(store, position_filter(start=t0, end=t1))
    assert nf == 1                                       # only date=2022-10-15 is opened
    day = _plan(store, position_filter(start="2022-10-15", end="2022-10-15 23:59:59"))
    assert nrg < day[1]                                  # and inside it, only the row groups of that window
    p = scan_plan(store, start=t0, end=t1)
    assert (p["files"], p["row_groups"]) == (nf, nrg) and p["files_total"] == len(list((store / "positions").glob("date=*")))

def test_naive_times_are_utc_and_multi_day(store, everything):
    got = load_positions(store, start="2014-01-04", end="2014-01-06 23:59:59")
    exp = everything[everything.timestamp.between(UTC("2014-01-04"), UTC("2014-01-06 23:59:59"))].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp)
    assert scan_plan(store, start="2014-01-04", end="2014-01-06 23:59:59")["files"] == 3

def test_source_object_type_and_columns(store, everything):
    got = load_positions(store, sources=["dma"], object_types=["vessel"], columns=["object_id", "timestamp", "sog"])
    exp = everything[(everything.source == "dma") & (everything.object_type == "vessel")][["object_id", "timestamp", "sog"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp)
    assert len(load_positions(store, object_types="unidentified")) == 0
    one = load_positions(store, object_ids=["mmsi:265410000"])
    assert len(one) == 155 and set(one.object_id) == {"mmsi:265410000"}
    with pytest.raises(OceanguardError, match="unknown position column"): load_positions(store, columns=["speed"])
    with pytest.raises(OceanguardError, match="bbox"): load_positions(store, bbox=(0, 10, 5, 5))

def test_overlapping_file_adds_only_new_rows(tmp_path):
    ingest([FERRY], tmp_path, progress=False)
    n0 = len(load_positions(tmp_path))
    lines = FERRY.read_text().splitlines()
    over = tmp_path / "overlap.csv"
    extra = [l.replace("15/10/2022", "16/10/2022") for l in lines[1:11]]          # ten new rows on the next day
    over.write_text("\n".join(lines[:201] + extra) + "\n")
    rep = ingest([over], tmp_path, progress=False)
    f = rep.files[0]
    assert f.reconciled and f.accepted == 10 and f.n_input == 210
    assert len(load_positions(tmp_path)) == n0 + 10
    assert sorted(p.name for p in (tmp_path / "positions").glob("date=*")) == ["date=2022-10-15", "date=2022-10-16"]
    assert int(load_objects(tmp_path).set_index("object_id").loc["mmsi:219000734", "n_positions"]) == n0 + 10

def test_incremental_equals_one_shot(tmp_path):
    ingest([FERRY, SNAPSHOT, GBG], tmp_path / "once", progress=False)
    for f in [GBG, SNAPSHOT, FERRY]: ingest([f], tmp_path / "steps", progress=False, chunksize=250)
    a, b = load_positions(tmp_path / "once"), load_positions(tmp_path / "steps")
    pd.testing.assert_frame_equal(a, b)
    oa, ob = load_objects(tmp_path / "once"), load_objects(tmp_path / "steps")
    pd.testing.assert_frame_equal(oa.drop(columns="sources"), ob.drop(columns="sources"))
    assert len(load_statics(tmp_path / "once")) == len(load_statics(tmp_path / "steps"))

def test_detections_are_linked_whatever_the_order(tmp_path):
    gbg = load_positions_once(tmp_path)
    stena = gbg[gbg.object_id == "mmsi:265410000"].sort_values("timestamp")
    rows = stena.iloc[[30, 90]]
    det = tmp_path / "radar_detections.csv"
    det.write_text("detection_id,timestamp,lat,lon\n"
                   + "".join(f"d{i},{t:%Y-%m-%dT%H:%M:%S}Z,{la + 0.001:.6f},{lo:.6f}\n" for i, (t, la, lo) in enumerate(zip(rows.timestamp, rows.lat, rows.lon)))
                   + f"dark,{rows.timestamp.iloc[0]:%Y-%m-%dT%H:%M:%S}Z,57.9,11.2\n")
    for order, name in [([GBG, det], "ais_first"), ([det, GBG], "detections_first")]:
        for f in order: ingest([f], tmp_path / name, progress=False)
        objs = load_objects(tmp_path / name).set_index("object_id")
        dets = objs[objs.object_type == "unidentified"]
        assert len(dets) == 3, name
        links = dets["linked_object_id"]
        assert links.dropna().tolist() == ["mmsi:265410000"] * 2, name
        assert links.isna().sum() == 1 and pd.isna(links[links.index.str.contains("dark")]).all(), name

def load_positions_once(tmp_path):
    ingest([GBG], tmp_path / "gbg_only", progress=False)
    return load_positions(tmp_path / "gbg_only")


@pytest.mark.parametrize("chunksize", [2, 1000])
def test_only_rows_equal_in_every_field_are_duplicates_and_detect_agrees(tmp_path, chunksize):
    "A repeated row is a duplicate (within a chunk, across chunks, against the table); the same report with another SOG is not."
    from oceanguard.detect import read_clean
    lines = FERRY.read_text().splitlines()
    other_sog = lines[5].split(","); other_sog[7] = str(float(other_sog[7]) + 0.1)
    f = tmp_path / "dups.csv"
    f.write_text("\n".join([lines[0], lines[5], lines[6], lines[5], ",".join(other_sog)]) + "\n")
    fr = ingest([f], tmp_path / "s", progress=False, chunksize=chunksize).files[0]
    assert (fr.n_input, fr.accepted, fr.duplicates) == (4, 3, 1) and fr.reconciled
    r = read_clean(f, chunksize=chunksize)
    assert (len(r["positions"]), r["n_duplicates"]) == (3, 1)
    key = lambda d: d.sort_values(list(d.columns), ignore_index=True)
    pd.testing.assert_frame_equal(key(load_positions(tmp_path / "s")), key(r["positions"]))
    # the same rows in another file are duplicates of the stored ones; the SOG variant of a stored row is new
    g = tmp_path / "again.csv"
    sog2 = lines[6].split(","); sog2[7] = str(float(sog2[7]) + 0.2)
    g.write_text("\n".join([lines[0], lines[5], lines[6], ",".join(other_sog), ",".join(sog2)]) + "\n")
    fr = ingest([g], tmp_path / "s", progress=False, chunksize=chunksize).files[0]
    assert (fr.n_input, fr.accepted, fr.duplicates) == (4, 1, 3)
    assert len(load_positions(tmp_path / "s")) == 4


def test_time_travel_and_compaction_keep_rows(tmp_path):
    from oceanguard.store import compact
    ingest([FERRY], tmp_path, progress=False)
    n1 = len(load_positions(tmp_path))
    over = tmp_path / "later.csv"
    lines = FERRY.read_text().splitlines()
    over.write_text("\n".join([lines[0]] + [l.replace("13:0", "14:0") for l in lines[-5:]]) + "\n")
    ingest([over], tmp_path, progress=False)
    before = load_positions(tmp_path)
    assert len(before) == n1 + 5
    assert compact(tmp_path) == 1
    pd.testing.assert_frame_equal(load_positions(tmp_path), before)
    assert scan_plan(tmp_path)["files"] == 1
    assert len(load_positions(tmp_path, version=1)) == n1       # as after the first file's commit
