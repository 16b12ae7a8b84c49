"""Faults the store survives, measured with real `oceanguard` processes: concurrent ingests (different files, the same
file), `kill -9` at every phase of an ingest (the `OCEANGUARD_FAULT=after:<phase>` test hook), a full disk, a damaged
data file, a read-only store and a store path under a regular file. After each, a rerun leaves exactly the rows,
quarantine, static history and catalogue of one clean ingest.

The full disk and read-only tests mount a small tmpfs and need root; they are skipped with the reason otherwise."""
import gzip
import itertools
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.core import sample_path
from oceanguard.store import (FAULT_ENV, check_store, ingest, load_objects, load_positions, load_quarantine, load_statics,
                              read_manifest)

ROOT = Path(__file__).resolve().parents[1]
REALDAY = ROOT / "datasets/noaa-marinecadastre-2020-01-01/AIS_2020_01_01_named.csv.gz"
FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
STREAM = sample_path("nmea-dma-aislib-2010/stream_example.txt")      # NMEA: positions, statics and quarantined rows
SNAPSHOT = sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv")
PHASES = ["read", "statics", "quarantine", "write", "commit", "derived"]
COUNTS = ["file", "hash", "format", "source", "n_input", "accepted", "quarantined", "duplicates", "other"]


def og(*args, fault: str | None = None, wait: bool = True):
    "Run the `oceanguard` console script (this checkout's package) in a new process."
    exe = Path(sys.executable).parent / "oceanguard"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if fault: env[FAULT_ENV] = fault
    p = subprocess.Popen(cmd + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if not wait: return p
    out, err = p.communicate(timeout=600)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert r.stderr.startswith("oceanguard: error: ") and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert any(w in r.stderr for w in words), r.stderr


def snapshot(store, provenance: bool = True) -> dict:
    "Everything a reader sees, in a canonical row order; `provenance=False` drops where each row came from."
    pos = load_positions(store)
    if not provenance: pos = pos.drop(columns=["raw_file", "raw_line"])
    q, st = load_quarantine(store), load_statics(store)
    man = sorted((tuple(e[k] for k in COUNTS) for e in read_manifest(store)), key=str)
    return {"positions": pos.sort_values(list(pos.columns), ignore_index=True),
            "quarantine": q.sort_values(list(q.columns), ignore_index=True),
            "statics": st.sort_values(list(st.columns), ignore_index=True),
            "objects": load_objects(store).sort_values("object_id", ignore_index=True), "manifest": man}


def same(a: dict, b: dict, manifest: bool = True):
    for k in ["positions", "quarantine", "statics", "objects"]: pd.testing.assert_frame_equal(a[k], b[k], obj=k)
    if manifest: assert a["manifest"] == b["manifest"]


def assert_consistent(store):
    "Every file the logs reference reads, and the catalogue agrees with the committed positions."
    assert check_store(store)["damaged"] == []
    pos, objs = load_positions(store), load_objects(store)
    assert int(objs["n_positions"].sum()) == len(pos)
    assert sum(e["accepted"] for e in read_manifest(store)) == len(pos)


@pytest.fixture(scope="module")
def small_ref(tmp_path_factory):
    "One clean ingest of the ferry day and the NMEA stream, by the real command."
    s = tmp_path_factory.mktemp("ref") / "store"
    r = og("ingest", FERRY, STREAM, "--out", s, "--quiet")
    assert r.returncode == 0 and "(reconciled)" in r.stdout, r.stderr
    return snapshot(s)


@pytest.fixture(scope="module")
def realday(tmp_path_factory):
    "Slices of the real day: `a.csv` rows 0-52.5k and `b.csv` rows 50k-100k (2,500 rows in both), and `day.csv` rows 0-200k."
    d = tmp_path_factory.mktemp("realday")
    with gzip.open(REALDAY, "rt") as f:
        header = f.readline()
        rows = list(itertools.islice(f, 200_000))
    for name, part in [("a.csv", rows[:52_500]), ("b.csv", rows[50_000:100_000]), ("day.csv", rows)]:
        (d / name).write_text(header + "".join(part))
    return d


@pytest.mark.parametrize("phase", PHASES)
def test_kill_at_every_phase_then_rerun(phase, small_ref, tmp_path):
    s = tmp_path / "store"
    r = og("ingest", FERRY, STREAM, "--out", s, "--quiet", fault=f"after:{phase}")
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])
    committed = phase in ("commit", "derived")
    assert len(read_manifest(s)) == {"commit": 1, "derived": 2}.get(phase, 0)
    assert len(load_positions(s)) == (len(small_ref["positions"]) if phase == "derived" else 734 if committed else 0)
    assert_consistent(s)                                       # what is visible after the kill is whole
    rep = ingest([FERRY, STREAM], s, progress=False)           # the rerun
    assert rep.reconciled
    assert [f.skipped for f in rep.files] == {"commit": [True, False], "derived": [True, True]}.get(phase, [False, False])
    same(snapshot(s), small_ref)
    assert_consistent(s)


