"""Fast start: `oceanguard --help` and argument errors answer without importing the heavy libraries.

Not a timed test (the machine is shared): it checks what was imported, in a fresh interpreter, after the
command answered. `benchmarks/bench_cli_start.py` gives the times."""
import json
import subprocess
import sys

import pytest

from oceanguard.cli import COMMANDS
from oceanguard.commands import PARSERS, RULE_KINDS

HEAVY = ("numpy", "pandas", "pyarrow", "torch", "scipy", "yaml", "pydantic", "pandera", "dask", "distributed", "geopandas", "shapely", "sklearn")

PROBE = """
import json, sys, contextlib, io
from oceanguard.cli import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try: rc = main(sys.argv[1:])
    except SystemExit as e: rc = e.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
print(json.dumps({"rc": rc, "heavy": heavy, "out": out.getvalue(), "err": err.getvalue()}))
""" % (HEAVY,)


def _run(*argv) -> dict:
    r = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_help_imports_nothing_heavy():
    r = _run("--help")
    assert r["rc"] == 0 and "detect" in r["out"], r
    assert r["heavy"] == [], r["heavy"]


@pytest.mark.parametrize("cmd", sorted(PARSERS))
def test_command_help_and_wrong_option_import_nothing_heavy(cmd):
    h = _run(cmd, "--help")
    assert h["rc"] == 0 and f"oceanguard {cmd}" in h["out"], h
    assert h["heavy"] == [], (cmd, h["heavy"])
    e = _run(cmd, "--no-such-option")
    assert e["rc"] == 2 and e["err"].startswith(f"oceanguard: error: oceanguard {cmd}: ") and len(e["err"].strip().splitlines()) == 1, e
    assert e["heavy"] == [], (cmd, e["heavy"])


def test_a_missing_argument_is_caught_before_the_imports():
    r = _run("detect", "--no-model")
    assert r["rc"] == 2 and "the following arguments are required: INPUT, --out" in r["err"], r
    assert r["heavy"] == [], r["heavy"]


def test_the_probe_sees_heavy_imports_when_a_command_runs(tmp_path):
    "The check above can fail: a command that really runs (a missing input file) has imported pandas."
    r = _run("detect", str(tmp_path / "none.csv"), "--out", str(tmp_path / "a.parquet"), "--no-model")
    assert r["rc"] == 2 and "not found" in r["err"], r
    assert "pandas" in r["heavy"], r["heavy"]


def test_parsers_name_known_commands_and_the_rule_kinds():
    from oceanguard.detect import RULES
    assert set(PARSERS) == set(COMMANDS)        # every command answers --help and a wrong option before its imports
    assert RULE_KINDS == tuple(RULES)


@pytest.mark.parametrize("argv, words", [(["ingest", "a.csv", "--out", "s", "--format", "excel"], "unknown format 'excel'"),
                                         (["ingest", "a.csv", "--out", "s", "--chunksize", "0"], "chunksize must be a positive"),
                                         (["store", "polish", "s"], "invalid choice")])
def test_a_wrong_value_is_caught_before_the_imports(argv, words):
    r = _run(*argv)
    assert r["rc"] == 2 and words in r["err"] and len(r["err"].strip().splitlines()) == 1, r
    assert r["heavy"] == [], r["heavy"]
