"""Speed work must not change a single anomaly: `oceanguard detect` on a fixed slice of the real NOAA day gives the
anomalies main gave at 2e84f6a, every column (content hash of the sorted frame), before any speed-up.

The slice is every report of the real day inside two boxes (the Mississippi delta's platforms and Tampa Bay: 353,730
rows, 7 of the 8 rule kinds fire), cut from `datasets/` as raw text lines. The expected figures are in
`tests/fixtures/detect_realday_slice.json`."""
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.core import frame_hash

ROOT = Path(__file__).resolve().parents[1]
REAL_DAY = ROOT / "datasets" / "noaa-marinecadastre-2020-01-01" / "AIS_2020_01_01_named.csv.gz"
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "detect_realday_slice.json").read_text())
SORT = ["start", "object_id", "kind", "anomaly_id"]


def real_day_slice(out: Path) -> Path:
    "The raw lines of the real day whose LAT/LON fall in the fixture's boxes (header kept)."
    boxes = EXPECTED["boxes_w_s_e_n"]

    def inside(line: bytes) -> bool:
        f = line.split(b",", 4)
        try: lat, lon = float(f[2]), float(f[3])
        except (ValueError, IndexError): return False
        return any(w <= lon <= e and s <= lat <= n for w, s, e, n in boxes)

    with gzip.open(REAL_DAY, "rb") as f:
        head = f.readline()
        out.write_bytes(head + b"".join(line for line in f if inside(line)))
    return out


@pytest.fixture(scope="module")
def slice_csv(tmp_path_factory):
    if not REAL_DAY.exists(): pytest.skip("the real NOAA day is not in datasets/")
    return real_day_slice(tmp_path_factory.mktemp("realday") / "AIS_2020_01_01_slice.csv")


@pytest.mark.slow
def test_detect_on_the_real_day_slice_is_unchanged(slice_csv, tmp_path, capsys):
    assert sum(1 for _ in open(slice_csv, "rb")) - 1 == EXPECTED["rows"]
    rc = main(["detect", str(slice_csv), "--out", str(tmp_path / "an.parquet"), "--no-model"])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"{EXPECTED['positions']:,} positions" in out and f"{EXPECTED['duplicates']:,} duplicates" in out, out
    an = pd.read_parquet(tmp_path / "an.parquet")
    assert an["kind"].value_counts().sort_index().to_dict() == EXPECTED["kinds"]
    assert sorted(an["anomaly_id"]) == EXPECTED["anomaly_ids_sorted"]
    assert frame_hash(an.sort_values(SORT, kind="stable").reset_index(drop=True)) == EXPECTED["frame_hash_sorted"]


def test_rules_read_only_the_rule_columns():
    "`detect --no-model` drops the features no rule reads before the rules run: the anomalies do not change."
    from oceanguard.core import sample_path
    from oceanguard.detect import compact_text, detect, rule_columns
    from oceanguard.features import features_from_params
    from oceanguard.readers import read_any
    pos = pd.concat([read_any(sample_path(f)).positions for f in ("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv",
                                                                   "noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")], ignore_index=True)
    loose = {"rules": {"ais_gap": {"min_gap_h": 0.5, "min_dist_port_nm": 0, "min_dist_shore_nm": 0},
                       "loitering": {"min_hours": 0.5, "min_dist_port_nm": 0, "min_dist_shore_nm": 0}}}
    feats = features_from_params(pos, loose)
    ref = detect(feats, loose)
    assert len(ref) > 0
    lean = rule_columns(features_from_params(compact_text(pos.copy()), loose))
    assert len(lean.columns) < len(feats.columns)
    pd.testing.assert_frame_equal(detect(lean, loose), ref)


def test_the_catalogue_from_codes_equals_the_catalogue_from_text():
    "`load_inputs` builds the catalogue from a summary grouped on integer codes: the same catalogue, with compact text too."
    from oceanguard.catalogue import build_catalogue
    from oceanguard.core import sample_path
    from oceanguard.detect import _position_summary, compact_text
    from oceanguard.readers import read_any
    rs = [read_any(sample_path(f)) for f in ("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv", "noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg",
                                             "dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")]
    pos = pd.concat([r.positions for r in rs], ignore_index=True)
    reports = pd.concat([r.statics for r in rs if len(r.statics)], ignore_index=True)
    assert pos["source"].nunique() > 1 and pos["object_id"].nunique() > 2
    ref = build_catalogue(pos, reports)
    pd.testing.assert_frame_equal(build_catalogue(None, reports, summary=_position_summary(pos)), ref)
    pd.testing.assert_frame_equal(build_catalogue(None, reports, summary=_position_summary(compact_text(pos.copy()))), ref)
