"NMEA 0183 AIS reader: real logs in four timestamp conventions, golden decoded values, bad input fixtures."
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oceanguard.contracts import POSITIONS, QUARANTINE, STATICS, Reason, validate
from oceanguard.core import OceanguardError, sample_path
from oceanguard.nmea import NmeaReader, iter_nmea, read_nmea

DMA = sample_path("nmea-dma-aislib-2010/stream_example.txt")
GPSD = sample_path("nmea-format-variants/gpsd_sample.aivdm")
USCG = sample_path("nmea-format-variants/libais_test_uscg.aivdm")
TAGB = sample_path("nmea-format-variants/libais_tagblock.nmea")
FIX = Path(__file__).parent/"fixtures"/"nmea"
UTC = lambda s: pd.Timestamp(s, tz="UTC")


@pytest.fixture(scope="module")
def dma():
    reader = NmeaReader(DMA)
    chunks = list(reader)
    return read_nmea(DMA), reader.counts, chunks


def test_dma_stream_counts_match_provenance(dma):
    r, counts, _ = dma
    assert counts["messages"] == 4051 and counts["pghp_lines"] == 4051
    assert {t: counts[f"type_{t}"] for t in (1, 2, 3, 4, 5, 6, 8, 9, 18, 20, 21, 24)} == \
        {1: 2511, 2: 7, 3: 369, 4: 129, 5: 424, 6: 37, 8: 63, 9: 1, 18: 101, 20: 191, 21: 37, 24: 74}
    v = r.positions[r.positions.object_type == "vessel"]
    ok = v[(v.lat <= 90) & (v.lon <= 180)]
    assert (len(ok), ok.mmsi.nunique()) == (2965, 1390)
    assert ((v.lat == 91) & (v.lon == 181)).sum() == 23          # "not available" kept raw for cleaning
    assert (r.positions.object_type == "structure").sum() == 129 + 37
    assert len(r.quarantine) == 0 and r.n_input == len(r.positions)
    assert (r.statics.ais_class == "A").sum() == 424


def test_dma_pghp_times_and_lines(dma):
    r, _, _ = dma
    p = r.positions
    assert p.timestamp.min() == UTC("2010-06-11 11:46:10") and p.timestamp.max().floor("s") == UTC("2010-06-11 11:46:38")
    first = p.iloc[0]   # line 2, after "$PGHP,1,2010,6,11,11,46,11,390,..."
    assert (first.raw_line, first.timestamp, first.object_id, first.object_type) == (2, UTC("2010-06-11 11:46:11.390"), "mmsi:2311200", "structure")
    assert p.raw_file.unique().tolist() == ["stream_example.txt"] and p.source.unique().tolist() == ["nmea"]
    assert p.raw_line.is_monotonic_increasing


def test_dma_chunks_equal_whole_file(dma):
    r, _, _ = dma
    chunks = list(iter_nmea(DMA, chunksize=777))
    assert all(c.n_input == len(c.positions) + len(c.quarantine) for c in chunks)
    pd.testing.assert_frame_equal(pd.concat([c.positions for c in chunks], ignore_index=True), r.positions)
    pd.testing.assert_frame_equal(pd.concat([c.statics for c in chunks], ignore_index=True), r.statics)


def test_outputs_follow_the_contracts(dma):
    r, _, _ = dma
    p = r.positions.copy()
    p = p[(p.lat <= 90) & (p.lon <= 180)]
    for c, na in (("sog", 102.3), ("cog", 360), ("heading", 511)):   # what cleaning does with sentinels
        p[c] = p[c].mask(p[c] >= na)
    validate(p, POSITIONS)
    validate(r.statics, STATICS)
    validate(read_nmea(FIX/"missing_part.nmea").quarantine, QUARANTINE)


def test_dma_statics_type5_and_24(dma):
    st = dma[0].statics
    s = st[st.mmsi == 246901005].iloc[0]
    assert (s["name"], s.callsign, s.ship_type, s.length, s.width, s.draught, s.destination, s.ais_class, s.raw_line) == \
        ("PASSAAT", "PI8939", 60, 33.0, 6.0, 1.0, "WEST TERSCHELLING", "A", 16)
    b = st[st.msg_type == 24]
    assert set(b.ais_class) == {"B"} and b.name.notna().any() and b.ship_type.notna().any()
    aton = st[st.object_type == "structure"]
    assert len(aton) == 37 and aton.ship_type_text.str.startswith("aid to navigation").all()


def _gpsd_expected(path):
    out, first, prev = {}, None, False
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.startswith("!"):
            if not prev: first = i
            prev = True
            continue
        prev = False
        if line.startswith("#") and ":" in line and first:
            k, v = line[1:].split(":", 1)
            out.setdefault(first, {})[k.strip()] = v.strip()
    return out


