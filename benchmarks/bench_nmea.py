"""NMEA 0183 AIS decoding and ingest speed, side by side in one run, on one file.

The file: `--sentences` (default 5,000,000) NMEA sentences of a seeded fleet of 20,000 vessels, base stations and aids
to navigation over one day: 250,000 messages whose payloads pyais's message classes encoded, reported again and again
through the day, each sentence in an IEC 62320-1 tag block carrying its receive time (`\\s:STATION,c:EPOCH*hh\\!AIVDM,...`). Message types as a coastal feed has them
(1: 55 %, 3: 12 %, 18: 12 %, 5: 6 % in two sentences, 24: 6 %, 4: 3 %, 8: 2 %, 2: 1 %, 20: 1 %, 27: 1 %,
19 and 21: 0.5 % each). It is generated once and cached in `benchmarks/.cache/` (git-ignored).

Measured, one after the other on that file:
1. `oceanguard ingest FILE --out STORE` as a whole process (subprocess, wall time, fresh store): sentences/s;
2. the bulk decoder alone (`oceanguard.nmea_bulk.iter_nmea_bulk`, in this process): sentences/s, wall and CPU;
3. pyais alone (its `FileReaderStream` + `decode()`), and oceanguard's pyais reader (`NmeaReader`), on the first
   `--pyais-sentences` sentences (default 200,000);
4. aiscat (Python bindings of AIS-catcher's C++ decoder, GPL) decoding the whole file to dicts: a comparator only,
   installed with pip into its own virtual environment under `benchmarks/.cache/aiscat-venv`, never a dependency
   of oceanguard. `--no-aiscat` skips it.
Results print and go to `benchmarks/results/nmea.json`, with the load average around each measure (the machine is
shared: CPU-seconds are steadier than wall time).

Run: .venv/bin/python benchmarks/bench_nmea.py [--sentences N] [--quick] [--no-aiscat]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import parallel_capacity  # noqa: E402  (cores' worth of CPU two processes get now: 2.0 on a free machine)
from comparators import own_venv  # noqa: E402

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE, RESULTS = HERE / ".cache", HERE / "results"

MIX = {1: 0.55, 3: 0.12, 18: 0.12, 5: 0.06, 24: 0.06, 4: 0.03, 8: 0.02, 2: 0.01, 20: 0.01, 27: 0.01, 19: 0.005, 21: 0.005}
MIDS = np.array([211, 219, 230, 235, 244, 257, 265, 273, 303, 338, 366, 367, 412, 413, 431, 477, 538, 563, 636])
STATIONS = ["r003669945", "r003669952", "rORBCOMM008", "r2190064", "r992190934"]

def fleet_messages(n_messages: int, seed: int = 0) -> list[list[str]]:
    "`n_messages` messages of a seeded fleet, each a list of NMEA sentences whose payload pyais's message classes encoded."
    from pyais.messages import MSG_CLASS, MessageType24
    from pyais.util import compute_checksum
    rng = np.random.default_rng(seed)
    nv = 20_000
    vessel = MIDS[rng.integers(0, len(MIDS), nv)] * 1_000_000 + rng.integers(0, 1_000_000, nv)
    base = rng.integers(2_000_000, 7_999_999, 200)                   # 00MIDxxxx: base stations
    aton = 990_000_000 + MIDS[rng.integers(0, len(MIDS), 500)] * 10_000 + rng.integers(0, 10_000, 500)
    lat0, lon0 = rng.uniform(-60, 70, nv), rng.uniform(-179, 179, nv)
    types, weights = np.array(list(MIX)), np.array(list(MIX.values()))
    ts = rng.choice(types, n_messages, p=weights / weights.sum())
    v = rng.integers(0, nv, n_messages)
    dlat, dlon = rng.normal(0, 0.05, n_messages), rng.normal(0, 0.05, n_messages)
    sog, cog, hdg = rng.integers(0, 300, n_messages) / 10, rng.integers(0, 3600, n_messages) / 10, rng.integers(0, 360, n_messages)
    out = []
    for j in range(n_messages):
        t, vj = int(ts[j]), int(v[j])
        lat, lon = float(np.clip(lat0[vj] + dlat[j], -89, 89)), float(np.clip(lon0[vj] + dlon[j], -179.9, 179.9))
        f = {"mmsi": int(vessel[vj])}
        if t in (1, 2, 3): f.update(lat=lat, lon=lon, speed=sog[j], course=cog[j], heading=int(hdg[j]), status=j % 9, turn=0)
        elif t in (18, 19): f.update(lat=lat, lon=lon, speed=sog[j], course=cog[j], heading=int(hdg[j]))
        elif t == 27: f.update(lat=round(lat, 2), lon=round(lon, 2), speed=int(sog[j]) % 63, course=int(cog[j]) % 360, status=0)
        elif t == 4: f.update(mmsi=int(base[vj % 200]), lat=lat, lon=lon, year=2020, month=1, day=1)
        elif t == 21: f.update(mmsi=int(aton[vj % 500]), lat=lat, lon=lon, name=f"BUOY {vj % 500}", aid_type=vj % 32)
        elif t == 8: f.update(dac=1, fid=0, data=bytes(rng.integers(0, 256, 12, dtype=np.uint8)))
        elif t == 20: f.update(offset1=1000 + j % 2000, number1=1, timeout1=7, increment1=750)
        if t in (5, 19, 24): f.update(shipname=f"BENCH {vj}", ship_type=[30, 52, 60, 70, 80][vj % 5], to_bow=60, to_stern=20, to_port=6, to_starboard=6)
        if t == 5: f.update(imo=9_000_000 + vj, callsign=f"OX{vj % 10_000}", destination="AARHUS", draught=5.2)
        if t == 24: f.update(partno=j % 2, callsign=f"OX{vj % 10_000}")
        payload, fill = (MessageType24 if t == 24 else MSG_CLASS[t]).create(msg_type=t, **f).encode()
        parts = [payload[p:p + 60] for p in range(0, len(payload), 60)]
        sents = []
        for q, p in enumerate(parts, 1):
            s = f"!AIVDM,{len(parts)},{q},{j % 10 if len(parts) > 1 else ''},{'AB'[j % 2]},{p},{fill if q == len(parts) else 0}*"
            sents.append(f"{s}{compute_checksum(s):02X}")
        out.append(sents)
    return out

def fleet_nmea(n_sentences: int, seed: int = 0, pool: int = 250_000):
    """Yield `n_sentences` NMEA lines: messages of `fleet_messages` (a pool of `pool`, encoded once, reported again and
    again through the day: the same payloads, new receive times), each sentence in a tag block with its receive time."""
    from pyais.util import checksum
    msgs = fleet_messages(min(pool, n_sentences), seed)
    t0, n, i = 1_577_836_800, 0, 0
    while n < n_sentences:
        sents = msgs[i % len(msgs)]
        tb = f"s:{STATIONS[i % len(STATIONS)]},c:{t0 + n * 86_400 // n_sentences}"
        tag = f"\\{tb}*{checksum(tb.encode()):02X}\\"
        for s in sents:
            yield tag + s
            n += 1
        i += 1

def bench_file(n: int, seed: int = 0) -> Path:
    "The cached benchmark file of `n` sentences, generated on first use."
    CACHE.mkdir(parents=True, exist_ok=True)
    f = CACHE / f"fleet_{n}_{seed}.nmea"
    if not f.exists():
        t = time.perf_counter()
        tmp = f.with_suffix(".tmp")
        with open(tmp, "w") as out:
            batch = []
            for line in fleet_nmea(n, seed):
                batch.append(line)
                if len(batch) >= 100_000: out.write("\n".join(batch) + "\n"); batch = []
            if batch: out.write("\n".join(batch) + "\n")
        tmp.rename(f)
        print(f"generated {f} ({f.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:,.0f} s", flush=True)
    return f

def load() -> float: return os.getloadavg()[0]

def measure(label: str, fn) -> dict:
    "Wall and CPU time of `fn()` (which returns a count), with the load average before and after."
    l0, t0, c0 = load(), time.perf_counter(), time.process_time()
    n = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    r = {"what": label, "count": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "per_s_wall": round(n / wall),
         "per_s_cpu": round(n / cpu) if cpu else None, "load_before": round(l0, 2), "load_after": round(load(), 2)}
    print(f"{label:42s} {n:>11,} in {wall:7.2f} s wall ({r['per_s_wall']:>10,}/s), {cpu:7.2f} s CPU "
          f"({r['per_s_cpu'] or 0:>10,}/s), load {l0:.1f}->{r['load_after']:.1f}", flush=True)
    return r

def run_ingest(f: Path, n: int) -> dict:
    "`oceanguard ingest` as a whole process, into a fresh store; wall time and the child's CPU time."
    exe = Path(sys.executable).with_name("oceanguard")
    with tempfile.TemporaryDirectory() as d:
        l0, t0 = load(), time.perf_counter()
        ru0 = os.times()
        p = subprocess.run([str(exe), "ingest", str(f), "--out", str(Path(d) / "store")], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        ru1 = os.times()
    cpu = (ru1.children_user - ru0.children_user) + (ru1.children_system - ru0.children_system)
    if p.returncode: raise SystemExit(f"ingest failed ({p.returncode}): {p.stderr[-2000:]}")
    tail = [l for l in p.stdout.splitlines() if "reconciled" in l or "=" in l][-1:]
    r = {"what": "oceanguard ingest (whole process)", "count": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
         "per_s_wall": round(n / wall), "per_s_cpu": round(n / cpu), "load_before": round(l0, 2), "load_after": round(load(), 2),
         "report": tail}
    print(f"{r['what']:42s} {n:>11,} in {wall:7.2f} s wall ({r['per_s_wall']:>10,}/s), {cpu:7.2f} s CPU "
          f"({r['per_s_cpu']:>10,}/s), load {l0:.1f}->{r['load_after']:.1f}  {tail}", flush=True)
    return r

AISCAT = """
import sys, time, aiscat
t0, c0 = time.perf_counter(), time.process_time()
n = sum(1 for _ in aiscat.from_file(sys.argv[1], chunk=1 << 20))
print(n, time.perf_counter() - t0, time.process_time() - c0)
"""

def run_aiscat(f: Path) -> dict | None:
    "aiscat's decode of the whole file, in its own virtual environment (created on first use)."
    py = own_venv("aiscat-venv", "aiscat")
    if py is None: return None
    version = subprocess.run([str(py), "-c", "import importlib.metadata as m; print(m.version('aiscat'))"], capture_output=True, text=True).stdout.strip()
    l0 = load()
    p = subprocess.run([str(py), "-c", AISCAT, str(f)], capture_output=True, text=True)
    if p.returncode: print("aiscat failed:", p.stderr[-500:]); return None
    n, wall, cpu = p.stdout.split()
    n, wall, cpu = int(n), float(wall), float(cpu)
    r = {"what": f"aiscat {version} decode to dicts (C++)", "count": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
         "per_s_wall": round(n / wall), "per_s_cpu": round(n / cpu), "load_before": round(l0, 2), "load_after": round(load(), 2)}
    print(f"{r['what']:42s} {n:>11,} in {wall:7.2f} s wall ({r['per_s_wall']:>10,}/s), {cpu:7.2f} s CPU "
          f"({r['per_s_cpu']:>10,}/s) messages, load {l0:.1f}->{r['load_after']:.1f}", flush=True)
    return r

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=5_000_000)
    ap.add_argument("--pyais-sentences", type=int, default=200_000)
    ap.add_argument("--quick", action="store_true", help="200,000 sentences and 20,000 for pyais: a smoke run")
    ap.add_argument("--no-aiscat", action="store_true")
    ap.add_argument("--generate-only", action="store_true", help="make (or find) the cached file and stop")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = 200_000 if args.quick else args.sentences
    n_py = min(n, 20_000 if args.quick else args.pyais_sentences)
    f = bench_file(n, args.seed)
    if args.generate_only: raise SystemExit(0)
    from oceanguard.nmea import NmeaReader
    from oceanguard.nmea_bulk import BulkNmeaReader
    cap = parallel_capacity()
    print(f"file {f.name}: {n:,} sentences, {f.stat().st_size / 1e6:,.0f} MB; {os.cpu_count()} CPUs, parallel capacity {cap} cores", flush=True)
    results = {"file": f.name, "sentences": n, "bytes": f.stat().st_size, "cpus": os.cpu_count(), "parallel_capacity": [cap], "measures": []}
    add = results["measures"].append
    add(run_ingest(f, n))
    def bulk():
        r = BulkNmeaReader(f)
        rows = sum(len(c.positions) for c in r)
        results["bulk_counts"] = {k: int(v) for k, v in r.counts.items() if k in ("ais_sentences", "messages", "positions", "statics", "quarantined")}
        return r.counts["ais_sentences"]
    add(measure("bulk decoder (oceanguard.nmea_bulk)", bulk))
    with tempfile.TemporaryDirectory() as d:
        sub = Path(d) / "head.nmea"
        with open(f, "rb") as src, open(sub, "wb") as out:
            for k, line in enumerate(src):
                if k >= n_py: break
                out.write(line)
        from pyais.stream import FileReaderStream
        add(measure(f"pyais alone, first {n_py:,} sentences", lambda: sum(1 for m in FileReaderStream(str(sub)) if m.decode() is not None)))
        def ref():
            r = NmeaReader(sub)
            for _ in r: pass
            return r.counts["ais_sentences"]
        add(measure(f"oceanguard pyais reader, first {n_py:,}", ref))
        add(measure(f"bulk decoder, first {n_py:,}", lambda: (lambda r: (list(r), r.counts["ais_sentences"])[1])(BulkNmeaReader(sub))))
    if not args.no_aiscat:
        r = run_aiscat(f)
        if r: add(r)
    results["parallel_capacity"].append(parallel_capacity())
    print(f"parallel capacity before/after: {results['parallel_capacity'][0]} / {results['parallel_capacity'][1]} cores")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nmea.json").write_text(json.dumps(results, indent=1))
    print(f"written {RESULTS / 'nmea.json'}")
