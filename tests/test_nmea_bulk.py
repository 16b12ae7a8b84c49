"Bulk NMEA decoding: the same output as the pyais reader on every sample, on a pyais-encoded corpus and on damaged logs."
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyais.messages import NMEASentenceFactory, AISSentence
from pyais.util import compute_checksum

from oceanguard.contracts import Reason
from oceanguard.core import OceanguardError, sample_path
from oceanguard.nmea import NmeaReader, read_nmea
from oceanguard.nmea import _aid_text
from oceanguard.nmea_bulk import COUNTED_TYPES, BulkNmeaReader, _ARMOUR, _decode, pyais_corpus, read_nmea_bulk
from oceanguard.readers import read_any

FIX = Path(__file__).parent/"fixtures"/"nmea"
SAMPLES = [sample_path("nmea-dma-aislib-2010/stream_example.txt")] + \
    [sample_path(f"nmea-format-variants/{n}") for n in ("gpsd_sample.aivdm", "libais_test_uscg.aivdm", "libais_tagblock.nmea")]
LOGS = SAMPLES + sorted(p for p in FIX.glob("*.nmea") if p.stat().st_size)


def whole(reader):
    "Frames of all chunks (sorted by line: a message waiting for parts may close in a later chunk) and the reader's counts."
    ch = list(reader)
    return {k: pd.concat([getattr(c, k) for c in ch], ignore_index=True).sort_values("raw_line", kind="stable", ignore_index=True)
            for k in ("positions", "statics", "quarantine")}, +reader.counts


def assert_same(path, **kw):
    a, ca = whole(NmeaReader(path, **kw))
    b, cb = whole(BulkNmeaReader(path, **kw))
    for k in a: pd.testing.assert_frame_equal(a[k], b[k], obj=k)
    assert ca == cb, {k: (ca[k], cb[k]) for k in set(ca) | set(cb) if ca[k] != cb[k]}
    return b, cb


@pytest.mark.parametrize("path", LOGS, ids=lambda p: p.name)
@pytest.mark.parametrize("default_time", [None, "2010-04-28"])
def test_every_sample_reads_as_the_pyais_reader(path, default_time):
    out, counts = assert_same(path, default_time=default_time)
    assert counts["data_lines"] == counts["pghp_lines"] + counts["other_nmea_lines"] + counts["ais_sentences"] + counts["quarantined_lines"]


def test_read_any_reads_nmea_in_bulk_with_the_same_rows():
    dma = SAMPLES[0]
    r, ref = read_any(dma), read_nmea(dma)
    for k in ("positions", "quarantine"): pd.testing.assert_frame_equal(getattr(r, k), getattr(ref, k))
    pd.testing.assert_frame_equal(r.statics, ref.statics[r.statics.columns])      # read_any keeps the contract's columns
    assert (r.n_input, len(r.positions), len(r.statics)) == (ref.n_input, 3154, 535)


def test_chunks_and_blocks_change_nothing():
    dma = SAMPLES[0]
    one = read_nmea_bulk(dma)
    small = list(BulkNmeaReader(dma, chunksize=777, block_bytes=5_000))
    assert len(small) > 10 and all(c.n_input == len(c.positions) + len(c.quarantine) for c in small)
    for k in ("positions", "statics"):
        pd.testing.assert_frame_equal(pd.concat([getattr(c, k) for c in small], ignore_index=True), getattr(one, k))


@pytest.mark.parametrize("end", [b"\r", b"\r\n", b"mixed"])
def test_cr_and_mixed_line_ends_read_every_row(tmp_path, end):
    lines = [l.rstrip(b"\r") for l in SAMPLES[0].read_bytes().split(b"\n")]        # (the sample has one CRLF line)
    data = b"".join(l + ([b"\n", b"\r", b"\r\n"][i % 3] if end == b"mixed" else end) for i, l in enumerate(lines))
    f = tmp_path/"log.txt"
    f.write_bytes(data)
    ref = read_nmea(SAMPLES[0])
    out, _ = assert_same(f)
    pd.testing.assert_frame_equal(out["positions"].drop(columns="raw_file"), ref.positions.drop(columns="raw_file"))
    assert len(out["positions"]) == 3154


def sentence(body: str) -> str:
    return f"!{body}*{compute_checksum('!' + body):02X}"


