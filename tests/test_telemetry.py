"""Telemetry of a pipeline-like run: every CLI call (and a pipeline stage) leaves an operation record with its outcome
and duration, in the store it worked on or in the default place, and `oceanguard telemetry` summarises them.
Real commands in real processes (the installed entry point), on the shipped samples."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.telemetry import read_telemetry

SAMPLES = ["dma-csv-laeso-ferry/*.csv", "noaa-gpkg-boston-2014/*.gpkg"]


def _cli(*args, env, cwd, ok=True):
    r = subprocess.run([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main(sys.argv[1:]))", *map(str, args)],
                       capture_output=True, text=True, env=env, cwd=cwd)
    if ok: assert r.returncode == 0, (args, r.stderr)
    return r


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("tele")
    env = {**os.environ, "OCEANGUARD_TELEMETRY": str(d / "tele"), "OCEANGUARD_OPERATOR": "ci-operator"}
    _cli("samples", "--out", d / "samples", env=env, cwd=d)
    files = [str(p) for g in SAMPLES for p in sorted((d / "samples").glob(g))]
    _cli("ingest", *files, "--out", d / "store", env=env, cwd=d)
    _cli("detect", d / "store", "--out", d / "store", "--no-model", "--kinds", "teleport,speed", env=env, cwd=d)
    _cli("anomalies", "list", d / "store", "--format", "json", env=env, cwd=d)
    bad = _cli("anomalies", "list", d / "nowhere", env=env, cwd=d, ok=False)
    subprocess.run([sys.executable, "-c", "from oceanguard.telemetry import stage_done; stage_done('monitor', counts={'reports': 1})"],
                   env=env, cwd=d, check=True)
    return d, env, bad


def test_every_operation_is_recorded_with_outcome_and_duration(run):
    d, env, bad = run
    assert bad.returncode == 2
    store = read_telemetry(d / "store")
    default = read_telemetry(d / "tele")
    got = {(r.operation, r.outcome) for r in store.itertuples()} | {(r.operation, r.outcome) for r in default.itertuples()}
    for op in ("cli:ingest", "cli:detect", "cli:anomalies"): assert (op, "ok") in got, got
    assert ("cli:samples", "ok") in got and ("stage:monitor", "ok") in got, got
    errs = default[default.operation == "cli:anomalies"]
    assert len(errs) == 1 and errs.outcome.iloc[0].startswith("error: ") and "nowhere" in errs.outcome.iloc[0], errs
    both = pd.concat([store, default])
    assert both.duration_s.notna().all() and (both.duration_s > 0).all(), both[["operation", "duration_s"]]
    assert set(both.actor) == {"ci-operator"}
    ing = store[store.operation == "cli:ingest"].iloc[0]
    assert ing.duration_s > 0.05 and len(ing.params_hash) == 16


def test_the_summary_counts_runs_errors_and_durations(run):
    d, env, _ = run
    r = _cli("telemetry", d / "tele", "--format", "json", env=env, cwd=d)
    j = json.loads(r.stdout)
    ops = {o["operation"]: o for o in j["by_operation"]}
    assert ops["cli:anomalies"]["runs"] == 1 and ops["cli:anomalies"]["errors"] == 1 and ops["cli:anomalies"]["error_rate"] == 1.0
    assert ops["stage:monitor"]["errors"] == 0 and ops["stage:monitor"]["p95_s"] > 0
    assert sum(x["runs"] for x in j["by_day"]) == j["records"]
    s = _cli("telemetry", d / "store", "--operation", "cli:", env=env, cwd=d).stdout
    assert "cli:detect" in s and "cli:ingest" in s and "by day" in s, s
