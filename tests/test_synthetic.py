import numpy as np, pandas as pd, pytest
from oceanguard.cli import main
from oceanguard.contracts import POSITIONS, validate
from oceanguard.core import OceanguardError
from oceanguard.geo import on_land
from oceanguard.synthetic import synthesize_fleet, NOAA_COLUMNS

@pytest.fixture(scope="module")
def fleet(): return synthesize_fleet(30, hours=8, seed=11)

def test_deterministic_and_contract(fleet):
    pos, st = fleet
    validate(pos, POSITIONS)
    p2, _ = synthesize_fleet(30, hours=8, seed=11)
    pd.testing.assert_frame_equal(pos, p2)
    assert set(pos.source) == {"synthetic"} and pos.object_id.str.match(r"^mmsi:\d{9}$").all()

def test_realism(fleet):
    pos, st = fleet
    m = pos.merge(st[["object_id", "max_sog_kn", "ais_class", "role"]], on="object_id")
    assert (m.sog <= m.max_sog_kn).all()
    dt = m.sort_values(["object_id", "timestamp"]).groupby("object_id").timestamp.diff().dt.total_seconds()
    assert dt[m.ais_class.eq("A") & (m.sog > 5)].median() <= 12
    assert on_land(pos.lat, pos.lon, tolerance_m=2500).mean() < 0.002

def test_bad_inputs():
    with pytest.raises(OceanguardError, match="mix has unknown"): synthesize_fleet(3, 1, mix={"submarine": 1})
    with pytest.raises(OceanguardError, match="hours must be > 0"): synthesize_fleet(3, 0)

def test_cli_csv(tmp_path, capsys):
    assert main(["synthesize", "--vessels", "4", "--hours", "1", "--out", str(tmp_path / "f.csv")]) == 0
    df = pd.read_csv(tmp_path / "f.csv")
    assert list(df.columns) == NOAA_COLUMNS and len(df) > 100
    assert main(["synthesize", "--vessels", "4", "--out", str(tmp_path / "f.txt")]) == 2
