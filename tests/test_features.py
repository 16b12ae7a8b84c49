"Per-position trajectory features on real tracks, against movingpandas, and on edge cases."
import warnings
from datetime import timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import FEATURES, POSITIONS
from oceanguard.core import OceanguardError, sample_path
from oceanguard.features import add_features, feature_params, features_from_params, from_trajectories, to_trajectories
from oceanguard.geo import angle_diff
from oceanguard.readers import read_dma, read_geo

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import movingpandas as mpd


@pytest.fixture(scope="module")
def ferry():
    return read_dma(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")).positions


@pytest.fixture(scope="module")
def gbg():
    return read_geo(sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")).positions


@pytest.fixture(scope="module")
def boston():
    return read_geo(sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")).positions


def _traj(g, tid):
    gdf = gpd.GeoDataFrame(g.assign(t=g.timestamp.dt.tz_localize(None)), geometry=gpd.points_from_xy(g.lon, g.lat), crs=4326)
    return mpd.Trajectory(gdf, traj_id=tid, t="t")


def _track(lons, lats, secs, oid="mmsi:1", **kw):
    return pd.DataFrame({"source": "synthetic", "object_id": oid, "lat": lats, "lon": lons, "object_type": "vessel",
                         "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(secs, unit="s"), **kw})


def test_columns_order_and_groups(ferry, gbg):
    fe = add_features(pd.concat([gbg, ferry]).sample(frac=1, random_state=1))
    assert list(fe.columns) == list(FEATURES.columns)
    assert fe.object_id.is_monotonic_increasing
    assert all(g.timestamp.is_monotonic_increasing for _, g in fe.groupby("object_id"))
    firsts = fe.groupby("object_id").head(1)
    assert len(firsts) == 3 and firsts[["dt_s", "dist_m", "speed_kn", "bearing", "accel_kn_s"]].isna().all().all()
    assert str(fe.segment_id.dtype) == "Int64" and str(fe.is_stopped.dtype) == "boolean"


@pytest.mark.parametrize("sample", ["ferry", "gbg"])
def test_speed_and_direction_agree_with_movingpandas(sample, request):
    # movingpandas drops repeated timestamps and copies row 1's values into row 0; compare rows >= 1.
    pos = request.getfixturevalue(sample).drop_duplicates(["object_id", "timestamp"])
    fe = add_features(pos, ports=False)
    n = 0
    for oid, g in fe.groupby("object_id"):
        tr = _traj(g, oid); tr.add_speed(units=("nm", "h")); tr.add_direction()
        ok = (g.dt_s > 0).to_numpy()
        assert np.abs(tr.df.speed.to_numpy()[ok] - g.speed_kn.to_numpy()[ok]).max() < 1e-4          # knots
        moved = ok & (g.dist_m > 0).to_numpy()
        assert np.abs(angle_diff(tr.df.direction.to_numpy()[moved], g.bearing.to_numpy()[moved])).max() < 1e-6
        n += ok.sum()
    assert n == len(pos) - pos.object_id.nunique()


def test_stops_agree_with_trajectory_stop_detector(ferry):
    fe = add_features(ferry)
    theirs = mpd.TrajectoryStopDetector(_traj(ferry, 1)).get_stop_time_ranges(max_diameter=50, min_duration=timedelta(minutes=5))
    s = fe.is_stopped.to_numpy(dtype=bool)
    run = np.cumsum(s != np.r_[False, s[:-1]])
    mine = fe[s].groupby(run[s]).timestamp.agg(["min", "max"])
    assert len(mine) == len(theirs) == 2                                           # Laeso, then Frederikshavn
    for (a0, a1), st in zip(mine.itertuples(index=False), theirs):
        assert abs((a0.tz_localize(None) - st.t_0).total_seconds()) <= 60
        assert abs((a1.tz_localize(None) - st.t_n).total_seconds()) <= 60
    assert fe.dist_port_nm[fe.is_stopped.to_numpy(dtype=bool)].max() < 0.5


def test_duplicate_timestamps_give_nan_not_inf(ferry):
    fe = add_features(ferry, ports=False)
    dup = fe.dt_s == 0
    assert dup.sum() == 5                                                          # the real duplicates (PROVENANCE)
    assert fe.speed_kn[dup].isna().all()
    assert not np.isinf(fe[["speed_kn", "accel_kn_s", "turn_rate_deg_s", "sog_gap_kn"]].to_numpy()).any()
    assert fe.segment_id.eq(0).all()


def test_antimeridian():
    step = 10 * 1852 / 60 / 111_319.49                       # 10 kn for one minute along the equator, in degrees
    fe = add_features(_track([179.99 - step, 179.99, 179.99 + step - 360], [0.0] * 3, [0, 60, 120]), ports=False)
    np.testing.assert_allclose(fe.speed_kn[1:], 10.0, rtol=1e-4)
    np.testing.assert_allclose(fe.bearing[1:], 90.0, atol=1e-6)
    assert abs(fe.turn_rate_deg_s[2]) < 1e-9 and fe.segment_id.eq(0).all()


def test_segments_split_after_gap_and_jump(boston):
    fe = add_features(_track([10.0, 10.001, 10.002, 10.003, 11.0, 11.001], [57.0] * 6, [0, 10, 20, 2420, 2430, 2440]), ports=False)
    assert fe.segment_id.tolist() == [0, 0, 0, 1, 2, 2]
    # Boston 2014: multi-hour gaps between port calls; every gap > 30 min starts a segment and nothing else does.
    fb = add_features(boston, ports=False)
    starts = fb.segment_id.ne(fb.groupby("object_id").segment_id.shift()).to_numpy(dtype=bool, na_value=True)
    big = (fb.dt_s > 1800).to_numpy()
    assert fb.object_id.nunique() == 4 and big.sum() > 4
    assert (starts == (big | fb.dt_s.isna().to_numpy() | ((fb.dist_m > 500) & (fb.speed_kn > 50)).to_numpy())).all()
    few = add_features(boston, gap_s=7 * 86400, ports=False)
    assert few.segment_id.max() < fb.segment_id.max()


def test_params_section_and_errors(ferry):
    assert feature_params({"features": {"stop_min_s": 600}}).stop_min_s == 600
    a = features_from_params(ferry, {"features": {"stop_min_s": 10_000}}, ports=False)
    assert not a.is_stopped.any()
    with pytest.raises(OceanguardError, match="parameter features.max_speed_kn"):
        add_features(ferry, max_speed_kn=-1)
    with pytest.raises(OceanguardError, match="'timestamp' is missing"):
        add_features(ferry.drop(columns="timestamp"))
    assert len(add_features(ferry.iloc[:0])) == 0


def test_movingpandas_round_trip(gbg, boston):
    back = from_trajectories(to_trajectories(gbg))
    assert list(back.columns) == list(POSITIONS.columns)
    pd.testing.assert_frame_equal(back, add_features(gbg, ports=False)[list(POSITIONS.columns)])
    tc = to_trajectories(boston, by="segment")
    fb = add_features(boston, ports=False)
    n_seg = fb.groupby(["object_id", "segment_id"]).size()
    assert len(tc) == (n_seg > 1).sum()                               # movingpandas drops one-point trajectories
    split = mpd.ObservationGapSplitter(to_trajectories(boston)).split(gap=timedelta(minutes=30))
    assert len(split) == len(tc)
