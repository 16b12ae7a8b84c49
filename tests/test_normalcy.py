"""Pattern of life, density grid, coverage, per-cell thresholds and the per-step baselines on a lane world
with kinematically consistent planted anomalies (a smooth detour, a slow vessel, a wrong-way transit, a vessel out of coverage)."""
import json
import re

import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import ANOMALIES, validate
from oceanguard.core import OceanguardError
from oceanguard.models.normalcy import (CellGrid, Coverage, DeadReckoningBaseline, DensityModel, IsolationForestBaseline,
                                        PatternOfLife, Thresholds, calibrate_per_cell, lane_anomalies, lane_world,
                                        step_events, track_order)

ALARM_SHARE = 0.01


@pytest.fixture(scope="module")
def world():
    train, calib = lane_world("a", seed=11), lane_world("b", seed=12)
    normal = lane_world("c", seed=13, n_east=10, n_north=5, n_sparse=3)
    planted = lane_anomalies(seed=21)
    return train, calib, normal, planted, pd.concat([normal, planted], ignore_index=True)


@pytest.fixture(scope="module")
def models(world):
    train, calib, *_ = world
    cov = Coverage.fit(train)
    return {m.name: m.calibrate(calib, ALARM_SHARE) for m in (
        PatternOfLife.fit(train, coverage=cov), DensityModel.fit(train, coverage=cov),
        DeadReckoningBaseline.fit(train, coverage=cov), IsolationForestBaseline.fit(train, coverage=cov))}


@pytest.fixture(scope="module")
def found(models, world):
    test = world[-1]
    return {name: m.anomalies(test) for name, m in models.items()}


def kinds(a: pd.DataFrame) -> dict:
    return {o: sorted(set(g.kind)) for o, g in a.groupby(a.object_id.astype(str))}


def test_planted_anomalies_are_kinematically_consistent(world):
    planted = world[3]
    for oid, p in planted.groupby("object_id"):
        t = p.timestamp.diff().dt.total_seconds().to_numpy()[1:]
        lat, lon = np.radians(p.lat.to_numpy()), np.radians(p.lon.to_numpy())
        dx = 6_371_008.8 * np.diff(lon) * np.cos((lat[1:] + lat[:-1]) / 2)
        dy = 6_371_008.8 * np.diff(lat)
        implied = np.hypot(dx, dy) / t * 3600 / 1852
        assert np.abs(implied - p.sog.to_numpy()[1:]).max() < 1.0, oid                  # within 1 kn of the reported SOG
        bearing = np.degrees(np.arctan2(dx, dy)) % 360
        off = np.abs((bearing - p.cog.to_numpy()[1:] + 180) % 360 - 180)
        assert np.median(off) < 3 and np.percentile(off, 95) < 12, oid                 # COG is the direction of travel
    detour = planted[planted.object_id == "detour"]
    north_km = (detour.lat.max() - detour.lat.iloc[0]) * 111.2
    assert 4.8 < north_km < 5.3                                                         # a 5 km detour


def test_pattern_of_life_finds_each_planted_anomaly_with_its_kind(found):
    k = kinds(found["pattern_of_life"])
    assert k["detour"] == ["route_deviation"]
    assert k["slow"] == ["unusual_speed"]
    assert k["wrong_way"] == ["unusual_course"]
    assert not any(o.startswith(("ceast", "cnorth")) for o in k)            # normal lane traffic raises nothing
    validate(found["pattern_of_life"], ANOMALIES)


def test_density_sees_the_detour_but_is_blind_to_speed_and_course(found):
    k = kinds(found["density"])
    assert k["detour"] == ["route_deviation"]
    assert "slow" not in k and "wrong_way" not in k


def test_dead_reckoning_is_blind_to_a_smooth_consistent_detour(models, found, world):
    test = world[-1]
    assert "detour" not in set(found["dead_reckoning"].object_id)
    s = models["dead_reckoning"].score_steps(test)
    who = test.object_id.str.rstrip("0123456789").to_numpy()
    assert s.distance_m[who == "detour"].median() < 1.5 * s.distance_m[who == "ceast"].median()


def test_explanations_read_like_an_investigator_note(found):
    a = found["pattern_of_life"].drop_duplicates("object_id").set_index("object_id")
    assert "km from where traffic goes (cells with no training vessel)" in a.loc["detour", "explanation"]
    assert re.match(r"4.0 kn where traffic does 1[12]\.\d kn \(median of \d+ vessels\) for \d+ min", a.loc["slow", "explanation"])
    assert a.loc["wrong_way", "explanation"].startswith("heading 270° where traffic heads 90°")
    ev = json.loads(a.loc["detour", "evidence"])
    assert 4 < ev["observed"]["distance_to_traffic_km"] < 6 and ev["observed"]["cell_traffic_min"] == 0
    assert ev["parameters"]["alarm_share"] == ALARM_SHARE and ev["observed"]["ratio_to_threshold"] > 1
    slow = json.loads(a.loc["slow", "evidence"])["observed"]
    assert slow["sog_kn"] == 4.0 and 11 < slow["usual_speed_kn"] < 13 and slow["cell_traffic"] >= 20


