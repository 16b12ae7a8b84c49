"""Archives as published (NOAA `AIS_YYYY_MM_DD.zip`, DMA `aisdk-YYYY-MM-DD.zip`, `.csv.gz`, `.bz2`/`.xz` logs) read like the plain file."""
import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from oceanguard.cli import main
from oceanguard.core import OceanguardError, sample_path
from oceanguard.readers import Input, archive_members, as_input, detect_format, iter_any, read_any

FIX = Path(__file__).parent/"fixtures"
FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
SNAPSHOT = sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv")
GOTHENBURG = sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")
STREAM = sample_path("nmea-dma-aislib-2010/stream_example.txt")
TAGBLOCK = sample_path("nmea-format-variants/libais_tagblock.nmea")
MAPPED = "timestamp=Time,mmsi=Ship,lat=Y,lon=X,sog=Speed,cog=Course"
REAL_DAY = Path(__file__).resolve().parents[1]/"datasets"/"noaa-marinecadastre-2020-01-01"/"AIS_2020_01_01_named.csv.gz"
OPEN = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}


def pack(src: Path, d: Path, kind: str, name: str | None = None) -> Path:
    "`src` compressed as `kind` (gz, bz2, xz, zip) into folder `d`."
    if kind == "zip":
        out = d/f"{name or src.stem}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z: z.write(src, src.name)
        return out
    out = d/f"{name or src.name}.{kind}"
    with OPEN[kind](out, "wb") as f: f.write(src.read_bytes())
    return out


def same(a, b, member: str):
    "Same rows, same quarantine (reasons, line numbers), `raw_file` naming the member."
    assert a.n_input == b.n_input and len(a.quarantine) == len(b.quarantine) and len(a.positions) == len(b.positions)
    assert set(b.positions.raw_file) <= {member} and set(b.quarantine.raw_file) <= {member}
    for k in ("positions", "statics", "quarantine"):
        x, y = getattr(a, k).drop(columns="raw_file"), getattr(b, k).drop(columns="raw_file")
        pd.testing.assert_frame_equal(x.reset_index(drop=True), y.reset_index(drop=True))


CASES = [  # (file, format detected, read_any keyword arguments)
    (FERRY, "dma", {}),
    (SNAPSHOT, "dma", {}),
    (FIX/"noaa_2023_sample.csv", "noaa", {}),
    (FIX/"mapped_semicolon.csv", "csv", {"columns": MAPPED}),
    (FIX/"detections_sar.csv", "detections", {}),
    (FIX/"structures.csv", "structures", {}),
    (STREAM, "nmea", {}),
    (TAGBLOCK, "nmea", {}),
    (FIX/"bad"/"truncated_dma.csv", "dma", {}),
    (FIX/"bad"/"non_utf8_dma.csv", "dma", {}),
    (FIX/"bad"/"bad_values_dma.csv", "dma", {}),
    (FIX/"nmea"/"missing_part.nmea", "nmea", {}),
]


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
@pytest.mark.parametrize("path,fmt,kw", CASES, ids=[c[0].name for c in CASES])
def test_archive_reads_like_the_plain_file(path, fmt, kw, kind, tmp_path):
    arc = pack(path, tmp_path, kind)
    assert detect_format(arc) == fmt
    member = f"{arc.name}!{path.name}" if kind == "zip" else arc.name
    same(read_any(path, **kw), read_any(arc, **kw), member)
    same(read_any(path, format=fmt, **kw), read_any(arc, format=fmt, **kw), member)   # an explicit format decompresses too


def test_vector_files_in_archives(tmp_path):
    gz = pack(GOTHENBURG, tmp_path, "zip")
    assert detect_format(gz) == "geo"
    same(read_any(GOTHENBURG), read_any(gz), f"{gz.name}!{GOTHENBURG.name}")
    gj = tmp_path/"platforms.geojson"
    gj.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"T1","kind":"wind_turbine"},'
                  '"geometry":{"type":"Point","coordinates":[11.2,56.6]}}]}')
    arc = pack(gj, tmp_path, "gz")
    assert detect_format(arc) == "structures"
    same(read_any(gj), read_any(arc), arc.name)


def test_positions_parquet_in_a_zip_with_its_statics(tmp_path):
    r = read_any(FERRY)
    r.positions.drop(columns=["raw_file", "raw_line"]).to_parquet(tmp_path/"fleet.parquet")
    r.statics.to_parquet(tmp_path/"fleet.statics.parquet")
    with zipfile.ZipFile(tmp_path/"fleet.zip", "w") as z:
        for f in ("fleet.parquet", "fleet.statics.parquet"): z.write(tmp_path/f, f)
    assert [m.member for m in archive_members(tmp_path/"fleet.zip")] == ["fleet.parquet"]   # the sidecar is not a second table
    plain, zipped = read_any(tmp_path/"fleet.parquet"), read_any(tmp_path/"fleet.zip")
    assert detect_format(tmp_path/"fleet.zip") == "positions"
    assert len(zipped.positions) == 735 and len(zipped.statics) == len(plain.statics) > 0
    assert set(zipped.positions.raw_file) == {"fleet.zip!fleet.parquet"}