@pytest.mark.slow
@pytest.mark.parametrize("phase", PHASES)
def test_kill_at_every_phase_real_day(phase, realday, tmp_path):
    ref = tmp_path / "ref"
    ingest([realday / "day.csv"], ref, progress=False)
    s = tmp_path / "store"
    r = og("ingest", realday / "day.csv", "--out", s, "--quiet", fault=f"after:{phase}")
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    assert_consistent(s)
    r = og("ingest", realday / "day.csv", "--out", s, "--quiet")
    assert r.returncode == 0 and "(reconciled)" in r.stdout, r.stderr
    same(snapshot(s), snapshot(ref))


def test_concurrent_ingests_of_different_files(realday, tmp_path):
    "Two processes, two files sharing 2,500 rows, one store: every row lands once, whichever commits first."
    ref = tmp_path / "ref"
    ingest([realday / "a.csv", realday / "b.csv"], ref, progress=False)
    s = tmp_path / "store"
    procs = [og("ingest", realday / f, "--out", s, "--quiet", wait=False) for f in ("a.csv", "b.csv")]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for _, e in outs]
    assert all("(reconciled)" in o for o, _ in outs)
    got, want = snapshot(s, provenance=False), snapshot(ref, provenance=False)
    same(got, want, manifest=False)          # the shared rows count as duplicates of whichever file committed first
    man = read_manifest(s)
    assert sorted(e["file"] for e in man) == ["a.csv", "b.csv"]
    assert sum(e["accepted"] for e in man) == len(got["positions"]) == sum(e["accepted"] for e in read_manifest(ref))
    assert sum(e["duplicates"] for e in man) == sum(e["duplicates"] for e in read_manifest(ref)) >= 2_500
    assert_consistent(s)


def test_concurrent_ingests_of_the_same_files(small_ref, tmp_path):
    "Two processes ingesting the same two files at the same time: each file lands exactly once."
    s = tmp_path / "store"
    procs = [og("ingest", FERRY, STREAM, "--out", s, "--quiet", wait=False) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for _, e in outs]
    for f in (FERRY.name, STREAM.name):           # one process stored it, the other found it stored
        notes = [next(l for l in o.splitlines() if l.lstrip().startswith(f)) for o, _ in outs]
        assert sum("already ingested, skipped" in n for n in notes) == 1, notes
    same(snapshot(s), small_ref)


@pytest.fixture
def tmpfs(tmp_path):
    "A 512 kB tmpfs mounted at a fresh folder (root only)."
    if os.geteuid() != 0: pytest.skip("mounting a small tmpfs needs root (the full-disk and read-only tests run as root in CI)")
    d = tmp_path / "mnt"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode: pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_full_disk_is_one_line_and_the_rerun_completes(tmpfs, realday, tmp_path):
    ref = tmp_path / "ref"
    ingest([realday / "a.csv"], ref, progress=False)            # ~0.95 MB of positions: more than the 512 kB disk
    s = tmpfs / "store"
    r = og("ingest", realday / "a.csv", "--out", s, "--quiet")
    one_line_error(r, "no space left on device")
    assert read_manifest(s) == [] and len(load_positions(s)) == 0
    assert not list((s / "positions").rglob("*.parquet"))            # no half-written file left behind
    assert check_store(s)["damaged"] == []                      # what was committed (statics, quarantine) reads
    subprocess.run(["mount", "-o", "remount,size=64m", str(tmpfs)], check=True)
    r = og("ingest", realday / "a.csv", "--out", s, "--quiet")
    assert r.returncode == 0 and "(reconciled)" in r.stdout, r.stderr
    same(snapshot(s), snapshot(ref))


def test_read_only_store_is_one_line(tmpfs, small_ref):
    s = tmpfs / "store"
    ingest([FERRY], s, progress=False)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    one_line_error(og("ingest", STREAM, "--out", s, "--quiet"), "read-only")
    one_line_error(og("ingest", FERRY, "--out", tmpfs / "new", "--quiet"), "read-only")
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert ingest([FERRY, STREAM], s, progress=False).reconciled
    same(snapshot(s), small_ref)