def test_gpsd_golden_values():
    r = read_nmea(GPSD, default_time="2010-04-28")
    exp = _gpsd_expected(GPSD)
    pos = r.positions.set_index(r.positions.raw_line.astype(int))
    n = 0
    for line, e in exp.items():
        if line in pos.index and {"UserID", "latitude", "longitude"} <= set(e):
            p = pos.loc[line]
            assert p.mmsi == int(e["UserID"])
            assert abs(p.lat - float(e["latitude"])) < 1e-4 and abs(p.lon - float(e["longitude"])) < 1e-4
            if "SOG" in e: assert abs(p.sog - float(e["SOG"])) < 0.05
            if "COG" in e: assert abs(p.cog - float(e["COG"])) < 0.05
            if "TrueHeading" in e: assert p.heading == float(e["TrueHeading"])
            n += 1
    assert n >= 6
    st = r.statics.set_index(r.statics.raw_line.astype(int))
    e, s = exp[124], st.loc[124]
    assert (s.mmsi, s.imo, s["name"], s.callsign, s.ship_type) == (int(e["UserID"]), int(e["IMOnumber"]), e["name"], e["callsign"], int(e["shipandcargo"]))
    assert (s.length, s.width, s.draught, s.destination) == (int(e["dimA"]) + int(e["dimB"]), int(e["dimC"]) + int(e["dimD"]), float(e["draught"]), e["destination"])


def test_gpsd_without_time_quarantines_positions_keeps_statics():
    r = read_nmea(GPSD)
    assert len(r.positions) == 0
    assert (r.quarantine.reason == Reason.BAD_TIMESTAMP).sum() == 18
    assert len(r.statics) == 13 and r.statics.timestamp.isna().all()
    assert r.quarantine[r.quarantine.reason == Reason.DECODE_ERROR].raw.tolist() == ["AIVDM,2,2,1,B,00000000000,2*26"]
    with pytest.raises(OceanguardError, match="default_time"):
        NmeaReader(GPSD, default_time="yesterday-ish")


def test_uscg_trailing_epochs_and_invalid_positions_pass():
    r = read_nmea(USCG)
    p = r.positions
    assert p.timestamp.min() >= UTC("2010-04-28 00:00:06") and p.timestamp.max() == UTC("2010-05-03 00:00:08")
    assert p.timestamp.notna().all()
    assert np.isclose(p.lat.min(), -87.2, atol=0.01) and (p.lon < -180).any() and (p.lon > 180).any()
    assert r.quarantine.reason.tolist() == [Reason.DECODE_ERROR]*3     # three type 27 sentences too short
    assert r.n_input == len(p) + len(r.quarantine)
    assert p.heading.isna().any() and p.rot.isna().any()           # types 4, 18, 21, 27 carry no heading/rot


def test_tagblock_group_and_times():
    r = read_nmea(TAGB)
    assert len(r.quarantine) == 0 and len(r.positions) == 3
    s = r.statics.iloc[0]
    assert (s.raw_line, s.timestamp, s.msg_type) == (1, UTC("2014-12-10 00:00:01"), 5)   # 2 parts tied by g:, lines 1 and 3
    assert r.positions.timestamp.tolist() == [UTC("2014-12-10 00:41:53"), UTC("2014-12-10 00:35:22"), UTC("2014-12-10 00:32:41")]


@pytest.mark.parametrize("name, reasons, n_pos", [
    ("bad_checksum.nmea", [(2, Reason.BAD_CHECKSUM)], 1),
    ("missing_part.nmea", [(1, Reason.MISSING_PART), (3, Reason.MISSING_PART), (4, Reason.MISSING_PART)], 1),
    ("truncated_last_line.nmea", [(3, Reason.TRUNCATED_LINE)], 2),
    ("non_utf8.nmea", [(2, Reason.NON_UTF8)], 2),
    ("garbage.nmea", [(3, Reason.DECODE_ERROR), (5, Reason.DECODE_ERROR)], 2),
])
def test_bad_fixtures_are_quarantined(name, reasons, n_pos):
    r = read_nmea(FIX/name)
    assert list(zip(r.quarantine.raw_line.tolist(), r.quarantine.reason.tolist())) == reasons
    assert len(r.positions) == n_pos and r.n_input == n_pos + len(reasons)
    assert r.quarantine.raw.notna().all() and (r.quarantine.raw_file == name).all()


def test_missing_part_keeps_raw_text_of_parts_it_had():
    q = read_nmea(FIX/"missing_part.nmea").quarantine
    assert q.raw[0].startswith("!AIVDM,2,1,1,A,55?MbV02") and "missing part [2]" in q.detail[0]
    assert "missing part [1]" in q.detail[2]


def test_part_too_far_away_is_missing(tmp_path):
    lines = (FIX/"bad_checksum.nmea").read_bytes().splitlines(keepends=True)
    good, t5a, t5b = lines[0], lines[2], lines[3]
    f = tmp_path/"gap.nmea"
    f.write_bytes(t5a + good*200 + t5b)
    r = read_nmea(f, max_part_gap=50)
    assert r.quarantine.reason.tolist() == [Reason.MISSING_PART]*2 and len(r.statics) == 0
    assert len(read_nmea(f, max_part_gap=1000).statics) == 1


def test_empty_and_blank_files_are_one_line_errors(tmp_path):
    with pytest.raises(OceanguardError, match="empty") as e:
        read_nmea(FIX/"empty.nmea")
    assert "\n" not in str(e.value)
    (tmp_path/"blank.nmea").write_text("\n  \n")
    with pytest.raises(OceanguardError, match="empty"):
        read_nmea(tmp_path/"blank.nmea")
    with pytest.raises(OceanguardError, match="not found"):
        read_nmea(tmp_path/"nope.nmea")
    (tmp_path/"comments.nmea").write_text("# nothing but a comment\n")
    r = read_nmea(tmp_path/"comments.nmea")
    assert (len(r.positions), len(r.quarantine), r.n_input) == (0, 0, 0)
    assert list(r.positions.columns)[:len(POSITIONS.columns)] == list(POSITIONS.columns)
