"""Shared by the service tests: a store built from the shipped samples and a real `oceanguard serve` (uvicorn) on 127.0.0.1."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def build_store(root: Path) -> Path:
    "Samples ingested into a store (DMA ferry CSV, Gothenburg and Boston GeoPackages, the aislib NMEA stream) and the rules run on it."
    from oceanguard.cli import main
    from oceanguard.store import write_samples
    files = write_samples(root / "samples")
    inputs = [str(f) for f in files if f.suffix in (".csv", ".gpkg") or f.name == "stream_example.txt"]
    store = root / "store"
    assert main(["ingest", *inputs, "--out", str(store)]) == 0
    assert main(["detect", str(store), "--out", str(store), "--no-model"]) == 0
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    "`oceanguard serve STORE ...` in a child process on a free port of 127.0.0.1; `url` once /health answers (or 401 with keys)."
    def __init__(self, store: Path, *args: str, timeout: float = 60.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "OCEANGUARD_ASSETS": os.environ.get("OCEANGUARD_ASSETS", str(REPO.parent.parent / "main" / "node_modules"))}
        self.proc = subprocess.Popen([sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())", "serve", str(store),
                                      "--host", "127.0.0.1", "--port", str(self.port), *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if self.proc.poll() is not None: raise RuntimeError(f"server exited: {self.proc.stdout.read()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code in (200, 401): return
            except httpx.HTTPError: pass
            time.sleep(0.1)
        self.stop(); raise RuntimeError("server did not answer /health in time")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(10)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
