"""`oceanguard detect STORE --dask ADDRESS` on a real `LocalCluster` (two worker processes on 127.0.0.1) finds what the
in-memory `oceanguard detect STORE` finds: every column of the anomalies equal, rules, learned places and the model."""
import sys

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="the `scale` extra (dask.distributed) is not installed")

from oceanguard import store as S
from oceanguard.cli import main
from oceanguard.injection import inject
from oceanguard.synthetic import synthesize_fleet, write_fleet

SORT = ["start", "object_id", "kind", "anomaly_id"]
# thresholds that let the synthetic coast's events fire (the test is about partitions, not about the thresholds)
LOOSE = ["--set", "rules.ais_gap.min_gap_h=1", "--set", "rules.ais_gap.min_dist_port_nm=0", "--set", "rules.ais_gap.min_dist_shore_nm=0",
         "--set", "rules.loitering.min_dist_port_nm=0", "--set", "rules.loitering.min_dist_shore_nm=0",
         "--set", "rules.encounter.min_dist_port_km=0", "--set", "rules.encounter.min_dist_shore_nm=0", "--set", "places.min_hours=0.5"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    "40 synthetic vessels over 16 h with injected anomalies of every kind (two encounters), as NOAA CSV, ingested."
    d = tmp_path_factory.mktemp("cluster")
    fleet, st = synthesize_fleet(40, hours=16, seed=3, resample_s=30)
    pins = {"encounter": [4, 4], "encounter_distance_m": [200, 200], "encounter_speed_kn": [0.5, 0.5], "drift": [80, 80],
            "drift_hours": [2, 2], "drift_speed_kn": [1.5, 1.5], "teleport": [60, 60], "identity": [60, 60], "speed": [2, 2]}
    pos, _, st = inject(fleet, n_per_kind=2, seed=1, statics=st, return_statics=True,
                        params={"inject": {"ranges": pins, "min_port_nm": 10, "identity_variants": ["clone"]}})
    write_fleet(pos, st, d / "fleet.csv")
    S.ingest([d / "fleet.csv"], d / "store", progress=False, now="2030-01-01")
    return d / "store"


def detect(capsys, *argv) -> tuple[pd.DataFrame, str]:
    out = argv[argv.index("--out") + 1]
    rc = main([str(a) for a in argv])
    o, e = capsys.readouterr()
    assert rc == 0, e
    return pd.read_parquet(out), o


def assert_same(got: pd.DataFrame, ref: pd.DataFrame):
    a, b = (d.sort_values(SORT, kind="stable").reset_index(drop=True) for d in (got, ref))
    pd.testing.assert_frame_equal(a, b)


def test_cluster_equals_in_memory(store, cluster, tmp_path, capsys):
    ref, out = detect(capsys, "detect", store, "--out", tmp_path / "ref.parquet", "--no-model", *LOOSE)
    kinds = set(ref["kind"])
    assert {"encounter", "teleport", "drift", "identity"} <= kinds, kinds     # the cross-partition rule has work to do
    n = out.split(" positions")[0].split()[-1]
    for rows in ("500000", "3000"):                  # one partition; then ~13 partitions of whole vessels
        got, o = detect(capsys, "detect", store, "--out", tmp_path / f"dask{rows}.parquet", "--no-model", *LOOSE,
                        "--dask", cluster.scheduler_address, "--partition-rows", rows)
        assert f"{n} positions from 1 store on dask" in o, o
        assert_same(got, ref)
    assert "1 partitions" not in o


def test_cluster_learns_the_same_places(store, cluster, tmp_path, capsys):
    "With places learned (a low vessel count so that some are) and without: both equal the in-memory run, and differ."
    more = ["--set", "places.min_vessels=2"]
    ref, _ = detect(capsys, "detect", store, "--out", tmp_path / "ref.parquet", "--no-model", *LOOSE, *more)
    off, _ = detect(capsys, "detect", store, "--out", tmp_path / "off.parquet", "--no-model", *LOOSE, *more, "--set", "places.learn=false")
    assert len(ref) != len(off) or not ref.sort_values(SORT).reset_index(drop=True).equals(off.sort_values(SORT).reset_index(drop=True))
    got, _ = detect(capsys, "detect", store, "--out", tmp_path / "dask.parquet", "--no-model", *LOOSE, *more,
                    "--dask", cluster.scheduler_address, "--partition-rows", "3000")
    assert_same(got, ref)


def test_cluster_scores_with_the_model(cluster, tmp_path, capsys):
    "A tiny model on the lane world: its anomalies, scored partition by partition, equal the in-memory ones."
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    import pandas as pd
    from model_fixtures import planted as plant, tiny_model
    from oceanguard.contracts import POSITIONS, conform
    from oceanguard.models.registry import save_model
    model, _ = tiny_model()
    mdir = save_model(model, tmp_path / "models")
    planted, _, _ = plant("slow")
    conform(planted.assign(mmsi=pd.NA, object_type="vessel", raw_file="lane_world", raw_line=range(1, len(planted) + 1)),
            POSITIONS).to_parquet(tmp_path / "planted.parquet")
    S.ingest([tmp_path / "planted.parquet"], tmp_path / "store", progress=False, now="2030-01-01")
    ref, o = detect(capsys, "detect", tmp_path / "store", "--out", tmp_path / "ref.parquet", "--model", mdir)
    assert (ref["detector"] == f"model:lstm@{model.version}").any(), o
    got, o2 = detect(capsys, "detect", tmp_path / "store", "--out", tmp_path / "dask.parquet", "--model", mdir,
                     "--dask", cluster.scheduler_address, "--partition-rows", "1500")
    assert "model: " in o2 and " partitions" in o2, o2
    assert_same(got, ref)


def one_line(capsys, *argv) -> str:
    rc = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("oceanguard: error: "), err
    return err[0]


def test_cluster_errors_are_one_line(store, tmp_path, capsys, monkeypatch):
    out = ["--out", tmp_path / "a.parquet", "--no-model"]
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in one_line(capsys, "detect", store, *out, "--dask", "tcp://127.0.0.1:9")
    assert "must be 'local' or a scheduler address" in one_line(capsys, "detect", store, *out, "--dask", "somewhere")
    assert "one position store" in one_line(capsys, "detect", tmp_path / "x.csv", *out, "--dask", "local")
    monkeypatch.setitem(sys.modules, "distributed", None)          # as if the `scale` extra were not installed
    assert "pip install 'oceanguard[scale]'" in one_line(capsys, "detect", store, *out, "--dask", "local")
