"""Process-wide state that one test must not leave to the next (pytest-xdist runs many tests in one worker)."""
import re
import sys

import pytest


@pytest.fixture(autouse=True, scope="session")
def _telemetry_of_the_tests(tmp_path_factory):
    """Commands the tests run record their telemetry in a temporary folder, not in the user's `./.oceanguard/telemetry`
    (a store's own `_telemetry/` stays with the store); subprocesses inherit the setting."""
    import os
    old = os.environ.get("OCEANGUARD_TELEMETRY")
    os.environ["OCEANGUARD_TELEMETRY"] = str(tmp_path_factory.mktemp("telemetry"))
    yield
    if old is None: os.environ.pop("OCEANGUARD_TELEMETRY", None)
    else: os.environ["OCEANGUARD_TELEMETRY"] = old


@pytest.fixture(autouse=True)
def _subnormal_floats_back():
    """Training sets PyTorch's flush-to-zero of subnormal floats for speed (`lstm.cpu_setup`), a processor-wide setting;
    property-based tests (hypothesis, schemathesis) refuse to run without subnormals, so each test starts with them."""
    if "torch" in sys.modules: sys.modules["torch"].set_flush_denormal(False)
    yield


OG = [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]   # the `oceanguard` command


@pytest.fixture(scope="session")
def named_store(tmp_path_factory):
    """A store of real reports that name their vessels (the Læsø ferry CSVs with names, call signs and IMOs, and the
    DMA AisLib NMEA stream) with the anomalies `oceanguard detect STORE --out STORE --no-model` upserts into it."""
    import subprocess
    from oceanguard.store import ingest, load_anomalies, write_samples
    d = tmp_path_factory.mktemp("named_store")
    samples = d / "samples"
    write_samples(samples)
    s = d / "store"
    ingest(sorted((samples / "dma-csv-laeso-ferry").glob("*.csv")) + [samples / "nmea-dma-aislib-2010" / "stream_example.txt"], s, progress=False)
    r = subprocess.run(OG + ["detect", str(s), "--out", str(s), "--no-model"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(load_anomalies(s)) > 0
    return s


def identities(store) -> dict:
    "Every raw identity the store holds: MMSIs, and names, call signs and IMO numbers ever reported."
    from oceanguard.store import load_objects, load_positions, load_statics
    st = load_statics(store)
    words = {f: set(st.loc[st["field"] == f, "value"].dropna().astype(str)) for f in ("name", "callsign", "imo")}
    words["name"] = {w for w in words["name"] if len(w) >= 4}           # a 2-3 letter name would match ordinary text
    words["callsign"] = {w for w in words["callsign"] if len(w) >= 4}
    mmsi = set(load_positions(store, columns=["mmsi"])["mmsi"].dropna().astype(int).astype(str)) | set(load_objects(store)["mmsi"].dropna().astype(int).astype(str))
    return {"mmsi": {m for m in mmsi if len(m) == 9}, **words}


def leaks(text: str, ids: dict) -> dict:
    "The identities that stand as words in `text` (not inside a longer word, number or decimal such as a coordinate)."
    numbers = set(re.findall(r"(?<![\w.])\d+(?![\w]|\.\d)", text))
    words = [w for k in ("name", "callsign") for w in ids[k]]
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")(?![\w])")
    named = set(pattern.findall(text))
    out = {k: sorted(v & (numbers if k in ("mmsi", "imo") else named)) for k, v in ids.items()}
    return {k: v for k, v in out.items() if v}
