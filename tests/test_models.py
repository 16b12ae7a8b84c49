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
