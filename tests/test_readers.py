"""Readers on the shipped real samples and on bad input: every row is a position or a quarantine entry, every user mistake one line."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import POSITIONS, QUARANTINE, STATICS, Reason, conform, empty, validate
from oceanguard.core import OceanguardError, sample_path
from oceanguard.readers import (FORMATS, STRUCTURE_EPOCH, ReadResult, detect_format, iter_any, iter_dma, iter_geo,
                                parse_columns, read_any, read_csv, read_detections, read_dma, read_geo, read_noaa,
                                read_structures)

FIX = Path(__file__).parent/"fixtures"
BAD = FIX/"bad"
FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")
SNAPSHOT = sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv")
GOTHENBURG = sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg")
BOSTON = sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")
UTC = lambda s: pd.Timestamp(s, tz="UTC")


def check_contracts(r: ReadResult, values: bool = True):
    "Frames have the contract columns and dtypes (and, for clean files, values); every input row is accounted for once."
    for frame, schema in ((r.positions, POSITIONS), (r.statics, STATICS), (r.quarantine, QUARANTINE)):
        assert list(frame.columns) == list(schema.columns)
        assert frame.dtypes.astype(str).tolist() == empty(schema).dtypes.astype(str).tolist()
        if values: validate(frame, schema)
    assert r.n_input == len(r.positions) + len(r.quarantine)
    assert str(r.positions.timestamp.dtype) == "datetime64[ns, UTC]"


# ---------------------------------------------------------------- real samples

def test_dma_ferry():
    r = read_dma(FERRY)
    check_contracts(r)
    p = r.positions
    assert (r.n_input, len(p), len(r.quarantine)) == (735, 735, 0)
    assert (p.timestamp.min(), p.timestamp.max()) == (UTC("2022-10-15 11:16:01"), UTC("2022-10-15 13:02:58"))
    assert set(p.object_id) == {"mmsi:219000734"} and set(p.source) == {"dma"} and set(p.object_type) == {"vessel"}
    assert p.lat.between(57.2967, 57.4374).all() and p.lon.between(10.5389, 10.9223).all()
    assert p.rot.isna().sum() == 121                    # PROVENANCE: 121 empty ROT
    assert p.timestamp.duplicated().sum() == 5          # PROVENANCE: 5 duplicate timestamps, kept for cleaning
    assert set(p.nav_status) == {0}                     # "Under way using engine"
    first = p.iloc[0]
    assert (first.lat, first.lon, first.cog, first.heading, first.raw_line, first.raw_file) == \
           (57.296787, 10.922245, 210.3, 180.0, 2, FERRY.name)
    assert p.raw_line.tolist() == list(range(2, 737))
    s = r.statics.iloc[0]
    assert (s["name"], s.imo, s.callsign, s.ais_class, s.ship_type_text, s.length, s.width, s.draught, s.destination) == \
           ("ANE LAESOE", 9107370, "OXXL", "A", "Passenger", 54.0, 15.0, 2.9, "LAESOE-FREDERIKSHAVN")
    assert len(r.statics) < 20                           # repeated static data is collapsed


def test_dma_chunked_equals_whole():
    whole = read_dma(FERRY)
    chunks = list(iter_dma(FERRY, chunksize=100))
    assert len(chunks) == 8 and [c.n_input for c in chunks] == [100] * 7 + [35]
    pd.testing.assert_frame_equal(pd.concat([c.positions for c in chunks], ignore_index=True), whole.positions)


def test_dma_snapshot_with_extra_columns():
    r = read_dma(SNAPSHOT)
    check_contracts(r)
    assert (r.n_input, len(r.positions), r.positions.mmsi.nunique()) == (99, 99, 63)
    assert r.positions.timestamp.min() == UTC("2021-09-07 00:00:00")
    assert r.positions.timestamp.max() == UTC("2021-09-07 00:00:20")
    assert r.statics.object_id.nunique() == 63
    assert r.statics.groupby("ais_class").object_id.nunique().to_dict() == {"A": 60, "B": 3}
    assert r.positions.nav_status.isin([0, 3, 5, 7, 8, 15]).all()
    assert r.statics.imo.min() > 0                       # "Unknown" IMO is <NA>, not 0


def test_dma_base_station_and_aton_are_structures(tmp_path):
    lines = FERRY.read_text().splitlines()
    rows = [lines[1], lines[2].replace("Class A", "Base Station").replace("219000734", "2190068"),
            lines[3].replace("Class A", "AtoN").replace("219000734", "992191234")]
    f = tmp_path/"mixed.csv"; f.write_text("\n".join([lines[0], *rows]) + "\n")
    r = read_dma(f)
    assert r.positions.object_type.tolist() == ["vessel", "structure", "structure"]
    assert r.statics.drop_duplicates("raw_line").ais_class.isna().tolist() == [False, True, True]


def test_gothenburg_gpkg():
    r = read_geo(GOTHENBURG)
    check_contracts(r)
    p = r.positions
    assert (r.n_input, len(p), p.mmsi.nunique()) == (255, 255, 2)
    assert (p.timestamp.min(), p.timestamp.max()) == (UTC("2017-07-05 19:00:01"), UTC("2017-07-05 19:13:53"))
    assert p.object_id.value_counts().to_dict() == {"mmsi:265410000": 155, "mmsi:265550210": 100}
    assert p.lon.between(11.8049, 11.8839).all() and p.lat.between(57.6754, 57.6938).all()
    names = r.statics.drop_duplicates("object_id").set_index("object_id")
    assert names.loc["mmsi:265410000", "name"] == "STENA JUTLANDICA"
    assert names.loc["mmsi:265550210", "ship_type_text"] == "Tanker"
    assert p.raw_line.min() == 1 and p.raw_line.max() == 255


def test_boston_gpkg_lowercase_noaa_columns():
    r = read_geo(BOSTON, chunksize=250)
    check_contracts(r)
    p = r.positions
    assert (r.n_input, len(p), p.mmsi.nunique()) == (972, 972, 4)
    assert (p.timestamp.min(), p.timestamp.max()) == (UTC("2014-01-01 04:43:53"), UTC("2014-01-07 17:18:14"))
    assert p.mmsi.value_counts().to_dict() == {215020081: 534, 257990100: 264, 255880350: 94, 240000208: 80}
    assert p.object_id.str.startswith("mmsi:").all()     # the layer's `id` column is a row number, not an identity
    assert p.lon.between(-71.0636, -70.8000).all() and p.lat.between(42.2368, 42.4258).all()
    assert p.nav_status.value_counts().to_dict() == {0: 910, 1: 62}


def test_noaa_csv_variants(tmp_path):
    r = read_noaa(FIX/"noaa_2023_sample.csv")
    check_contracts(r, values=False)                    # heading 511 and cog 360 are AIS sentinels: cleaning's job
    assert r.positions.heading.tolist() == [511.0, 187.0, 511.0]
    assert r.positions.object_id.tolist() == ["mmsi:367390380", "mmsi:538007209", "mmsi:367390380"]
    assert r.positions.timestamp.iloc[0] == UTC("2023-01-01 00:00:05")
    st = r.statics.drop_duplicates("object_id").set_index("mmsi")
    assert st.loc[367390380, "imo"] == 9106015 and pd.isna(st.loc[538007209, "imo"])
    assert st.ais_class.tolist() == ["A", "B"] and st.ship_type.tolist() == [31, 70]
    # reordered, lowercase, correct spelling TransceiverClass, an extra column
    f = tmp_path/"n.csv"
    f.write_text("lon,lat,transceiverclass,basedatetime,mmsi,extra\n-94.79,29.30,B,2023-01-01T00:00:05,367390380,x\n")
    r2 = read_noaa(f)
    assert (r2.positions.lat[0], r2.statics.ais_class[0]) == (29.30, "B")


def test_mapped_csv():
    r = read_csv(FIX/"mapped_semicolon.csv", columns="timestamp=Time,mmsi=Ship,lat=Y,lon=X,sog=Speed,cog=Course", source="harbour")
    check_contracts(r)
    assert r.positions.source.unique().tolist() == ["harbour"]
    assert r.positions[["sog", "cog"]].iloc[0].tolist() == [12.5, 45.0]
    assert np.isnan(r.positions.sog.iloc[2])
    assert parse_columns({"timestamp": "Time"}) == {"timestamp": "Time"}


def test_detections_and_structures():
    d = read_detections(FIX/"detections_sar.csv", columns={"length": "length_m"}, source="sentinel1")
    check_contracts(d)
    assert d.positions.object_id.tolist() == ["sentinel1:S1A-0001", "sentinel1:S1A-0002", "sentinel1:S1A-0003"]
    assert set(d.positions.object_type) == {"unidentified"} and d.positions.mmsi.isna().all()
    assert d.statics.set_index("object_id").length.to_dict() == {"sentinel1:S1A-0001": 54.0, "sentinel1:S1A-0003": 130.0}
    s = read_structures(FIX/"structures.csv")
    check_contracts(s)
    assert s.positions.object_id.tolist() == ["structures:ANH-A01", "structures:LR-7", "structures:TYRA-E"]
    assert s.positions.timestamp.tolist() == [UTC("2013-09-04"), UTC(STRUCTURE_EPOCH), UTC("1984-09-01")]
    assert s.statics[["name", "ship_type_text"]].values.tolist() == \
           [["Anholt A01", "wind_turbine"], ["Laeso Rende", "buoy"], ["Tyra East", "platform"]]
    assert set(s.statics.object_type) == {"structure"}


def test_detect_format_and_read_any():
    got = {p.name: detect_format(p) for p in (FERRY, SNAPSHOT, GOTHENBURG, BOSTON, FIX/"noaa_2023_sample.csv",
                                              FIX/"mapped_semicolon.csv", FIX/"detections_sar.csv", FIX/"structures.csv",
                                              sample_path("nmea-format-variants/libais_tagblock.nmea"))}
    assert list(got.values()) == ["dma", "dma", "geo", "geo", "noaa", "csv", "detections", "structures", "nmea"]
    assert set(got.values()) <= set(FORMATS)
    assert read_any(BOSTON).n_input == 972
    assert read_any(FIX/"structures.csv").positions.object_type.unique().tolist() == ["structure"]
    assert sum(r.n_input for r in iter_any(FERRY, chunksize=300)) == 735


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("path, message", [
    (BAD/"empty.csv", "file is empty"),
    (BAD/"does_not_exist.csv", "input file not found"),
    (BAD, "is a directory, expected a file"),
    (BAD/"junk.bin", "unknown format"),
    (BAD/"not_a_geopackage.gpkg", "cannot read as a vector layer"),
])
def test_unreadable_files_are_one_line_errors(path, message):
    with pytest.raises(OceanguardError, match=message) as e:
        read_any(path)
    assert "\n" not in str(e.value)


def test_unknown_columns_name_missing_and_found():
    with pytest.raises(OceanguardError) as e: read_any(BAD/"unknown_columns.csv")
    assert str(e.value) == ("unknown_columns.csv: cannot map columns: missing required column(s) timestamp, lat, lon, mmsi; "
                            "found: foo, bar, baz")
    with pytest.raises(OceanguardError, match=r"not a DMA AIS CSV: .*found: foo, bar, baz"): read_dma(BAD/"unknown_columns.csv")
    with pytest.raises(OceanguardError, match=r"timestamp \('When' not found\)"):
        read_csv(FIX/"mapped_semicolon.csv", columns="timestamp=When,mmsi=Ship,lat=Y,lon=X")
    with pytest.raises(OceanguardError, match="unknown format 'xls'"): read_any(FERRY, format="xls")
    with pytest.raises(OceanguardError, match="unknown field"): read_csv(FIX/"mapped_semicolon.csv", columns="speed=Speed")


def test_header_only_file_reads_nothing():
    r = read_any(BAD/"header_only_dma.csv")
    check_contracts(r)
    assert (r.n_input, len(r.positions), len(r.quarantine)) == (0, 0, 0)


def test_non_utf8_line_is_quarantined_and_neighbours_kept():
    r = read_dma(BAD/"non_utf8_dma.csv")
    check_contracts(r)
    assert r.positions.raw_line.tolist() == [2, 4]
    q = r.quarantine.iloc[0]
    assert (q.raw_line, q.reason, q.raw_file) == (3, Reason.NON_UTF8, "non_utf8_dma.csv")
    assert "ANE L\\xe6S\\xd8" in q.raw                  # the raw bytes are kept, escaped


def test_truncated_last_line_is_quarantined():
    r = read_dma(BAD/"truncated_dma.csv")
    check_contracts(r)
    assert (r.n_input, r.positions.raw_line.tolist()) == (3, [2, 3])
    assert r.quarantine[["raw_line", "reason"]].values.tolist() == [[4, Reason.TRUNCATED_LINE]]


def test_unparseable_values_are_quarantined_with_reasons():
    r = read_dma(BAD/"bad_values_dma.csv")
    check_contracts(r)
    assert r.positions.raw_line.tolist() == [2]
    assert r.quarantine[["raw_line", "reason"]].values.tolist() == [
        [3, Reason.BAD_TIMESTAMP], [4, Reason.BAD_NUMBER], [5, Reason.BAD_MMSI], [6, Reason.WRONG_FIELD_COUNT]]
    assert r.quarantine.detail.tolist()[0] == "unparseable timestamp: 15/13/2022 25:61:00"
    assert r.quarantine.raw.str.startswith("15/").all()


def test_non_point_geometry_quarantined_and_crs_reprojected():
    r = read_geo(BAD/"utm_with_line.gpkg")
    check_contracts(r)
    assert r.positions.raw_line.tolist() == [1, 3]
    assert np.allclose(r.positions.lat, [57.296787, 57.296788]) and np.allclose(r.positions.lon, [10.922245, 10.922277])
    assert r.quarantine[["raw_line", "reason", "detail"]].values.tolist() == [[2, Reason.NO_POSITION, "geometry is not a point"]]


def test_values_out_of_range_pass_parsing_and_are_cleaned_later():
    cleaning = pytest.importorskip("oceanguard.cleaning")
    lat = read_dma(BAD/"lat_999_dma.csv")
    ts = read_dma(BAD/"timestamps_dma.csv")
    assert len(lat.positions) == 3 and lat.positions.lat.max() == 999
    assert ts.positions.timestamp.dt.year.tolist() == [2022, 2099, 1985]
    if not hasattr(cleaning, "clean_positions"): pytest.skip("cleaning.clean_positions not available yet")
    c = cleaning.clean_positions(lat.positions)
    assert Reason.LAT_OUT_OF_RANGE in set(c.quarantine.reason) and 999 not in set(c.positions.lat)
    c = cleaning.clean_positions(ts.positions)
    assert {Reason.TIMESTAMP_FUTURE, Reason.TIMESTAMP_BEFORE_1990} <= set(c.quarantine.reason)
    assert c.positions.timestamp.dt.year.tolist() == [2022]


def test_geoparquet_and_geojson_points(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point
    g = gpd.GeoDataFrame({"MMSI": [219000734, 219000734], "BaseDateTime": ["2022-10-15T11:16:01Z", "2022-10-15T11:16:11Z"],
                          "SOG": [0.0, 0.1]}, geometry=[Point(10.922245, 57.296787), Point(10.922277, 57.296788)], crs=4326)
    g.to_crs(3857).to_parquet(tmp_path/"ferry.parquet")
    g.to_file(tmp_path/"ferry.geojson", driver="GeoJSON")
    for f in (tmp_path/"ferry.parquet", tmp_path/"ferry.geojson"):
        assert detect_format(f) == "geo"
        r = read_any(f)
        check_contracts(r)
        assert np.allclose(r.positions.lat, [57.296787, 57.296788]) and r.positions.sog.tolist() == [0.0, 0.1]
        assert r.positions.timestamp.tolist() == [UTC("2022-10-15 11:16:01"), UTC("2022-10-15 11:16:11")]
        assert r.positions.raw_line.tolist() == [1, 2]


def test_bom_crlf_and_quoted_commas(tmp_path):
    lines = FERRY.read_text().splitlines()[:4]
    lines[2] = lines[2].replace("ANE LAESOE", '"ANE, LAESOE"')
    f = tmp_path/"windows.csv"
    f.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    assert detect_format(f) == "dma"
    r = read_any(f)
    check_contracts(r)
    assert r.positions.raw_line.tolist() == [2, 3, 4] and len(r.quarantine) == 0
    assert r.statics.name.tolist() == ["ANE LAESOE", "ANE, LAESOE"]
    assert r.statics.destination.tolist() == ["LAESOE-FREDERIKSHAVN"] * 2     # no stray \r


def test_positions_parquet_written_by_oceanguard_reads_back(tmp_path):
    "A fleet written by `oceanguard synthesize --out fleet.parquet` is an input like any other, statics included."
    from oceanguard.synthetic import synthesize_fleet, write_fleet
    pos, st = synthesize_fleet(3, 2.0, seed=4, resample_s=60)
    out = write_fleet(pos, st, tmp_path / "fleet.parquet")
    assert detect_format(out) == "positions"
    r = read_any(out, chunksize=100)
    assert r.n_input == len(pos) and len(r.quarantine) == 0 and len(r.statics) == len(st)
    pd.testing.assert_frame_equal(r.positions.reset_index(drop=True), conform(pos, POSITIONS).reset_index(drop=True), check_dtype=False)
    gp = tmp_path / "not_positions.parquet"; pd.DataFrame({"a": [1]}).to_parquet(gp)
    assert detect_format(gp) == "geo"      # other Parquet files are read as GeoParquet (and fail there with one line)


def test_noaa_2025_zstandard_csv_reads_like_the_plain_csv(tmp_path):
    "NOAA MarineCadastre publishes `ais-YYYY-MM-DD.csv.zst` with snake_case columns from 2025: same rows as the plain file."
    import zstandard
    from oceanguard.readers import read_clean
    rows = ("mmsi,base_date_time,longitude,latitude,sog,cog,heading,vessel_name,imo,call_sign,vessel_type,status,length,width,draft,cargo,transceiver\n"
            "367000001,2025-01-01T00:00:00,-94.80,29.30,10.1,90.0,91,ALPHA,IMO9000001,WAB1,70,0,100,20,5.0,70,A\n"
            "367000001,2025-01-01T00:01:00,-94.79,29.30,10.2,90.5,91,ALPHA,IMO9000001,WAB1,70,0,100,20,5.0,70,A\n"
            "367000002,2025-01-01T00:00:30,-94.70,29.20,0.1,0.0,511,BRAVO,,WAB2,37,15,12,4,,,B\n")
    plain = tmp_path / "ais-2025-01-01.csv"
    plain.write_text(rows)
    zst = tmp_path / "ais-2025-01-01.csv.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(rows.encode()))
    a, b = read_clean(zst), read_clean(plain)
    assert len(a.positions) == 3
    pd.testing.assert_frame_equal(a.positions.drop(columns="raw_file"), b.positions.drop(columns="raw_file"))
    assert set(a.statics["ais_class"].dropna()) == {"A", "B"}
    bad = tmp_path / "broken.csv.zst"
    bad.write_bytes(zst.read_bytes()[:40])
    with pytest.raises(OceanguardError, match="damaged or truncated Zstandard file"):
        read_clean(bad)