def test_short_payloads_are_quarantined_not_tracebacks(tmp_path):
    lines = [sentence("AIVDM,1,1,,A,5,0"), sentence("AIVDM,1,1,,A,H,0"), sentence("AIVDM,1,1,,A,C,0"),   # types 5, 24, 19: one character
             sentence("AIVDM,1,1,,A,5?wwwwh00000,0"), sentence("AIVDM,1,1,,A,1?wwwwwP0o0f,0")]            # type 5 cut short; type 1 without a position
    f = tmp_path/"short.nmea"
    f.write_text("".join(l + ",1600000000\n" for l in lines))
    out, counts = assert_same(f)
    q = out["quarantine"]
    assert q.reason.tolist() == [Reason.DECODE_ERROR] * 4
    assert q.detail.tolist()[:3] == [f"type {t} payload too short for an MMSI" for t in (5, 24, 19)]
    assert out["statics"].raw_line.tolist() == [4] and out["statics"].mmsi.tolist() == [1073741823]
    r = read_any(f)                                   # and through the readers' entry point
    assert len(r.quarantine) == 4 and r.n_input == 4


def test_30_bit_mmsi_is_kept_and_flagged(tmp_path):
    from oceanguard.store import ingest, load_objects
    from pyais.encode import encode_dict
    lines = encode_dict({"type": 1, "mmsi": 2**30 - 1, "lat": 55.5, "lon": 10.2, "speed": 5.5}) + \
        encode_dict({"type": 5, "mmsi": 2**30 - 1, "shipname": "TEST", "callsign": "AB"}) + \
        encode_dict({"type": 1, "mmsi": 219000001, "lat": 55.5, "lon": 10.2, "speed": 5.5})
    f = tmp_path/"big.nmea"
    f.write_text("".join(f"{l},1600000000\n" for l in lines))
    rep = ingest([f], tmp_path/"store", progress=False)
    assert rep.reconciled and rep.total("accepted") == 2 and rep.total("quarantined") == 0
    obj = load_objects(tmp_path/"store").set_index("mmsi")
    assert not obj.loc[2**30 - 1, "mmsi_valid"] and obj.loc[2**30 - 1, "name"] == "TEST"


def test_counted_types_never_fail_in_pyais():
    "The bulk path counts these types without decoding them: pyais must decode any payload of theirs, of any length."
    rng = random.Random(3)
    armour = [chr(c) for c in list(range(48, 88)) + list(range(96, 120))]
    for t in sorted(COUNTED_TYPES):
        for _ in range(300):
            p, fill = armour[t] + "".join(rng.choice(armour) for _ in range(rng.randint(0, 160))), rng.randint(0, 5)
            s = NMEASentenceFactory.produce(sentence(f"AIVDM,1,1,,A,{p},{fill}").encode())
            m = s.decode()                                # never raises
            if 6 * len(p) - fill >= 6: assert int(m.msg_type) == t


def pyais_fields(path: Path):
    "Every message of a corpus file decoded by pyais alone, by its first line: (type, message)."
    out, parts, first = {}, [], None
    for i, line in enumerate(path.read_bytes().splitlines(), 1):
        s = NMEASentenceFactory.produce(line.rsplit(b",", 1)[0])
        if s.frag_num == 1: parts, first = [], i
        parts.append(s)
        if s.frag_num == s.frag_cnt:
            m = (parts[0] if len(parts) == 1 else AISSentence.assemble_from_iterable(parts)).decode()
            out[first] = m
    return out


def nan(v): return np.nan if v is None else float(v)