def test_store_path_under_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    one_line_error(og("ingest", FERRY, "--out", tmp_path / "afile" / "store", "--quiet"), "regular file", "Not a directory")
    with pytest.raises(Exception, match="not a directory"): ingest([FERRY], tmp_path / "afile", progress=False)


def test_damaged_data_file_check_detect_repair(tmp_path):
    s = tmp_path / "store"
    ingest([FERRY, SNAPSHOT], s, progress=False)
    keep = load_positions(s, start="2021-09-07", end="2021-09-07 23:59:59")
    victim = next((s / "positions").glob("date=2022-10-15/*.parquet"))
    b = bytearray(victim.read_bytes())
    b[len(b) // 3: len(b) // 3 + 64] = b"\xff" * 64                  # overwritten bytes: same size, page checksum fails
    victim.write_bytes(bytes(b))
    r = og("store", "check", s)
    assert r.returncode == 2 and f"DAMAGED positions/date=2022-10-15/{victim.name}" in r.stdout and str(FERRY) in r.stdout, r.stdout
    one_line_error(og("detect", s, "--out", tmp_path / "an.parquet", "--no-model"), "oceanguard store repair")
    r = og("store", "repair", s)
    assert r.returncode == 0 and "734 rows lost" in r.stdout, r.stdout + r.stderr
    assert check_store(s)["damaged"] == []
    pd.testing.assert_frame_equal(load_positions(s), keep)      # the rest reads, unchanged
    assert int(load_objects(s)["n_positions"].sum()) == len(keep)
    r = og("detect", s, "--out", tmp_path / "an.parquet", "--no-model")
    assert r.returncode == 0, r.stderr
    assert json_repair(s)[0]["rows"] == 734


def json_repair(store) -> list:
    "What `store repair` recorded in the positions table's log."
    import json
    from deltalake import DeltaTable
    return [d for h in DeltaTable(str(Path(store) / "positions")).history() if "oceanguard.repair" in h for d in json.loads(h["oceanguard.repair"])]


def test_old_layout_is_refused_then_migrated(tmp_path):
    old = tmp_path / "old"
    (old / "positions" / "date=2022-10-15").mkdir(parents=True)
    ref = tmp_path / "ref"
    ingest([FERRY], ref, progress=False)
    load_positions(ref).to_parquet(old / "positions" / "date=2022-10-15" / "part-0.parquet", index=False)
    (old / "manifest.json").write_text('[{"file": "%s", "hash": "%s", "format": "dma", "n_input": 735, "accepted": 734}]'
                                       % (FERRY.name, read_manifest(ref)[0]["hash"]))
    one_line_error(og("ingest", FERRY, "--out", old, "--quiet"), f"oceanguard store migrate {old}")
    with pytest.raises(Exception, match="oceanguard store migrate"): load_positions(old)
    r = og("store", "migrate", old, tmp_path / "new")
    assert r.returncode == 0 and "734 positions" in r.stdout, r.stderr
    pd.testing.assert_frame_equal(load_positions(tmp_path / "new"), load_positions(ref))
    assert ingest([FERRY], tmp_path / "new", progress=False).files[0].skipped


def test_disk_full_while_two_files_are_written_side_by_side(realday, tmp_path, monkeypatch):
    "A large date is written as two files on two threads: if one fails (here: no space left), neither stays, and the rerun completes."
    import errno
    import pyarrow.parquet as pq
    import oceanguard.store as store_mod
    ref = tmp_path / "ref"
    ingest([realday / "day.csv"], ref, progress=False)
    monkeypatch.setattr(store_mod, "PARALLEL_WRITE_ROWS", 20_000)      # the 200k rows of one date: two position files
    write, calls = pq.write_table, []
    def fail_second(table, where, **kw):
        calls.append(str(where))
        if "positions" in str(where) and sum("positions" in c for c in calls) == 2: raise OSError(errno.ENOSPC, "No space left on device")
        return write(table, where, **kw)
    monkeypatch.setattr(store_mod.pq, "write_table", fail_second)
    s = tmp_path / "store"
    with pytest.raises(Exception, match="no space left|No space left"): ingest([realday / "day.csv"], s, progress=False)
    assert sum("positions" in c for c in calls) == 2                 # both files were started
    assert not list((s / "positions").rglob("*.parquet")) and read_manifest(s) == []
    monkeypatch.setattr(store_mod.pq, "write_table", write)
    ingest([realday / "day.csv"], s, progress=False)
    assert len(list((s / "positions").rglob("*.parquet"))) == 2     # the rerun writes the date as two files
    same(snapshot(s), snapshot(ref))
