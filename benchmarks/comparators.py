"""Comparators that are never dependencies of oceanguard (aiscat, Polars): each installed with pip into a virtual
environment of its own under `benchmarks/.cache/` on first use, so that a bench measures them in the same run."""
import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"

def own_venv(name: str, package: str) -> Path | None:
    "The interpreter of `benchmarks/.cache/<name>` with `package` installed (made on first use), or None if pip cannot install it."
    venv = CACHE / name
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        p = subprocess.run([str(py), "-m", "pip", "install", "-q", package], capture_output=True, text=True)
        if p.returncode:
            print(f"{package} could not be installed:", p.stderr[-500:])
            shutil.rmtree(venv, ignore_errors=True)   # a half-made venv would be taken for a good one next time
            return None
    return py