def test_zip_of_many_members_reads_each_in_turn(tmp_path):
    arc = tmp_path/"aisdk-2022-10-15.zip"
    with zipfile.ZipFile(arc, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("aisdk/", "")
        z.write(FERRY, "aisdk/" + FERRY.name)
        z.writestr("__MACOSX/aisdk/._" + FERRY.name, b"\x00\x05\x16\x07 mac resource fork")
        z.writestr("PROVENANCE.md", "# Danish Maritime Authority")
        z.writestr("README.txt", "read me")
        z.writestr(".DS_Store", b"\x00\x00\x00\x01Bud1")
        z.write(FIX/"bad"/"truncated_dma.csv", "aisdk/truncated_dma.csv")
    assert [m.member for m in archive_members(arc)] == ["aisdk/" + FERRY.name, "aisdk/truncated_dma.csv"]
    both = read_any(arc, chunksize=100)
    one, two = read_any(FERRY), read_any(FIX/"bad"/"truncated_dma.csv")
    assert both.n_input == one.n_input + two.n_input
    assert len(both.positions) == len(one.positions) + len(two.positions)
    q = both.quarantine
    assert len(q) == len(one.quarantine) + len(two.quarantine) > 0
    assert set(q.raw_file) == {f"{arc.name}!aisdk/truncated_dma.csv"}
    assert q.raw_line.tolist() == two.quarantine.raw_line.tolist()        # line numbers restart with each member
    assert both.positions.raw_line.iloc[0] == 2 and set(both.positions.raw_file) == {f"{arc.name}!aisdk/{FERRY.name}", f"{arc.name}!aisdk/truncated_dma.csv"}


def test_streamed_in_chunks_not_whole(tmp_path):
    gz = pack(FERRY, tmp_path, "gz")
    src = as_input(gz)
    assert src == Input(gz, "gzip") and src.inner == FERRY.name
    chunks = list(iter_any(gz, chunksize=100))
    assert len(chunks) == 8 and sum(c.n_input for c in chunks) == 735
    assert [c.positions.raw_line.iloc[0] for c in chunks[:3]] == [2, 102, 202]


def test_compression_found_by_content_not_name(tmp_path):
    blob = tmp_path/"AIS_2020_01_01"                         # no extension at all
    blob.write_bytes(gzip.compress(FERRY.read_bytes()))
    assert detect_format(blob) == "dma" and read_any(blob).n_input == 735


def test_mixed_formats_in_one_zip_is_one_line(tmp_path):
    arc = tmp_path/"mixed.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.write(FERRY, FERRY.name); z.write(TAGBLOCK, TAGBLOCK.name)
    with pytest.raises(OceanguardError, match="mixes formats"): detect_format(arc)
    r = read_any(arc, format="nmea")                          # an explicit format is applied to every member
    assert len(r.positions) > 0 and set(r.quarantine.raw_file) >= {f"mixed.zip!{FERRY.name}"}


def damaged(tmp_path) -> dict:
    "Damaged archives -> words their one-line error must hold."
    full = gzip.compress(FERRY.read_bytes())
    (tmp_path/"cut.csv.gz").write_bytes(full[:len(full)//2])
    (tmp_path/"cut.nmea.bz2").write_bytes(bz2.compress(STREAM.read_bytes())[:5000])
    (tmp_path/"cut.csv.xz").write_bytes(lzma.compress(FERRY.read_bytes())[:3000])
    with zipfile.ZipFile(tmp_path/"empty.zip", "w"): pass
    with zipfile.ZipFile(tmp_path/"docs.zip", "w") as z: z.writestr("PROVENANCE.md", "# nothing else")
    good = pack(FERRY, tmp_path, "zip", "good")
    data = bytearray(good.read_bytes())
    data[200:260] = bytes(60)                                   # the deflated data, not the directory
    (tmp_path/"corrupt.zip").write_bytes(bytes(data))
    (tmp_path/"cut.zip").write_bytes(good.read_bytes()[:3000])  # no central directory
    (tmp_path/"fake.csv.gz").write_text("this is not gzip\n")
    with zipfile.ZipFile(tmp_path/"nested.zip", "w") as z: z.write(pack(FERRY, tmp_path, "gz"), "ferry.csv.gz")
    return {"cut.csv.gz": "damaged or truncated gzip", "cut.nmea.bz2": "damaged or truncated bzip2",
            "cut.csv.xz": "damaged or truncated xz", "empty.zip": "holds no data file", "docs.zip": "holds no data file",
            "corrupt.zip": "damaged or truncated zip", "cut.zip": "damaged or truncated zip", "fake.csv.gz": "not a gzip file",
            "nested.zip": "archive inside an archive"}


@pytest.mark.parametrize("command", ["detect", "ingest", "report"])
def test_damaged_archives_stop_with_one_line(command, tmp_path, capsys):
    for name, words in damaged(tmp_path).items():
        out = tmp_path/("o.parquet" if command == "detect" else "store" if command == "ingest" else "o.html")
        argv = [command, str(tmp_path/name), "--out", str(out)] + (["--no-model"] if command == "detect" else [])
        rc = main(argv)
        _, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert rc == 2, (name, err)
        assert len(lines) == 1 and lines[0].startswith("oceanguard: error: ") and "Traceback" not in err, (name, err)
        assert name in lines[0] and words in lines[0], (name, lines[0])


def test_train_reads_archives(tmp_path):
    from oceanguard.models.train import read_positions
    gz = pack(FERRY, tmp_path, "gz")
    a, b = read_positions(FERRY), read_positions(gz)
    pd.testing.assert_frame_equal(a.drop(columns="raw_file"), b.drop(columns="raw_file"))


@pytest.mark.slow
@pytest.mark.skipif(not REAL_DAY.exists(), reason="the real NOAA day is not in datasets/")
def test_real_noaa_day_streams_from_gz():
    assert detect_format(REAL_DAY) == "noaa"
    n, q, ids = 0, 0, set()
    for r in iter_any(REAL_DAY):
        n += len(r.positions); q += len(r.quarantine); ids.update(r.positions.object_id.unique())
    assert (n + q, len(ids)) == (5_456_523, 10_697)
