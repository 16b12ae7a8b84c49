"""`oceanguard ingest` / `oceanguard samples` end to end on the shipped real samples: reconciled counts,
idempotence, quarantine reasons, and one-line errors for bad inputs."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from oceanguard.cli import main
from oceanguard.contracts import Reason
from oceanguard.core import file_hash, sample_path
from oceanguard.store import load_objects, load_positions, load_quarantine, read_manifest

ROOT = Path(__file__).resolve().parents[1]
EXE = ROOT / ".venv" / "bin" / "oceanguard"
SAMPLES = {  # file -> (format detected, rows in, accepted, quarantined by reason, duplicates): known values of each shipped file
    "dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv": ("dma", 735, 734, {}, 1),
    "dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv": ("dma", 99, 98, {}, 1),
    "dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg": ("geo", 255, 255, {}, 0),
    "noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg": ("geo", 972, 972, {}, 0),
    "nmea-dma-aislib-2010/stream_example.txt": ("nmea", 3154, 3127, {"no_position": 27}, 0),
    "nmea-format-variants/libais_test_uscg.aivdm": ("nmea", 53, 43, {"lat_out_of_range": 4, "lon_out_of_range": 3, "decode_error": 3}, 0),
    "nmea-format-variants/libais_tagblock.nmea": ("nmea", 3, 3, {}, 0),
    "nmea-format-variants/gpsd_sample.aivdm": ("nmea", 19, 0, {"bad_timestamp": 18, "decode_error": 1}, 0),  # no times in the file
}

def run(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err

@pytest.mark.parametrize("name", list(SAMPLES))
def test_ingest_each_sample_reconciles(name, tmp_path, capsys):
    fmt, n_in, acc, reasons, dups = SAMPLES[name]
    rc, out, err = run(["ingest", str(sample_path(name)), "--out", str(tmp_path / "store"), "--quiet"], capsys)
    assert rc == 0, err
    assert "(reconciled)" in out and "objects in store" in out
    (e,) = read_manifest(tmp_path / "store")
    assert e["format"] == fmt and e["hash"] == file_hash(sample_path(name))
    assert (e["n_input"], e["accepted"], e["quarantined"], e["duplicates"], e["other"]) == (n_in, acc, sum(reasons.values()), dups, 0)
    assert e["n_input"] == e["accepted"] + e["quarantined"] + e["duplicates"] + e["other"]
    pos = load_positions(tmp_path / "store")
    assert len(pos) == e["accepted"]
    objs = load_objects(tmp_path / "store")
    assert objs["object_id"].is_unique
    assert int(objs["n_positions"].sum()) == e["accepted"]
    assert set(pos["object_id"]) <= set(objs["object_id"])
    q = load_quarantine(tmp_path / "store")
    assert len(q) == e["quarantined"] and q["reason"].value_counts().to_dict() == reasons

def test_nmea_stream_statics_reach_the_catalogue(tmp_path, capsys):
    rc, out, _ = run(["ingest", str(sample_path("nmea-dma-aislib-2010/stream_example.txt")), "--out", str(tmp_path), "--quiet"], capsys)
    assert rc == 0
    (e,) = read_manifest(tmp_path)
    assert e["n_input"] > 2900 and e["other"] == 0   # statics (424 type-5 messages) are not position rows
    objs = load_objects(tmp_path)
    named = objs.dropna(subset=["name"])
    assert len(named) >= 400 and named["object_id"].str.startswith("mmsi:").all()
    assert {"A", "B"} <= set(objs["ais_class"].dropna())
    assert (objs.loc[objs.mmsi.astype("Int64").floordiv(1_000_000).eq(219) & objs.mmsi_valid.fillna(False).astype(bool), "flag_state"] == "Denmark").all()

def test_reingest_adds_nothing(tmp_path, capsys):
    files = [str(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")), str(sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg"))]
    assert run(["ingest", *files, "--out", str(tmp_path), "--quiet"], capsys)[0] == 0
    n, objs = len(load_positions(tmp_path)), load_objects(tmp_path)
    parts = sorted(p.relative_to(tmp_path) for p in (tmp_path / "positions").rglob("*.parquet"))
    rc, out, _ = run(["ingest", *files, "--out", str(tmp_path), "--quiet"], capsys)
    assert rc == 0 and out.count("already ingested, skipped") == 2
    assert "0 = 0 + 0 + 0 + 0" in out
    assert len(load_positions(tmp_path)) == n
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "positions").rglob("*.parquet")) == parts
    assert load_objects(tmp_path)["n_positions"].tolist() == objs["n_positions"].tolist()
    assert len(read_manifest(tmp_path)) == 2

def test_quarantine_has_reasons(tmp_path, capsys):
    # the USCG log carries deliberately invalid positions (lat -87.2 is fine, lon -195/218 are not) and odd sentences
    rc, out, _ = run(["ingest", str(sample_path("nmea-format-variants/libais_test_uscg.aivdm")), "--out", str(tmp_path), "--quiet"], capsys)
    assert rc == 0
    q = load_quarantine(tmp_path)
    assert len(q) > 0
    printed = out.split("quarantined by reason: ")[1].splitlines()[0]
    assert all(f"{r} {n:,}" in printed for r, n in q["reason"].value_counts().items())
    assert q["reason"].notna().all() and q["reason"].isin(Reason.ALL).all()
    assert (q["raw_file"] == "libais_test_uscg.aivdm").all() and q["raw_line"].notna().all()

def test_columns_mapping_and_source(tmp_path, capsys):
    csv = tmp_path / "track.csv"
    csv.write_text("When,Ship,Y,X,Speed\n2024-03-01T10:00:00Z,219000734,57.3,10.9,12.0\n2024-03-01T10:01:00Z,219000734,57.31,10.9,12.1\n"
                   "not a time,219000734,57.32,10.9,12.2\n")
    rc, out, err = run(["ingest", str(csv), "--out", str(tmp_path / "s"), "--format", "csv", "--columns",
                        "timestamp=When,mmsi=Ship,lat=Y,lon=X,sog=Speed", "--source", "harbour_radar_ais", "--quiet"], capsys)
    assert rc == 0, err
    (e,) = read_manifest(tmp_path / "s")
    assert (e["n_input"], e["accepted"], e["quarantined"]) == (3, 2, 1)
    pos = load_positions(tmp_path / "s")
    assert set(pos["source"]) == {"harbour_radar_ais"} and pos["sog"].tolist() == [12.0, 12.1]
    assert load_quarantine(tmp_path / "s")["reason"].tolist() == [Reason.BAD_TIMESTAMP]

@pytest.mark.parametrize("args, words", [
    (["ingest", "/nonexistent/x.csv", "--out", "{tmp}"], "not found"),
    (["ingest", "{tmp}", "--out", "{tmp}/s"], "directory"),
    (["ingest", "{ferry}", "--out", "{tmp}/s", "--format", "excel"], "unknown format 'excel'"),
    (["ingest", "{ferry}", "--out", "{tmp}/s", "--columns", "timestamp"], "field=Column"),
    (["ingest", "{ferry}", "--out", "{tmp}/s", "--columns", "speedy=SOG"], "speedy"),
    (["ingest", "{ferry}"], "--out"),
    (["ingest", "{ferry}", "--out", "{tmp}/s", "--chunksize", "0"], "chunksize"),
    (["samples"], "--out"),
])
def test_bad_inputs_one_line_exit_2(args, words, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, ferry=sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")) for a in args]
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("oceanguard: error: ") and words in err
    assert "Traceback" not in err
    assert not (tmp_path / "s" / "positions").exists()

def test_real_executable_bad_input(tmp_path):
    r = subprocess.run([str(EXE), "ingest", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "s")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "missing.csv" in r.stderr and "Traceback" not in r.stderr

def test_real_executable_ingest(tmp_path):
    r = subprocess.run([str(EXE), "ingest", str(sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")), "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "255 = 255 + 0 + 0 + 0 (reconciled)" in r.stdout and "vessel" in r.stdout

def test_samples_are_byte_identical_and_deterministic(tmp_path, capsys):
    assert run(["samples", "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert run(["samples", "--out", str(tmp_path / "b")], capsys)[0] == 0
    src = sample_path("dma-csv-laeso-ferry").parent
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert sum(1 for f in files if f.name == "PROVENANCE.md") == 5
    for rel in files:
        assert file_hash(tmp_path / "a" / rel) == file_hash(src / rel) == file_hash(tmp_path / "b" / rel)
    # running again over an existing folder leaves it unchanged
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert run(["samples", "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*") if p.is_file()} == before

def test_undetectable_second_file_fails_before_any_work(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    rc, out, err = run(["ingest", str(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")), str(tmp_path / "empty.txt"),
                        "--out", str(tmp_path / "s")], capsys)
    assert rc == 2 and err.count("\n") == 1 and "empty.txt" in err
    assert not (tmp_path / "s" / "positions").exists() and read_manifest(tmp_path / "s") == []


# --- archives as published: ingesting the compressed file stores what the plain file stores ---
import bz2
import gzip
import zipfile


def _stored(store):
    pos = load_positions(store).drop(columns="raw_file").sort_values(["object_id", "timestamp"], ignore_index=True)
    return pos, read_manifest(store)


def test_ingest_zip_of_two_days_like_the_plain_files(tmp_path, capsys):
    ferry, snap = (sample_path(f"dma-csv-laeso-ferry/{n}") for n in ("ferry_laeso_2022-10-15.csv", "snapshot_2021-09-07_20s.csv"))
    zp = tmp_path/"aisdk.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ferry, ferry.name); z.write(snap, snap.name); z.writestr("__MACOSX/._x", "junk")
    assert run(["ingest", str(ferry), str(snap), "--out", str(tmp_path/"a"), "--quiet"], capsys)[0] == 0
    rc, out, err = run(["ingest", str(zp), "--out", str(tmp_path/"b"), "--quiet"], capsys)
    assert rc == 0, err
    assert "(reconciled)" in out
    (pa, ma), (pb, (mb,)) = _stored(tmp_path/"a"), _stored(tmp_path/"b")
    import pandas as pd
    pd.testing.assert_frame_equal(pa, pb)
    assert mb["format"] == "dma" and mb["hash"] == file_hash(zp)
    for k in ("n_input", "accepted", "quarantined", "duplicates", "other"): assert mb[k] == sum(e[k] for e in ma), k
    assert set(load_positions(tmp_path/"b")["raw_file"]) == {f"aisdk.zip!{ferry.name}", f"aisdk.zip!{snap.name}"}


@pytest.mark.parametrize("kind", ["bz2", "xz", "gz"])
def test_ingest_compressed_nmea_like_the_plain_log(kind, tmp_path, capsys):
    import lzma
    import pandas as pd
    src = sample_path("nmea-dma-aislib-2010/stream_example.txt")
    arc = tmp_path/f"{src.name}.{kind}"
    arc.write_bytes({"bz2": bz2.compress, "xz": lzma.compress, "gz": gzip.compress}[kind](src.read_bytes()))
    assert run(["ingest", str(src), "--out", str(tmp_path/"a"), "--quiet"], capsys)[0] == 0
    assert run(["ingest", str(arc), "--out", str(tmp_path/"b"), "--quiet"], capsys)[0] == 0
    (pa, (ma,)), (pb, (mb,)) = _stored(tmp_path/"a"), _stored(tmp_path/"b")
    pd.testing.assert_frame_equal(pa, pb)
    assert mb["format"] == "nmea"
    for k in ("n_input", "accepted", "quarantined", "duplicates", "other"): assert mb[k] == ma[k], k
    q = load_quarantine(tmp_path/"b")
    assert set(q["raw_file"]) <= {arc.name}
    assert sorted(q["raw_line"]) == sorted(load_quarantine(tmp_path/"a")["raw_line"])


def test_ingest_with_explicit_format_decompresses(tmp_path, capsys):
    src = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
    gz = tmp_path/"ferry.csv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    rc, out, err = run(["ingest", str(gz), "--format", "dma", "--out", str(tmp_path/"s"), "--quiet"], capsys)
    assert rc == 0, err
    (e,) = read_manifest(tmp_path/"s")
    assert (e["n_input"], e["quarantined"], e["accepted"] + e["duplicates"] + e["other"]) == (735, 0, 735)


def test_ingest_damaged_zip_is_one_line(tmp_path, capsys):
    (tmp_path/"AIS_2020_01_01.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    rc, out, err = run(["ingest", str(tmp_path/"AIS_2020_01_01.zip"), "--out", str(tmp_path/"s")], capsys)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("oceanguard: error: ") and "AIS_2020_01_01.zip" in err
    assert "Traceback" not in err and not (tmp_path/"s"/"positions").exists()
