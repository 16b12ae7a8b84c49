"""The built wheel works outside the repository: installed into a fresh virtual environment, `oceanguard report`
writes a map with Leaflet inlined from the package's own copy (no node_modules, no OCEANGUARD_ASSETS, cwd elsewhere)."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "NOTICE", "oceanguard")   # what a build reads


def _node_modules() -> Path:
    for c in (ROOT / "node_modules", os.environ.get("OCEANGUARD_ASSETS")):
        if c and (Path(c) / "leaflet" / "dist" / "leaflet.js").exists(): return Path(c)
    pytest.skip("no node_modules with leaflet: run `make setup`")


def _run(args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{args[:3]} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def _copy_sources(dst: Path):
    "The package's sources in a clean folder (no build/ left by an earlier build, no node_modules)."
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir(): shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("__pycache__", "assets"))
        else: shutil.copy2(src, dst / name)


def test_the_wheel_reports_with_its_own_assets(tmp_path):
    nm = _node_modules()
    src, wheels, venv, work = tmp_path / "src", tmp_path / "wheels", tmp_path / "venv", tmp_path / "work"
    src.mkdir(); work.mkdir()
    _copy_sources(src)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OCEANGUARD_ASSETS")}
    # a build without node_modules fails clearly
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-w", str(wheels), "-q"],
                       capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert r.returncode != 0 and "report assets are missing" in r.stdout + r.stderr
    # with node_modules: the wheel carries Leaflet and its licences
    _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "-w", wheels, "-q"],
         env={**env, "OCEANGUARD_ASSETS": str(nm)}, cwd=tmp_path)
    whl = next(wheels.glob("oceanguard-*.whl"))
    names = set(zipfile.ZipFile(whl).namelist())
    for f in ("leaflet/dist/leaflet.js", "leaflet/dist/leaflet.css", "leaflet/LICENSE", "leaflet.markercluster/dist/leaflet.markercluster.js",
              "leaflet.markercluster/MIT-LICENCE.txt"):
        assert f"oceanguard/resources/assets/{f}" in names, f
    # a fresh venv, the wheel installed in it without dependencies; these come from the environment running the tests
    # (a venv made from a venv inherits the base interpreter's packages, not the parent venv's: a .pth adds those; its own
    # .pth files, such as the repository's editable install, are not read, so `oceanguard` can only come from the wheel)
    _run([sys.executable, "-m", "venv", "--without-pip", venv], env=env)
    py, exe = venv / "bin" / "python", venv / "bin" / "oceanguard"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env=env).stdout.strip())
    parent = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "dependencies.pth").write_text("\n".join(parent) + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", whl], env=env, cwd=tmp_path)
    where = _run([py, "-c", "import oceanguard.report as r; print(r.__file__); print(r._assets_dir())"], env=env, cwd=work).stdout.split()
    assert where[0].startswith(str(venv)) and where[1].startswith(str(venv)), where   # the wheel's code and its own assets
    _run([exe, "samples", "--out", work / "samples"], env=env, cwd=work)
    csv = work / "samples" / "dma-csv-laeso-ferry" / "ferry_laeso_2022-10-15.csv"
    _run([exe, "report", csv, "--out", work / "map.html"], env=env, cwd=work)
    html = (work / "map.html").read_text()
    leaflet = (nm / "leaflet" / "dist" / "leaflet.js").read_text()
    assert leaflet[:2000] in html and "MarkerClusterGroup" in html and "<script src=" not in html
