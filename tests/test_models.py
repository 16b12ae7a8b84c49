"""The track model on kinematically consistent planted anomalies: what it finds, what the baselines cannot, coverage, the registry."""
import json

import numpy as np
import pandas as pd
import pytest

from oceanguard.core import OceanguardError
from oceanguard.models.lstm import model_coverage, score_anomalies, score_steps
from oceanguard.models.normalcy import DeadReckoningBaseline, DensityModel, lane_anomalies, lane_world
from oceanguard.models.registry import list_models, load_model, save_model
from oceanguard.models.train import train_model
from model_fixtures import implied_minus_sog_kn, planted, tiny_model


def _hits(an, oid, t0, t1):
    return an[(an.object_id == oid) & (an.start <= t1) & (an.end >= t0)]


@pytest.mark.parametrize("which", ["detour", "slow", "wrong_way"])
def test_planted_anomalies_are_kinematically_consistent(which):
    pos, *_ = planted(which)
    track = pos[pos.object_id == which]
    assert np.abs(implied_minus_sog_kn(track)).max() < 1.0      # implied speed agrees with SOG within 1 kn


@pytest.mark.parametrize("which,kinds", [("detour", {"route_deviation"}), ("slow", {"unusual_speed"}),
                                         ("wrong_way", {"route_deviation", "unusual_course"})])
def test_model_finds_each_planted_anomaly(which, kinds):
    model, _ = tiny_model()
    pos, t0, t1 = planted(which)
    an = score_anomalies(model, pos)
    hit = _hits(an, which, t0, t1)
    assert len(hit) >= 1 and set(hit.kind) & kinds, an[["object_id", "kind", "explanation"]]


def test_model_is_quiet_on_unseen_normal_traffic():
    model, _ = tiny_model()
    pos, *_ = planted("detour")
    normal = pos[pos.object_id != "detour"]
    an = score_anomalies(model, normal)
    assert len(an) <= 2 and "route_deviation" not in set(an.kind), an[["object_id", "kind", "explanation"]]   # 16 vessels, ~80 vessel-hours


def test_slow_vessel_is_the_density_baselines_blind_spot_not_the_models():
    "The slow vessel sails exactly where traffic goes: a map of where ships are cannot see it, the model of how they sail there can."
    model, _ = tiny_model()
    world = lane_world(seed=1)
    dens = DensityModel.fit(world, coverage=model.coverage).calibrate(lane_world("h", seed=3), 0.001)
    pos, t0, t1 = planted("slow")
    assert len(_hits(dens.anomalies(pos), "slow", t0, t1)) == 0
    assert len(_hits(score_anomalies(model, pos), "slow", t0, t1)) >= 1


def test_smooth_detour_is_dead_reckonings_blind_spot_not_the_models():
    model, _ = tiny_model()
    dr = DeadReckoningBaseline.fit(lane_world(seed=1), coverage=model.coverage).calibrate(lane_world("h", seed=3), 0.001)
    pos, t0, t1 = planted("detour")
    assert len(_hits(dr.anomalies(pos), "detour", t0, t1)) == 0
    assert len(_hits(score_anomalies(model, pos), "detour", t0, t1)) >= 1


def test_no_model_coverage_is_counted_and_never_alarmed():
    model, _ = tiny_model()
    pos, *_ = planted("far_away")             # 600 km north of every lane the model knows
    far = pos[pos.object_id == "far_away"]
    an = score_anomalies(model, pos)
    assert len(an[an.object_id == "far_away"]) == 0
    cov = an.attrs["coverage"]
    assert cov["positions"] == len(pos) and cov["covered"] + cov["no_model_coverage"] == len(pos)
    assert len(far) <= cov["no_model_coverage"] < len(far) + 0.05 * len(pos)     # the far vessel, and little else
    s = score_steps(model, far)
    assert not s["covered"].any() and not (s["place_flag"] | s["motion_flag"]).any()
    assert model_coverage(model, far)["share_covered"] == 0.0


def test_thresholds_are_calibrated_on_held_out_vessels_in_alarms_per_vessel_hour():
    model, summary = tiny_model()
    assert summary["n_holdout_vessels"] >= 5 and summary["holdout_vessel_hours"] > 0
    assert summary["place_alarms_per_1000h"] <= model.params.place_alarms_per_1000h
    assert summary["motion_alarms_per_1000h"] <= model.params.motion_alarms_per_1000h


