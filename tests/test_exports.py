"""`oceanguard export`: every format read back by an independent reader, equal to what was exported; pseudonymised exports hold no raw identity."""
import json
import os
import subprocess

import numpy as np
import pandas as pd
import pyogrio
import pytest

from oceanguard.store import load_anomalies, load_positions

from conftest import OG, identities, leaks


@pytest.fixture
def store(named_store):
    return named_store


def export(store, tmp_path, fmt, what, key=None):
    "Export in process (the command's own function); `test_the_command` runs the CLI itself."
    from oceanguard.exports import export as run_export
    ext = {"geojson": "geojson", "mf-json": "json", "kml": "kml", "csv": "csv", "parquet": "parquet"}[fmt]
    out = tmp_path / f"{what}{'-pseudo' if key else ''}.{ext}"
    assert run_export([store], fmt, what, out, pseudonymise_key=key) > 0
    return out


def test_the_command(store, tmp_path):
    out = tmp_path / "a.geojson"
    r = subprocess.run(OG + ["export", str(store), "--format", "geojson", "--what", "anomalies", "--out", str(out), "--pseudonymise"],
                       capture_output=True, text=True, env={**os.environ, "OCEANGUARD_PSEUDONYM_KEY": "k"})
    assert r.returncode == 0 and "(pseudonymised)" in r.stdout, r.stderr
    assert len(pyogrio.read_dataframe(out)) == len(load_anomalies(store))
    bad = subprocess.run(OG + ["export", str(store), "--format", "kml", "--what", "ships", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "--what" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("fmt", ["geojson", "kml"])
def test_gdal_reads_back_positions_tracks_and_anomalies(store, tmp_path, fmt):
    pos = load_positions(store)
    got = pyogrio.read_dataframe(export(store, tmp_path, fmt, "positions"))
    assert len(got) == len(pos)
    key = lambda df, oid, t: pd.DataFrame({"o": oid, "t": t, "x": np.round(df.geometry.x, 6), "y": np.round(df.geometry.y, 6)})
    if fmt == "geojson":                                     # properties survive: same object, time and place for each position
        a = key(got, got["object_id"].astype(str), pd.to_datetime(got["timestamp"], utc=True)).sort_values(["o", "t", "x", "y"]).reset_index(drop=True)
        b = pd.DataFrame({"o": pos.object_id.astype(str), "t": pos.timestamp.dt.floor("s"), "x": pos.lon.round(6), "y": pos.lat.round(6)}
                         ).sort_values(["o", "t", "x", "y"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    tracks = pyogrio.read_dataframe(export(store, tmp_path, fmt, "tracks"))
    assert len(tracks) == pos.object_id.nunique()
    moved = pos.assign(x=pos.lon.round(7), y=pos.lat.round(7)).drop_duplicates(["object_id", "x", "y"]).groupby("object_id").size() > 1
    assert (tracks.geometry.geom_type == "LineString").sum() == moved.sum() > 10
    an = load_anomalies(store)
    ga = pyogrio.read_dataframe(export(store, tmp_path, fmt, "anomalies"))
    assert len(ga) == len(an)
    ids = ga["anomaly_id"] if fmt == "geojson" else ga["Name"]
    assert sorted(ids) == sorted(an.anomaly_id)


def test_mfjson_tracks_read_back_with_pymeos(store, tmp_path):
    from pymeos import TGeomPointSeq, pymeos_initialize
    pymeos_initialize()
    pos = load_positions(store)
    mf = json.loads(export(store, tmp_path, "mf-json", "tracks").read_text())
    assert mf["type"] == "FeatureCollection" and len(mf["features"]) == pos.object_id.nunique()
    per = pos.assign(t=pos.timestamp.dt.floor("ms")).drop_duplicates(["object_id", "t"]).groupby("object_id").size()
    for f in mf["features"]:
        tg = f["temporalGeometry"]
        assert tg["type"] == "MovingPoint" and len(tg["datetimes"]) == per[f["id"]]
        if len(tg["datetimes"]) > 1:                            # read back: every instant MEOS keeps is an exported report
            sent = {(pd.Timestamp(t.replace("+00", "+00:00")), round(x, 6), round(y, 6)) for t, (x, y) in zip(tg["datetimes"], tg["coordinates"])}
            back = TGeomPointSeq.from_mfjson(json.dumps(tg))
            got = {(pd.Timestamp(i.timestamp()), round(i.value().x, 6), round(i.value().y, 6)) for i in back.instants()}
            assert got <= sent and len(got) >= 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_read_back(store, tmp_path, fmt):
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    assert len(read(export(store, tmp_path, fmt, "positions"))) == len(load_positions(store))
    t = read(export(store, tmp_path, fmt, "tracks"))
    assert sorted(t.object_id) == sorted(load_positions(store).object_id.unique())
    assert sorted(read(export(store, tmp_path, fmt, "anomalies")).anomaly_id) == sorted(load_anomalies(store).anomaly_id)


def test_pseudonymised_exports_hold_no_raw_identity(store, tmp_path):
    ids = identities(store)
    checked = 0
    for fmt, what in [("geojson", "positions"), ("geojson", "anomalies"), ("kml", "tracks"), ("mf-json", "tracks"), ("csv", "anomalies"), ("csv", "positions")]:
        for pseudo in (False, True):
            hits = leaks(export(store, tmp_path, fmt, what, key=b"operator-secret" if pseudo else None).read_text(), ids)
            if pseudo: assert not hits, (fmt, what, hits)
            else: checked += bool(hits)
    assert checked >= 4                                         # the plain exports do name vessels: the check can fail
