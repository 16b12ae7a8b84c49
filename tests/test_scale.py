"detect_store (dask, object partitions) must find exactly what the in-memory detect finds on the same store."
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oceanguard import store as S
from oceanguard.core import OceanguardError, resource_path
from oceanguard.detect import detect
from oceanguard.features import features_from_params
from oceanguard.injection import inject
from oceanguard.scale import (_catalogue, detect_store, encounter_batches, encounter_candidates, encounter_from_candidates,
                              encounter_pairs, encounter_store, object_rows)
from oceanguard.synthetic import synthesize_fleet, write_fleet

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")  # inside dask's parquet reader

SAMPLES = resource_path("samples")
REAL = [SAMPLES / "dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv", SAMPLES / "dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv",
        SAMPLES / "dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg", SAMPLES / "noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg"]

def in_memory(store, params=None, zones=None, **q):
    "What `oceanguard detect STORE` computes: the whole query loaded, features, then every rule."
    objects, statics = _catalogue(Path(store))
    return detect(features_from_params(S.load_positions(store, **q), params), params or {}, zones=zones, objects=objects, statics=statics)

def assert_same(got, ref):
    "Same anomaly ids and every column equal."
    a, b = (d.sort_values("anomaly_id").reset_index(drop=True) for d in (got, ref))
    assert a.anomaly_id.tolist() == b.anomaly_id.tolist()
    pd.testing.assert_frame_equal(a, b)

@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("real") / "store"
    S.ingest(REAL, d, progress=False, now="2030-01-01")
    return d

@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    "40 synthetic vessels over 16 h with one injected anomaly of each kind, written as NOAA CSV and ingested."
    d = tmp_path_factory.mktemp("synth")
    fleet, st = synthesize_fleet(40, hours=16, seed=3, resample_s=30)
    pins = {"encounter": [4, 4], "encounter_distance_m": [200, 200], "encounter_speed_kn": [0.5, 0.5], "drift": [80, 80],
            "drift_hours": [2, 2], "drift_speed_kn": [1.5, 1.5], "teleport": [60, 60], "identity": [60, 60], "speed": [2, 2],
            "unusual_speed": [0.5, 0.5]}
    pos, labels, st = inject(fleet, n_per_kind=1, seed=1, statics=st, return_statics=True,      # sizes clear of any definition:
                             params={"inject": {"ranges": pins, "min_port_nm": 10, "identity_variants": ["clone"]}})  # this test is about scale
    write_fleet(pos, st, d / "fleet.csv")
    S.ingest([d / "fleet.csv"], d / "store", progress=False, now="2030-01-01")
    return d / "store", labels

COASTAL = {"rules": {"ais_gap": {"min_gap_h": 1, "min_dist_port_nm": 0, "min_dist_shore_nm": 0},
                     "loitering": {"min_dist_port_nm": 0, "min_dist_shore_nm": 0}}}

def test_real_store_equals_in_memory(real_store):
    ref = in_memory(real_store, COASTAL)
    assert len(ref) > 0
    for n in (1, 4):
        assert_same(detect_store(real_store, COASTAL, npartitions=n), ref)

def test_real_store_encounter_equals_in_memory(real_store):
    "The known Gothenburg close approach, as an encounter with loosened thresholds: evidence and every column as in memory."
    loose = {"rules": {"encounter": {"min_dist_port_km": 0, "min_dist_shore_nm": 0, "max_speed_kn": 15, "min_hours": 0.05, "max_dist_m": 2000}}}
    ref = in_memory(real_store, loose)
    assert (ref.kind == "encounter").sum() == 2
    assert_same(detect_store(real_store, loose, npartitions=3), ref)

def test_real_store_query(real_store, tmp_path):
    q = dict(bbox=(10.5, 56.9, 11.2, 57.4), start="2022-10-15T04:00", end="2022-10-15T20:00")
    got = detect_store(real_store, scheduler="synchronous", out=tmp_path / "a" / "an.parquet", **q)
    assert_same(got, in_memory(real_store, **q))
    assert_same(pd.read_parquet(tmp_path / "a" / "an.parquet"), got)
    assert len(detect_store(real_store, start="2031-01-01")) == 0

def test_processes_scheduler(real_store):
    assert_same(detect_store(real_store, scheduler="processes", num_workers=2, npartitions=2), in_memory(real_store))

def test_synthetic_injected_equals_in_memory(synth):
    store, labels = synth
    ref = in_memory(store)
    got = detect_store(store, npartitions=5, num_workers=2)
    assert_same(got, ref)
    # the injected anomalies are really there, encounter (the cross-partition rule) on both vessels
    enc = set(labels[labels.kind == "encounter"].object_id)
    assert len(enc) == 2 and enc <= set(got[got.kind == "encounter"].object_id)
    assert {"teleport", "drift", "identity"} <= set(got.kind)   # (the overspeed drawn here, a pleasure craft at 40 kn, is under the rule's 50 kn cap)

