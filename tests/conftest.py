"""Process-wide state that one test must not leave to the next (pytest-xdist runs many tests in one worker)."""
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
