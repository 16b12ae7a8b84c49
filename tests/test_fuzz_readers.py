"""Seeded fuzzing of the one reading path (`readers.iter_clean`, what `ingest` and `detect` both use) over the shipped real
samples and the test fixtures: byte flips, truncations, line-ending changes, bad field values (inf, 1e30, -1, empty,
out-of-range and impossible dates), duplicated rows and swapped columns. Every mutant must be read without a traceback
(an unreadable file is a one-line `OceanguardError`), its counts must reconcile, and no impossible or out-of-range date
may be accepted (never rolled over into another day). A hypothesis property test checks the strict timestamp parser
against Python's `datetime.strptime`."""
import datetime as dt
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from oceanguard.core import OceanguardError, sample_path
from oceanguard.readers import parse_timestamps, read_clean

FIX = Path(__file__).parent / "fixtures"
MAPPED = "timestamp=Time,mmsi=Ship,lat=Y,lon=X,sog=Speed,cog=Course"
# (file, time format of its timestamp column, the column names of timestamp/mmsi/lat/imo, column mapping)
CSV = [(sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv"), "dma", ("# Timestamp", "MMSI", "Latitude", "IMO"), None),
       (sample_path("dma-csv-laeso-ferry/snapshot_2021-09-07_20s.csv"), "dma", ("# Timestamp", "MMSI", "Latitude", "IMO"), None),
       (FIX / "noaa_2023_sample.csv", "iso", ("BaseDateTime", "MMSI", "LAT", "IMO"), None),
       (FIX / "mapped_semicolon.csv", "iso", ("Time", "Ship", "Y", None), MAPPED),
       (FIX / "detections_sar.csv", "iso", ("time", None, "lat", None), None),
       (FIX / "bad" / "bad_values_dma.csv", "dma", ("# Timestamp", "MMSI", "Latitude", "IMO"), None),
       (FIX / "bad" / "timestamps_dma.csv", "dma", ("# Timestamp", "MMSI", "Latitude", "IMO"), None)]
BINARY = [sample_path("dma-gpkg-gothenburg-encounter/ais_dk_cpa.gpkg"), sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg")]
NMEA = [sample_path("nmea-format-variants/gpsd_sample.aivdm"), sample_path("nmea-format-variants/libais_test_uscg.aivdm"),
        sample_path("nmea-format-variants/libais_tagblock.nmea"), FIX / "nmea" / "missing_part.nmea", FIX / "nmea" / "truncated_last_line.nmea"]
IMPOSSIBLE = {"dma": ["31/02/2022 12:00:00", "29/02/2021 00:00:00", "31/04/2022 10:00:00", "00/01/2022 10:00:00"],
              "iso": ["2022-02-30T12:00:00", "2021-02-29T00:00:00", "2022-04-31T10:00:00", "2022-13-01T00:00:00"]}
OUT_OF_RANGE = {"dma": ["01/01/3000 00:00:00", "01/01/1500 00:00:00", "12/04/2262 00:00:00"],
                "iso": ["3000-01-01T00:00:00", "1500-01-01T00:00:00", "2262-04-12T00:00:00"]}
BAD_VALUES = ["inf", "-inf", "1e30", "-1", "", "nan", "9223372036854775808", "1.5", "abc", "  ", '"x,y"']

def _lines(b: bytes) -> list[bytes]: return b.split(b"\n")

def mutate_text(data: bytes, rng: random.Random, kind: str, fmt: str | None, names: tuple, sep: bytes) -> tuple[bytes, dict]:
    "One mutant of a text file and what was done to it (`line`: the 1-based line that got an impossible date)."
    lines = _lines(data)
    body = [i for i in range(1, len(lines)) if lines[i].strip()]
    i = rng.choice(body) if body else 0
    if kind == "flip":
        b = bytearray(data); k = rng.randrange(len(b)); b[k] = rng.randrange(256); return bytes(b), {}
    if kind == "truncate": return data[: rng.randrange(1, len(data))], {}
    if kind == "crlf": return data.replace(b"\n", b"\r\n"), {}
    if kind == "cr": return data.replace(b"\n", b"\r"), {}
    if kind == "mixed":
        return b"".join(l + rng.choice([b"\n", b"\r\n", b"\r"]) for l in lines[:-1]) + lines[-1], {}
    if kind == "duplicate":
        lines.insert(i, lines[i]); return b"\n".join(lines), {}
    header = lines[0].rstrip(b"\r").decode("utf-8", "replace").split(sep.decode())
    fields = lines[i].split(sep)
    if kind == "swap" and len(fields) > 1:
        a, c = rng.sample(range(len(fields)), 2); fields[a], fields[c] = fields[c], fields[a]
        lines[i] = sep.join(fields); return b"\n".join(lines), {}
    if kind == "swap_columns" and len(header) > 1:      # the whole file: a reader maps columns by name
        a, c = rng.sample(range(len(header)), 2)
        out = []
        for l in lines:
            f = l.split(sep)
            if len(f) == len(header): f[a], f[c] = f[c], f[a]
            out.append(sep.join(f))
        return b"\n".join(out), {}
    if kind in ("impossible", "out_of_range") and fmt and names[0] in header and len(fields) == len(header):
        v = rng.choice((IMPOSSIBLE if kind == "impossible" else OUT_OF_RANGE)[fmt])
        fields[header.index(names[0])] = v.encode()
        lines[i] = sep.join(fields); return b"\n".join(lines), {"bad_time_line": i + 1, "value": v}
    cols = [c for c in names[1:] if c and c in header]
    if cols and len(fields) == len(header):
        c = rng.choice(cols)
        fields[header.index(c)] = rng.choice(BAD_VALUES).encode()
        lines[i] = sep.join(fields)
        return b"\n".join(lines), {}
    b = bytearray(data); k = rng.randrange(len(b)); b[k] = rng.randrange(256); return bytes(b), {}

TEXT_KINDS = ["flip", "truncate", "crlf", "cr", "mixed", "duplicate", "swap", "swap_columns", "impossible", "impossible",
              "out_of_range", "value", "value", "value"]

def _cases(n: int = 300, seed: int = 20240501):
    rng = random.Random(seed)
    out = []
    for k in range(n):
        r = rng.random()
        if r < 0.62:
            path, fmt, names, columns = rng.choice(CSV)
            out.append(("csv", path, fmt, names, columns, rng.choice(TEXT_KINDS), rng.randrange(1 << 30)))
        elif r < 0.86:
            out.append(("nmea", rng.choice(NMEA), None, ("", ""), None, rng.choice(["flip", "truncate", "crlf", "cr", "mixed", "duplicate", "swap"]), rng.randrange(1 << 30)))
        else:
            out.append(("binary", rng.choice(BINARY), None, (), None, rng.choice(["flip", "flip", "truncate"]), rng.randrange(1 << 30)))
    return out

def _check(path: Path, columns, what: dict, chunksize: int = 200_000):
    try: c = read_clean(path, columns=columns, chunksize=chunksize, now="2025-01-01")
    except OceanguardError as e:                     # an unreadable file: one line, never a traceback
        assert "\n" not in str(e).strip() and str(e).strip(), repr(e)
        return None
    k = c.counts
    assert k["input"] == k["accepted"] + k["quarantined"] + k["duplicates"] + k["other"], k
    assert k["accepted"] == len(c.positions) and k["quarantined"] == len(c.quarantine), k
    if len(c.positions):
        t = c.positions["timestamp"]
        assert t.notna().all()
        assert (c.positions["lat"].abs() <= 90).all() and (c.positions["lon"].abs() <= 180).all()
        assert (c.positions["mmsi"].dropna() >= 0).all() and (c.positions["mmsi"].dropna() < (1 << 30)).all()
    if "bad_time_line" in what:                      # never accepted, never rolled over into another day
        line = what["bad_time_line"]
        assert line not in set(c.positions["raw_line"].dropna().astype(int)), (what, path.name)
        q = c.quarantine[c.quarantine["raw_line"] == line]
        assert len(q) == 1, (what, c.quarantine)
    return c

def test_fuzz_readers(tmp_path):
    "~300 seeded mutants of the real samples and fixtures in well under a minute: no traceback, reconciled counts, no silent rollover."
    t0, c0 = time.perf_counter(), time.process_time()
    cases = _cases()
    seen_kinds, n_read, n_time = set(), 0, 0
    for j, (family, src, fmt, names, columns, kind, seed) in enumerate(cases):
        rng = random.Random(seed)
        data = Path(src).read_bytes()
        sep = b";" if b";" in data.split(b"\n", 1)[0] else b","
        if family == "binary":
            b = bytearray(data)
            if kind == "flip":
                for _ in range(rng.randrange(1, 8)): k = rng.randrange(len(b)); b[k] = rng.randrange(256)
                mutant, what = bytes(b), {}
            else: mutant, what = bytes(b[: rng.randrange(1, len(b))]), {}
        else:
            mutant, what = mutate_text(data, rng, kind, fmt, names, sep)
        p = tmp_path / f"m{j:03d}{Path(src).suffix}"
        p.write_bytes(mutant)
        c = _check(p, columns, what)
        seen_kinds.add((family, kind)); n_read += c is not None; n_time += "bad_time_line" in what
        p.unlink()
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(cases) == 300 and n_read >= 200 and n_time >= 20, (n_read, n_time)
    assert {("csv", k) for k in TEXT_KINDS} <= seen_kinds
    # CPU seconds of this process (steady on a shared machine, where the wall clock is not): under a minute
    assert cpu < 60, f"fuzzing took {cpu:.0f} CPU s ({took:.0f} s wall)"

def test_fuzz_chunk_size_does_not_change_rows(tmp_path):
    "The accepted rows of a mutated file do not depend on the chunk size (duplicates across chunks are still duplicates)."
    rng = random.Random(7)
    src = CSV[0][0]
    for j in range(6):
        mutant, _ = mutate_text(src.read_bytes(), rng, rng.choice(["duplicate", "mixed", "value", "cr"]), "dma", CSV[0][2], b",")
        p = tmp_path / f"c{j}.csv"; p.write_bytes(mutant)
        big, small = read_clean(p, now="2025-01-01"), read_clean(p, chunksize=97, now="2025-01-01")
        assert big.counts == small.counts
        assert sorted(big.positions["raw_line"]) == sorted(small.positions["raw_line"])

def test_line_endings_read_alike(tmp_path):
    "LF, CRLF, CR-only and mixed line endings give the same rows (CR-only used to give a traceback)."
    src = FIX / "noaa_2023_sample.csv"
    data = src.read_bytes()
    got = []
    for name, b in [("lf", data), ("crlf", data.replace(b"\n", b"\r\n")), ("cr", data.replace(b"\n", b"\r")),
                    ("mixed", data.replace(b"\n", b"\r", 1).replace(b"\n", b"\r\n", 1))]:
        p = tmp_path / f"{name}.csv"; p.write_bytes(b)
        c = read_clean(p, now="2025-01-01")
        got.append((c.counts["input"], c.counts["accepted"], c.positions["raw_line"].tolist(), c.positions["timestamp"].tolist()))
    assert got[0][0] == 3 and all(g == got[0] for g in got), got

def test_bad_identities_are_quarantined_with_a_reason(tmp_path):
    "MMSI/IMO of inf, NaN, negative or beyond int64: a quarantine entry each; a ten-digit MMSI below 2^30 is kept and flagged."
    rows = ["219000734", "inf", "nan", "-1", "1e30", "9223372036854775808", "1073709206", str(1 << 30), "2.5"]
    text = "MMSI,BaseDateTime,LAT,LON,IMO\n" + "".join(f"{m},2022-10-15T11:16:{k:02d},57.3,10.9,IMO9107370\n" for k, m in enumerate(rows))
    text += "219000734,2022-10-15T11:17:00,57.3,10.9,inf\n219000734,2022-10-15T11:17:01,57.3,10.9,-5\n219000734,2022-10-15T11:17:02,57.3,10.9,1e30\n"
    p = tmp_path / "ids.csv"; p.write_text(text)
    c = read_clean(p, now="2025-01-01")
    assert c.positions["mmsi"].tolist() == [219000734, 1073709206]
    assert c.counts["mmsi_30bit"] == 1
    q = c.quarantine.set_index("raw_line")
    assert q.loc[[3, 4, 5, 6, 7, 9, 10], "reason"].eq("bad_mmsi").all()
    assert q.loc[[11, 12, 13], "reason"].eq("bad_number").all() and q.loc[11, "detail"].endswith("inf")

FORMATS = {"%d/%m/%Y %H:%M:%S": "dma", "%Y-%m-%dT%H:%M:%S": "ISO8601", "%m/%d/%Y %I:%M:%S %p": "us12"}

@settings(max_examples=300, deadline=None)
@given(y=st.integers(1, 9999), m=st.integers(0, 13), d=st.integers(0, 32), H=st.integers(0, 24), M=st.integers(0, 60),
       S=st.integers(0, 60), fmt=st.sampled_from(list(FORMATS)), pad=st.booleans())
def test_timestamp_parser_is_strict(y, m, d, H, M, S, fmt, pad):
    "The vectorised parser agrees with `datetime.strptime` on any field values: impossible dates and times are NaT, never rolled over."
    if fmt.endswith("%p"):
        h12, ampm = (H % 12 or 12, "AM" if H < 12 else "PM") if H < 24 else (H, "PM")
        text = f"{m:02d}/{d:02d}/{y:04d} {h12:02d}:{M:02d}:{S:02d} {ampm}" if pad else f"{m}/{d}/{y:04d} {h12}:{M:02d}:{S:02d} {ampm}"
    elif fmt.startswith("%d"): text = f"{d:02d}/{m:02d}/{y:04d} {H:02d}:{M:02d}:{S:02d}" if pad else f"{d}/{m}/{y:04d} {H}:{M:02d}:{S:02d}"
    else: text = f"{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}"
    try: want = dt.datetime.strptime(text, fmt)
    except ValueError: want = None
    lo, hi = dt.datetime(1677, 9, 21, 0, 12, 44), dt.datetime(2262, 4, 11, 23, 47, 16)
    if want is not None and not (lo <= want <= hi): want = None      # outside what datetime64[ns] holds: refused too
    got = parse_timestamps([text], "ISO8601" if fmt.startswith("%Y") else fmt)[0]
    if want is None: assert pd.isna(got), (text, got)
    else: assert got == pd.Timestamp(want, tz="UTC"), (text, got, want)
