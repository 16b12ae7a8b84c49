import subprocess, sys, os
import numpy as np, pandas as pd, pytest
from oceanguard.cli import main
from oceanguard.contracts import POSITIONS, validate
from oceanguard.core import OceanguardError
from oceanguard.geo import on_land
from oceanguard.synthetic import synthesize_fleet, NOAA_COLUMNS, type_max_sog
from oceanguard.rules import SpeedParams

@pytest.fixture(scope="module")
def fleet(): return synthesize_fleet(30, hours=8, seed=11)

def test_deterministic_and_contract(fleet):
    pos, st = fleet
    validate(pos, POSITIONS)
    p2, s2 = synthesize_fleet(30, hours=8, seed=11)
    pd.testing.assert_frame_equal(pos, p2); pd.testing.assert_frame_equal(st, s2)
    assert set(pos.source) == {"synthetic"} and pos.object_id.str.match(r"^mmsi:\d{9}$").all()
    # the order the mix is written in does not matter
    a = synthesize_fleet(6, 2, seed=1, mix={"ferry": 1, "cargo": 1})[0]
    b = synthesize_fleet(6, 2, seed=1, mix={"cargo": 1, "ferry": 1})[0]
    pd.testing.assert_frame_equal(a, b)

_SCRIPT = "import sys; from oceanguard.synthetic import synthesize_fleet; p, s = synthesize_fleet(30, hours=8, seed=11); p.to_parquet(sys.argv[1]); s.to_parquet(sys.argv[2])"

def test_deterministic_across_processes(fleet, tmp_path):
    pos, st = fleet
    for h in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=h)
        subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "p.parquet"), str(tmp_path / "s.parquet")], check=True, env=env)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p.parquet"), pos)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s.parquet"), st)

def test_realism(fleet):
    pos, st = fleet
    m = pos.merge(st[["object_id", "max_sog_kn", "ais_class", "role"]], on="object_id")
    assert (m.sog <= m.max_sog_kn).all()
    dt = m.sort_values(["object_id", "timestamp"]).groupby("object_id").timestamp.diff().dt.total_seconds()
    assert dt[m.ais_class.eq("A") & (m.sog > 5)].median() <= 12
    assert on_land(pos.lat, pos.lon, tolerance_m=2500).mean() < 0.002

def test_caps_are_the_speed_rules():
    p = SpeedParams()
    assert type_max_sog([37, 70, 80, 60, 30]).tolist() == [p.type_max_kn[k] for k in ("pleasure", "cargo", "tanker", "passenger", "fishing")]

@pytest.mark.parametrize("seed", [0, 5, 9])
def test_normal_traffic_is_physically_plausible(seed):
    """Arrivals brake and departures accelerate (<= 0.05 kn/s for ships), turns are arcs: the speed, teleport
    and drift rules find nothing in normal traffic. Bounds on the reports (with 0.1 kn SOG and 0.7 deg heading
    noise): |dSOG/dt| <= 0.15 kn/s for every vessel (99th percentile <= 0.07 for ships >= 50 m: the sudden-stop
    rule fires at 0.1 kn/s), and |rate of turn| <= 90 deg/min."""
    from oceanguard.detect import detect
    from oceanguard.features import add_features
    pos, st = synthesize_fleet(40, hours=24, seed=seed)
    f = add_features(pos)
    an = detect(f, {}, kinds=["speed", "teleport", "drift"])
    assert len(an) == 0, an.explanation.tolist()[:3]
    f = f.merge(st[["object_id", "length"]], on="object_id")
    acc = (f.groupby("object_id").sog.diff() / f.dt_s).abs()
    assert acc.max() <= 0.15 and acc[f.length >= 50].quantile(0.99) <= 0.07
    assert f.rot.abs().max() <= 90
    stops = f[(f.groupby("object_id").sog.shift() >= 10) & (f.sog <= 1)]
    assert len(stops) == 0                              # nobody goes from 10 kn to a stop between two reports

def test_bad_inputs():
    with pytest.raises(OceanguardError, match="mix has unknown"): synthesize_fleet(3, 1, mix={"submarine": 1})
    with pytest.raises(OceanguardError, match="hours must be > 0"): synthesize_fleet(3, 0)

def test_cli_csv(tmp_path, capsys):
    assert main(["synthesize", "--vessels", "4", "--hours", "1", "--out", str(tmp_path / "f.csv")]) == 0
    df = pd.read_csv(tmp_path / "f.csv")
    assert list(df.columns) == NOAA_COLUMNS and len(df) > 100
    assert main(["synthesize", "--vessels", "4", "--out", str(tmp_path / "f.txt")]) == 2