def test_registry_keeps_versions_and_round_trips(tmp_path):
    model, _ = tiny_model()
    d = save_model(model, tmp_path)
    back = load_model(tmp_path / "latest")
    pos, *_ = planted("detour")
    a, b = score_steps(model, pos), score_steps(back, pos)
    pd.testing.assert_frame_equal(a, b)
    card = json.loads((d / "card.json").read_text())
    assert card["area"]["n_cells"] == len(model.coverage.cells) and card["thresholds"]["pattern_of_life"]["alarm_share"] == model.places.thresholds.alarm_share
    other, _ = train_model(lane_world(seed=5, n_east=12, n_north=8, n_sparse=2), {"model": {"window": 16, "stride": 8, "hidden": 8, "embed": 4, "epochs": 1, "coverage_min_vessels": 2}})
    save_model(other, tmp_path)
    assert set(list_models(tmp_path)["version"]) == {model.version, other.version}
    with pytest.raises(OceanguardError, match="lacks column"): load_model(d, data=pos.drop(columns=["lat"]))


def _swing(name, centre_m, amp_m, start, seed, lat_shift=0.0, sign=1):
    "An east-bound vessel of lane_world's east lane that swings `amp_m` to one side over 20 km around `centre_m` and back (kinematically consistent)."
    from oceanguard.models.normalcy import sail
    x = np.arange(-50_000, 50_000, 20.0)
    arc = np.where(np.abs(x - centre_m) < 10_000, sign * amp_m * np.sin(np.pi * (x - centre_m + 10_000) / 20_000) ** 2, 0)
    d = sail(name, np.column_stack([x, 10_000 + arc]), 12, start, seed=seed)
    d["lat"] += lat_shift
    return d


def test_excursion_thresholds_are_calibrated_per_area_of_coverage():
    """Calm lanes off (30 N, 90 W) and the same lanes 5 deg north, where 16 east-bound vessels routinely swing 3-4 km off
    the lane: calibrated per area, the calm area keeps a small threshold and finds a 2.5 km detour, the northern area's
    threshold rises above its routine swings; pooled into one pair, the calm area would miss the detour."""
    from oceanguard.models.lstm import Excursions, coverage_areas
    from oceanguard.models.normalcy import Coverage
    rng = np.random.default_rng(5); t0 = pd.Timestamp("2020-01-01", tz="UTC")
    north = lane_world("north-", seed=2).assign(lat=lambda d: d["lat"] + 5.0)
    swings = [_swing(f"north-swing{i}", rng.uniform(-30_000, 30_000), rng.uniform(3_000, 4_000), t0 + pd.Timedelta(minutes=30 * i),
                     100 + i, 5.0, rng.choice([-1, 1])) for i in range(16)]
    train = pd.concat([lane_world("calm-", seed=1), north, *swings], ignore_index=True)
    fold = pd.factorize(train["object_id"])[0] % 3
    per_area = Excursions.fit(train, 0.005, Coverage.fit(train))
    pooled = Excursions.fit(train, 0.005, Coverage.fit(train))
    c = per_area.calibrate(train, 5.0, fold=fold, area_min_hours=50.0)
    pooled.calibrate(train, 5.0, fold=fold)
    assert len(set(coverage_areas(per_area.coverage))) >= 2 and c["route_areas_calibrated"] >= 2
    calm_km, north_km = per_area.limits(np.array([30.09, 35.09]), np.array([-90.0, -90.0]))[0]
    assert calm_km < 2.5 < 3.0 <= north_km, (calm_km, north_km)
    probe = lambda lat_shift: _swing("probe", 0.0, 2_500, t0 + pd.Timedelta(hours=2), 999, lat_shift)
    assert len(per_area.anomalies(probe(0.0))) == 1          # calm waters: a 2.5 km detour is an excursion
    assert len(per_area.anomalies(probe(5.0))) == 0          # where vessels swing 3-4 km routinely, it is not
    assert len(pooled.anomalies(probe(0.0))) == 0            # one pooled pair would miss it in calm waters
    assert c["route_alarms_per_1000h"] <= 5.0
