"""`oceanguard drift` from the command line: a model trained (for real, tiny) on half the vessels of the lane world keeps
its reference.json; the other half is a fresh sample of the same waters (no retraining), the same vessels moved
north and slowed are not (retrain, with the reasons), and a model without a reference asks for --reference in one line."""
import contextlib
import io
import json

import pytest

from oceanguard.cli import main


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from oceanguard.models.normalcy import lane_world
    from oceanguard.models.registry import save_model
    from oceanguard.models.train import train_model
    d = tmp_path_factory.mktemp("drift")
    w = lane_world(seed=1, n_east=60, n_north=40, n_sparse=10)
    half = w.object_id.isin(w.object_id.unique()[::2])
    train, fresh = w[half].reset_index(drop=True), w[~half].reset_index(drop=True)
    m, _ = train_model(train, {"model": {"window": 16, "stride": 8, "hidden": 8, "embed": 4, "epochs": 1, "holdout": 0.25,
                                          "coverage_min_vessels": 2}}, progress=False)
    save_model(m, d / "models")
    fresh.to_parquet(d / "fresh.parquet"); train.to_parquet(d / "train.parquet")
    fresh.assign(lat=fresh.lat + 3.0, sog=fresh.sog * 0.66).to_parquet(d / "moved.parquet")
    return d, m


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(list(map(str, args)))
    return rc, out.getvalue(), err.getvalue()


def test_fresh_sample_is_not_flagged_and_a_shifted_one_is(world):
    d, m = world
    rc, out, _ = _run("drift", d / "fresh.parquet", "--model", d / "models" / "latest", "--out", d / "ok")
    assert rc == 0 and out.startswith("no retraining needed"), out
    s = json.loads((d / "ok" / "drift.json").read_text())
    assert s["retrain_recommended"] is False and s["coverage"]["share"] > 0.95 and max(f["psi"] for f in s["features"].values()) < 0.25
    rc, out, _ = _run("drift", d / "moved.parquet", "--model", m.version, "--models", d / "models", "--out", d / "far")
    assert rc == 0 and out.startswith("retrain recommended"), out
    s = json.loads((d / "far" / "drift.json").read_text())
    assert s["features"]["lat"]["psi"] > 0.25 and s["features"]["sog"]["psi"] > 0.25 and s["coverage"]["share"] < 0.8
    assert any("latitude" in r for r in s["reasons"]) and any("coverage" in r for r in s["reasons"])
    page = (d / "far" / "drift.html").read_text()
    assert "retrain recommended" in page and page.count("data:image/png;base64,") == len(s["features"])


def test_an_older_model_needs_its_training_data(world, tmp_path):
    d, m = world
    import shutil
    old = tmp_path / "old"; shutil.copytree(d / "models" / f"lstm-{m.version}", old); (old / "reference.json").unlink()
    rc, _, err = _run("drift", d / "fresh.parquet", "--model", old, "--out", tmp_path / "x")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "--reference INPUT" in err, err
    rc, out, _ = _run("drift", d / "moved.parquet", "--model", old, "--reference", d / "train.parquet", "--out", tmp_path / "y")
    assert rc == 0 and out.startswith("retrain recommended"), out