def check_corpus(tmp_path, n: int, seed: int):
    sents, types = pyais_corpus(n, seed)
    f = tmp_path/"corpus.nmea"
    f.write_text("".join(f"{s},{1_577_836_800 + i}\n" for i, s in enumerate(sents)))
    r = BulkNmeaReader(f, chunksize=50_000)
    out = {k: pd.concat([getattr(c, k) for c in r], ignore_index=True) for k in ("positions", "statics", "quarantine")}
    assert len(out["quarantine"]) == 0 and r.counts["messages"] == n
    ref = pyais_fields(f)
    pos = out["positions"].set_index(out["positions"].raw_line.astype(int))
    msgs = [(line, m) for line, m in ref.items() if m.msg_type in (1, 2, 3, 18, 19, 27, 21)]
    assert len(pos) == len(msgs)
    p = pos.loc[[line for line, _ in msgs]]
    t = np.array([m.msg_type for _, m in msgs])
    exp = {"mmsi": [m.mmsi for _, m in msgs], "lat": [m.lat for _, m in msgs], "lon": [m.lon for _, m in msgs],
           "sog": [102.3 if m.msg_type == 27 and m.speed == 63 else nan(getattr(m, "speed", None)) for _, m in msgs],
           "cog": [360.0 if m.msg_type == 27 and m.course == 511 else nan(getattr(m, "course", None)) for _, m in msgs],
           "heading": [nan(getattr(m, "heading", None)) if m.msg_type != 27 else np.nan for _, m in msgs],
           "rot": [float(m.turn) if m.msg_type <= 3 else np.nan for _, m in msgs],
           "nav_status": [int(m.status) if m.msg_type in (1, 2, 3, 27) else -1 for _, m in msgs]}
    for k, v in exp.items():
        got = p[k].to_numpy("float64", na_value=-1) if k in ("mmsi", "nav_status") else p[k].to_numpy("float64")
        np.testing.assert_array_equal(got, np.array(v, dtype="float64"), err_msg=k)
    # the edges the corpus promises are there, and come out as pyais says
    assert {181.0, -180.0} <= set(p.lon) and 91.0 in set(p.lat) and (p.lat < 0).any()
    assert 511 in set(p.heading) and 102.3 in set(p.sog) and -128.0 in set(p.rot) and 360.0 in set(p.cog[t == 27])
    assert {999_999_999, 2**30 - 1} <= set(p.mmsi) and (p.mmsi > 999_999_999).sum() > 1
    st = out["statics"].set_index(out["statics"].raw_line.astype(int))
    smsgs = [(line, m) for line, m in ref.items() if m.msg_type in (5, 19, 24, 21)]
    assert len(st) == len(smsgs)
    s = st.loc[[line for line, _ in smsgs]]
    g = lambda m, k: getattr(m, k, None)
    txt = lambda v: (v or "").strip() or None
    zero_na = lambda v: np.nan if not v else float(v)
    exp = {"mmsi": [m.mmsi for _, m in smsgs], "imo": [zero_na(g(m, "imo")) for _, m in smsgs],
           "ship_type": [zero_na(g(m, "ship_type")) for _, m in smsgs], "draught": [zero_na(g(m, "draught")) for _, m in smsgs],
           "length": [zero_na(None if g(m, "to_bow") is None else g(m, "to_bow") + g(m, "to_stern")) for _, m in smsgs],
           "width": [zero_na(None if g(m, "to_port") is None else g(m, "to_port") + g(m, "to_starboard")) for _, m in smsgs]}
    for k, v in exp.items():
        np.testing.assert_array_equal(s[k].to_numpy("float64", na_value=np.nan), np.array(v, dtype="float64"), err_msg=k)
    name = lambda m: (g(m, "name") or "") + (g(m, "name_ext") or "") if m.msg_type == 21 else g(m, "shipname")
    assert s["name"].astype(object).where(s["name"].notna(), None).tolist() == [txt(name(m)) for _, m in smsgs]
    for k, attr in (("callsign", "callsign"), ("destination", "destination")):
        assert s[k].astype(object).where(s[k].notna(), None).tolist() == [txt(g(m, attr)) for _, m in smsgs], k
    # aids to navigation (type 21): the aid type and its words, a position as a structure, names with an extension
    aton = np.array([m.msg_type == 21 for _, m in smsgs])
    np.testing.assert_array_equal(s.aid_type.to_numpy("float64", na_value=np.nan)[aton], [zero_na(g(m, "aid_type")) for _, m in smsgs if m.msg_type == 21])
    assert s.ship_type_text[aton].astype(object).where(s.ship_type_text[aton].notna(), None).tolist() == [_aid_text(g(m, "aid_type")) for _, m in smsgs if m.msg_type == 21]
    assert (p.object_type[t == 21] == "structure").all() and (p.object_type[t != 21] == "vessel").all()
    assert sum(len(g(m, "name_ext") or "") > 0 for _, m in smsgs if m.msg_type == 21) > aton.sum() // 4
    assert s.name.str.contains("@", regex=False).any() and s.name.isna().any()
    # dimensions one by one, from the decoder's own columns
    single = [(line, m) for line, m in ref.items() if m.msg_type in (19, 24)]
    file_lines = f.read_bytes().splitlines()
    pays = [NMEASentenceFactory.produce(file_lines[line - 1].rsplit(b",", 1)[0]) for line, _ in single]
    v6 = np.concatenate([_ARMOUR[np.frombuffer(b"".join(x.payload for x in pays), np.uint8)], np.zeros(16, np.uint8)])
    start = np.cumsum([0] + [len(x.payload) for x in pays[:-1]])
    d = _decode(v6, start, np.array([6 * len(x.payload) - x.fill_bits for x in pays]), np.arange(len(pays)) + 1, np.full(len(pays), 1e12))
    cols = {k: np.concatenate([c[k] for c in d.s]) for k in ("raw_line", "to_bow", "to_stern", "to_port", "to_starboard")}
    order = np.argsort(cols["raw_line"])
    for k in ("to_bow", "to_stern", "to_port", "to_starboard"):
        np.testing.assert_array_equal(cols[k][order], np.array([nan(g(m, k)) for _, m in single]), err_msg=k)