def test_outside_coverage_no_score_and_no_anomalies(models, found, world):
    planted = world[3]
    far = planted[planted.object_id == "far_away"]
    for name, m in models.items():
        s = m.score_steps(far)
        assert not s.covered.any() and s.score.isna().all(), name
        assert "far_away" not in set(found[name].object_id), name
    cov = models["pattern_of_life"].coverage
    assert cov.share(far.lat, far.lon) == 0.0 and cov.share(planted.lat, planted.lon) == pytest.approx(1 - len(far) / len(planted))


def test_per_cell_thresholds_differ_between_busy_lane_and_sparse_waters(models, world):
    th = models["pattern_of_life"].thresholds
    cov = models["pattern_of_life"].coverage
    normal = world[2]
    lane = normal[normal.object_id.str.startswith("ceast")].iloc[[100]]
    sparse = normal[normal.object_id.str.startswith("csparse")].iloc[[50]]
    t_lane, t_sparse = th.at(cov.grid.key(lane.lat, lane.lon))[0], th.at(cov.grid.key(sparse.lat, sparse.lon))[0]
    assert t_sparse > 2 * t_lane
    s = models["pattern_of_life"].score_steps(normal)             # held-out normal traffic
    sparse_cell = s.coverage_cell.to_numpy() == cov.grid.key(sparse.lat, sparse.lon)[0]
    per_cell = th.flag(s.score, s.coverage_cell)[sparse_cell].mean()
    one_threshold = (s.score.to_numpy() > th.at(cov.grid.key(lane.lat, lane.lon))[0])[sparse_cell].mean()
    assert one_threshold > 0.5 and per_cell < 0.05                 # the lane's threshold would alarm all over sparse waters


def test_calibrate_per_cell_falls_back_on_the_overall_quantile():
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(1, 0.1, 2000), rng.normal(5, 1, 2000), np.full(100, 20.0)]
    k = np.r_[np.full(2000, 7), np.full(2000, 8), np.full(100, 9)]
    th = calibrate_per_cell(s, k, 0.02, min_steps=200)
    assert list(th.keys) == [7, 8]
    assert th.at([9])[0] == th.overall and th.at([7])[0] < 1.5 < 6 < th.at([8])[0]
    assert Thresholds.from_dict(json.loads(json.dumps(th.to_dict()))).at([7, 8, 9]).tolist() == th.at([7, 8, 9]).tolist()
    with pytest.raises(OceanguardError, match="alarm_share"): calibrate_per_cell(s, k, 0.6)


@pytest.mark.parametrize("name", ["pattern_of_life", "density", "dead_reckoning", "isolation_forest"])
def test_save_load_round_trip_gives_identical_scores(models, world, tmp_path, name):
    m = models[name]
    np.savez(tmp_path / "m.npz", **m.to_arrays())
    back = type(m).from_arrays(np.load(tmp_path / "m.npz", allow_pickle=False))
    test = world[-1]
    pd.testing.assert_frame_equal(back.score_steps(test), m.score_steps(test))
    pd.testing.assert_frame_equal(back.anomalies(test), m.anomalies(test))


def test_scores_align_to_the_input_index_whatever_its_order(models, world):
    test = world[-1]
    m = models["pattern_of_life"]
    ref = m.score_steps(test)
    shuffled = test.sample(frac=1, random_state=3)
    shuffled.index = shuffled.index + 1000                         # an index that is not 0..n-1
    s = m.score_steps(shuffled)
    pd.testing.assert_frame_equal(s.set_axis(s.index - 1000).sort_index(), ref)


def test_step_events_rows_are_in_track_order(world):
    p = world[3]
    p = p[p.object_id.isin(["slow", "wrong_way"])].sample(frac=1, random_state=0)
    srt = p.iloc[track_order(p)]
    f = np.zeros(len(p), bool)
    want = srt.index[(srt.object_id == "wrong_way").to_numpy()][10:20]
    f[p.index.get_indexer(want)] = True
    ev = step_events(p, f)
    assert len(ev) == 1 and ev.object_id[0] == "wrong_way" and ev.n_flagged[0] == 10
    assert srt.index[ev.first_row[0]] == want[0] and srt.index[ev.last_row[0]] == want[-1]


def test_cell_grid_keys_are_reversible():
    g = CellGrid(0.25)
    lat, lon = np.array([-89.9, 0.1, 59.3]), np.array([-179.9, 0.1, 179.9])
    k = g.key(lat, lon)
    clat, clon = g.centre(k)
    assert (np.abs(clat - lat) <= 0.125).all() and (np.abs(clon - lon) <= 0.125).all()
    assert (g.key(clat, clon) == k).all()


def test_missing_columns_give_one_line_errors(world):
    with pytest.raises(OceanguardError, match="lat"):
        PatternOfLife.fit(world[0].drop(columns="lat"))
    with pytest.raises(OceanguardError, match="not calibrated"):
        DensityModel.fit(world[0]).anomalies(world[3])