def test_partitions_split_objects_whole(synth):
    "With more partitions than a worker count, and a tiny partition_rows, still the same anomalies."
    store, _ = synth
    assert_same(detect_store(store, partition_rows=5_000, shuffle_method="tasks"), in_memory(store))

def test_query_and_kinds_and_zones(synth):
    store, _ = synth
    import geopandas as gpd
    from shapely.geometry import box
    p = S.load_positions(store, columns=["lat", "lon"], start="2024-01-01T06:00", end="2024-01-01T06:10")
    la, lo = float(p.lat.iloc[len(p) // 2]), float(p.lon.iloc[len(p) // 2])      # around a vessel at 06:00
    zones = gpd.GeoDataFrame({"name": ["box"]}, geometry=[box(lo - 0.05, la - 0.03, lo + 0.05, la + 0.03)], crs="EPSG:4326")
    q = dict(start="2024-01-01T02:00", end="2024-01-01T13:00", bbox=(lo - 3, la - 2, lo + 3, la + 2))
    got = detect_store(store, zones=zones, kinds="zone_entry,encounter,ais_gap", **q)
    ref = in_memory(store, zones=zones, **q)
    ref = ref[ref.kind.isin(["zone_entry", "encounter", "ais_gap"])]
    assert_same(got, ref)
    assert (got.kind == "zone_entry").sum() > 0

def test_encounter_candidates_are_few_and_enough(synth):
    store, _ = synth
    feats = features_from_params(S.load_positions(store))
    c = encounter_candidates(feats)
    assert 0 < len(c) < 0.2 * len(feats)
    ref = detect(feats, {}, kinds=["encounter"])
    assert encounter_from_candidates(c).anomaly_id.tolist() == ref.anomaly_id.tolist() and len(ref) >= 2

def test_encounter_second_pass_reads_only_the_vessels_that_met(synth):
    "The rule reruns on the whole tracks of only the vessels that met; evidence lists every report of both, as in memory."
    import json
    store, _ = synth
    feats = features_from_params(S.load_positions(store))
    ref = detect(feats, {}, kinds=["encounter"])
    c, rows = encounter_candidates(feats), object_rows(feats)
    pairs = encounter_pairs(encounter_from_candidates(c))
    assert set(pairs.object_id) == set(ref.object_id) and len(set(pairs.object_id)) <= 0.1 * feats.object_id.nunique()
    for max_rows in (None, 1):                                     # one batch; one batch per meeting (never split)
        assert_same(encounter_store(store, c, rows=rows, max_rows=max_rows), ref)
    batches = encounter_batches(pairs, rows, 1)
    assert all({a, b} <= set(bt) for a, b in zip(pairs.object_id, pairs.other_object_id) for bt in batches if a in bt)
    ev = json.loads(ref.evidence.iloc[0])
    t = pd.to_datetime(feats.timestamp, utc=True)
    mine = feats[(feats.object_id == ref.object_id.iloc[0]) & t.between(ref.start.iloc[0], ref.end.iloc[0])]
    assert ev["n_positions"] == len(mine) > ev["observed"]["n_bins"]      # every report, not one per bin

def test_encounter_mmsi_is_the_objects(synth):
    store, _ = synth
    an = in_memory(store)
    e = an[an.kind == "encounter"]
    assert len(e) and (e.mmsi.astype(str).to_numpy() == e.object_id.str.removeprefix("mmsi:").to_numpy()).all()

def test_bad_inputs(real_store, tmp_path):
    with pytest.raises(OceanguardError, match="store not found"): detect_store(tmp_path / "none")
    with pytest.raises(OceanguardError, match="scheduler must be"): detect_store(real_store, scheduler="gpu")
    with pytest.raises(OceanguardError, match="scheduler must be"): detect_store(real_store, scheduler=3)
    with pytest.raises(OceanguardError, match="npartitions must be >= 1"): detect_store(real_store, npartitions=0)
    with pytest.raises(OceanguardError, match="partition_rows"): detect_store(real_store, partition_rows=0)
    with pytest.raises(OceanguardError, match="unknown kind 'x'"): detect_store(real_store, kinds="x")
    with pytest.raises(OceanguardError, match=r"bbox"): detect_store(real_store, bbox=(0, 10, 1, 5))
    with pytest.raises(OceanguardError, match="rules.encounter"): detect_store(real_store, {"rules": {"encounter": {"max_dist_m": -1}}})
    with pytest.raises(OceanguardError, match="out is a directory"): detect_store(real_store, out=tmp_path)
    empty = tmp_path / "empty"; empty.mkdir()
    assert len(detect_store(empty)) == 0