def test_pyais_corpus_20k_field_by_field(tmp_path):
    check_corpus(tmp_path, 20_000, seed=11)


@pytest.mark.slow
def test_pyais_corpus_1m_field_by_field(tmp_path):
    check_corpus(tmp_path, 1_000_000, seed=12)


def mutate(rng: random.Random, data: bytes) -> bytes:
    "Byte flips, NMEA-ish insertions, truncations, duplicated and dropped lines (parts), swaps and line-end changes."
    lines = data.splitlines(keepends=True)
    if len(lines) > 300:
        a = rng.randrange(len(lines) - 200); lines = lines[a:a + rng.randint(1, 200)]
    for _ in range(rng.randint(1, 10)):
        if not lines: break
        op, i = rng.randrange(9), rng.randrange(len(lines))
        l = bytearray(lines[i])
        if op == 0 and l: l[rng.randrange(len(l))] = rng.randrange(256)
        elif op == 1 and l: l[rng.randrange(len(l))] = rng.choice(b",*\\!$0123456789ABCabcgc:@wW`\r\n \t")
        elif op == 2: l = l[:rng.randrange(len(l) + 1)]
        elif op == 3: lines.insert(i, bytes(l)); continue
        elif op == 4: del lines[i]; continue
        elif op == 5: lines = [x.rstrip(b"\r\n") + rng.choice([b"\r", b"\r\n", b"\n"]) for x in lines]; continue
        elif op == 6 and l: del l[rng.randrange(len(l))]
        elif op == 7: j = rng.randrange(len(lines)); lines[i], lines[j] = lines[j], lines[i]; continue
        elif op == 8 and l: p = rng.randrange(len(l)); l[p:p] = bytes([rng.choice(b"0123456789,*\\")])
        lines[i] = bytes(l)
    return b"".join(lines)


def fuzz(tmp_path, seeds):
    "A seeded mutator over the real samples: never a traceback, the same output as the pyais reader, and the books balance."
    from oceanguard.store import ingest
    data = [p.read_bytes() for p in SAMPLES]
    for k in seeds:
        rng = random.Random(k)
        f = tmp_path/f"m{k}.nmea"
        f.write_bytes(mutate(rng, rng.choice(data)))
        kw = dict(chunksize=rng.choice([10**6, 7]), default_time=rng.choice([None, "2020-01-01"]), max_part_gap=rng.choice([50, 3]))
        try: out, c = assert_same(f, **kw)
        except OceanguardError as e:                    # an empty log is a one-line error, from both readers
            assert "\n" not in str(e)
            with pytest.raises(OceanguardError): list(NmeaReader(f, **kw))
            continue
        assert c["data_lines"] == c["pghp_lines"] + c["other_nmea_lines"] + c["ais_sentences"] + c["quarantined_lines"]
        assert c.get("quarantined", 0) == len(out["quarantine"]) and c.get("positions", 0) == len(out["positions"])
        if k % 10 == 0:                                 # and through ingest: every input accounted for
            try: rep = ingest([f], tmp_path/f"store{k}", progress=False, now="2030-01-01")
            except OceanguardError as e:                # a first line mutated past recognition: ingest names the file, in one line
                assert "\n" not in str(e) and f.name in str(e); continue
            assert rep.reconciled and rep.total("n_input") == read_any(f).n_input


@pytest.mark.parametrize("seed", range(0, 120, 30))
def test_fuzzed_logs_read_as_the_pyais_reader(tmp_path, seed):
    fuzz(tmp_path, range(seed, seed + 30))


@pytest.mark.slow
def test_fuzzed_logs_many(tmp_path):
    fuzz(tmp_path, range(1000, 3000))
