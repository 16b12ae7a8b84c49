"""Build hook: a wheel carries the report's Leaflet assets, copied from node_modules at build time (never committed).

`oceanguard report` inlines Leaflet and Leaflet.markercluster into a standalone HTML file. In the repository they
come from `node_modules` (`npm ci`); an installed wheel has no repository, so `build_py` copies each package's
`dist` folder and licence into `oceanguard/resources/assets/` inside the build, and the report looks there first.
Everything else about the package is in pyproject.toml.
"""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ASSETS = {"leaflet": ("dist", "LICENSE"), "leaflet.markercluster": ("dist", "MIT-LICENCE.txt")}   # npm package -> what the wheel carries


def node_modules() -> Path:
    "The node_modules holding the assets: the repository's, else OCEANGUARD_ASSETS; a clear build error when neither has them."
    for c in (HERE / "node_modules", os.environ.get("OCEANGUARD_ASSETS")):
        if c and all((Path(c) / pkg / item).exists() for pkg, items in ASSETS.items() for item in items):
            return Path(c)
    raise SystemExit("error: oceanguard build: the report assets are missing: node_modules/leaflet/dist and "
                     "node_modules/leaflet.markercluster/dist not found; run `npm ci` (or `make setup`) first, "
                     "or set OCEANGUARD_ASSETS to a node_modules folder that has them")


class build_py_with_assets(build_py):
    "build_py that also copies the Leaflet assets (with their licences) into the built package."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False): return   # an editable install reads node_modules from the repository
        nm, dest = node_modules(), Path(self.build_lib) / "oceanguard" / "resources" / "assets"
        for pkg, items in ASSETS.items():
            for item in items:
                src, out = nm / pkg / item, dest / pkg / item
                if src.is_dir(): shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map", "*.esm.js"))
                else: out.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, out)


setup(cmdclass={"build_py": build_py_with_assets})
