"""`oceanguard fetch` against a real HTTP server on 127.0.0.1 serving small archives in the published layouts
(built here from rows of the shipped samples): download, provenance, resume after a dropped connection,
checksum mismatch, 404 and a changed layout, each answered in one line. Nothing reaches the internet."""
import csv
import hashlib
import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyogrio
import pytest
import zstandard

from oceanguard.cli import main
from oceanguard.core import sample_path
from oceanguard.fetch import DMA_HEADER, NOAA_2025_HEADER, NOAA_HEADER, fetch
from oceanguard.readers import read_any


class ArchiveServer(ThreadingHTTPServer):
    "Serves `files` (URL path -> bytes) with HTTP Range support; paths in `drop_once` lose the connection mid-body on their first GET."
    daemon_threads = True

    def __init__(self, files: dict):
        self.files, self.drop_once, self.requests = dict(files), set(), []
        super().__init__(("127.0.0.1", 0), RangeHandler)

    @property
    def base(self) -> str: return f"http://127.0.0.1:{self.server_address[1]}"


class RangeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def do_GET(self):
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        body = srv.files.get(self.path)
        if body is None:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(m[1]) if m else 0
        if start >= len(body):
            self.send_response(416); self.send_header("Content-Range", f"bytes */{len(body)}"); self.send_header("Content-Length", "0")
            self.end_headers(); return
        self.send_response(206 if m else 200)
        if m: self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start)); self.send_header("Content-Type", "application/zip"); self.end_headers()
        if self.path in srv.drop_once:                       # send part of the body, then drop the connection
            srv.drop_once.discard(self.path)
            self.wfile.write(body[start:start + (len(body) - start) // 2]); self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


def _zip(name: str, text: str) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z: z.writestr(name, text)
    return b.getvalue()


OLD_NAME = dict(zip(NOAA_2025_HEADER, ("MMSI", "BaseDateTime", "LON", "LAT", "SOG", "COG", "Heading", "VesselName", "IMO", "CallSign",
                                         "VesselType", "Status", "Length", "Width", "Draft", "Cargo", "TransceiverClass")))
OLD_NAME["Latitude"] = "LAT"


def noaa_csv(header=NOAA_HEADER, n: int = 500) -> str:
    "Rows of the shipped NOAA Boston sample in MarineCadastre's daily CSV layout (the columns the sample lacks left empty)."
    df = pyogrio.read_dataframe(sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg"), max_features=n)
    out = io.StringIO(); w = csv.writer(out, lineterminator="\n"); w.writerow(header)
    for r in df.itertuples():
        vals = {"MMSI": r.mmsi, "BaseDateTime": r.basedatetime.rstrip("Z"), "LAT": round(r.geometry.y, 5), "LON": round(r.geometry.x, 5),
                "SOG": r.sog, "COG": round(r.cog, 1), "Heading": r.heading, "Status": r.status, "TransceiverClass": "A"}
        w.writerow([vals.get(OLD_NAME.get(c, c), "") for c in header])
    return out.getvalue()


def dma_csv(n: int = 300) -> str:
    "The first rows of the shipped DMA ferry sample, verbatim (its header is the DMA daily header)."
    lines = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv").read_text().splitlines()
    return "\n".join(lines[: n + 1]) + "\n"


@pytest.fixture
def server():
    files = {"/2020/AIS_2020_01_01.zip": _zip("AIS_2020_01_01.csv", noaa_csv()),
             "/aisdk-2024-03-01.zip": _zip("aisdk-2024-03-01.csv", dma_csv()),
             "/2025/ais-2025-01-02.csv.zst": zstandard.ZstdCompressor().compress(noaa_csv(NOAA_2025_HEADER, 50).encode()),
             "/2021/AIS_2021_06_01.zip": _zip("AIS_2021_06_01.csv", noaa_csv(tuple("Latitude" if c == "LAT" else c for c in NOAA_HEADER), 20))}
    srv = ArchiveServer(files)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield srv
    srv.shutdown(); srv.server_close()


def cli(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_fetch_records_provenance_and_the_file_reads(server, tmp_path, capsys):
    rc, out, err = cli(["fetch", "noaa", "2020-01-01", "--out", str(tmp_path), "--base-url", server.base], capsys)
    assert rc == 0, err
    f = tmp_path / "AIS_2020_01_01.zip"
    body = server.files["/2020/AIS_2020_01_01.zip"]
    assert f.read_bytes() == body and "AIS_2020_01_01.zip" in out and "layout checked" in out
    rec = json.loads((tmp_path / "provenance.json").read_text())["files"]["AIS_2020_01_01.zip"]
    assert rec["sha256"] == hashlib.sha256(body).hexdigest() and rec["size"] == len(body)
    assert rec["url"] == f"{server.base}/2020/AIS_2020_01_01.zip" and rec["members"] == ["AIS_2020_01_01.csv"]
    assert rec["status"] == "verified" and "creativecommons.org/publicdomain/zero" in rec["licence_url"]
    md = (tmp_path / "PROVENANCE.md").read_text()
    assert rec["sha256"] in md and "CC0" in md
    res = read_any(f)                                            # what fetch passes on, the NOAA reader reads
    assert len(res.positions) == 500 and set(res.positions["mmsi"].astype(int)) <= set(pyogrio.read_dataframe(
        sample_path("noaa-gpkg-boston-2014/ais_boston_2014-01.gpkg"), max_features=500)["mmsi"])
    # fetched again: not downloaded again, re-checked
    n = len(server.requests)
    assert cli(["fetch", "noaa", "2020-01-01", "--out", str(tmp_path), "--base-url", server.base], capsys)[0] == 0
    assert len(server.requests) == n


def test_dma_and_noaa_2025_layouts(server, tmp_path):
    rec = fetch("dma", "2024-03-01", tmp_path, base_url=server.base)
    assert rec["members"] == ["aisdk-2024-03-01.csv"] and "Danish Maritime Authority" in rec["licence"]
    assert len(read_any(tmp_path / "aisdk-2024-03-01.zip").positions) == 300
    rec = fetch("noaa", "2025-01-02", tmp_path, base_url=server.base)
    assert rec["file"] == "ais-2025-01-02.csv.zst" and rec["members"] == ["ais-2025-01-02.csv"]
    prov = json.loads((tmp_path / "provenance.json").read_text())["files"]
    assert set(prov) == {"aisdk-2024-03-01.zip", "ais-2025-01-02.csv.zst"}


def test_an_interrupted_download_resumes_where_it_stopped(server, tmp_path, capsys):
    path = "/2020/AIS_2020_01_01.zip"
    body = server.files[path]
    server.drop_once.add(path)
    rc, out, err = cli(["fetch", "noaa", "2020-01-01", "--out", str(tmp_path), "--base-url", server.base, "--retries", "0"], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "download interrupted" in lines[0] and "run the same command again to resume" in lines[0]
    part = tmp_path / "AIS_2020_01_01.zip.part"
    kept = part.stat().st_size
    assert 0 < kept < len(body) and not (tmp_path / "AIS_2020_01_01.zip").exists()
    rc, out, err = cli(["fetch", "noaa", "2020-01-01", "--out", str(tmp_path), "--base-url", server.base], capsys)
    assert rc == 0, err
    assert server.requests[-1] == (path, f"bytes={kept}-")          # the restart asked only for the rest
    assert (tmp_path / "AIS_2020_01_01.zip").read_bytes() == body and not part.exists()
    assert f"resumed at byte {kept}" in out


def test_a_dropped_connection_is_resumed_within_one_run(server, tmp_path):
    path = "/aisdk-2024-03-01.zip"
    server.drop_once.add(path)
    rec = fetch("dma", "2024-03-01", tmp_path, base_url=server.base)
    assert rec["resumed_from"] > 0 and rec["sha256"] == hashlib.sha256(server.files[path]).hexdigest()
    assert [r for p, r in server.requests if p == path] == [None, f"bytes={rec['resumed_from']}-"]


def test_checksum_mismatch_keeps_the_file_aside(server, tmp_path, capsys):
    rc, out, err = cli(["fetch", "noaa", "2020-01-01", "--out", str(tmp_path), "--base-url", server.base, "--sha256", "ab" * 32], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "checksum mismatch" in lines[0] and "ab" * 32 in lines[0]
    assert (tmp_path / "AIS_2020_01_01.zip.unverified").exists() and not (tmp_path / "AIS_2020_01_01.zip").exists()
    rec = json.loads((tmp_path / "provenance.json").read_text())["files"]["AIS_2020_01_01.zip.unverified"]
    assert rec["status"] == "unverified" and rec["sha256_check"] == "mismatch"


def test_404_is_one_line(server, tmp_path, capsys):
    rc, out, err = cli(["fetch", "dma", "2024-03-02", "--out", str(tmp_path), "--base-url", server.base], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and lines == [f"oceanguard: error: {server.base}/aisdk-2024-03-02.zip: not published (HTTP 404 Not Found)"]
    assert not any(tmp_path.glob("aisdk-2024-03-02*"))


def test_a_changed_layout_fails_with_one_clear_line(server, tmp_path, capsys):
    rc, out, err = cli(["fetch", "noaa", "2021-06-01", "--out", str(tmp_path), "--base-url", server.base], capsys)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "Traceback" not in err
    line = lines[0]
    assert f"noaa {server.base}/2021/AIS_2021_06_01.zip: layout changed in AIS_2021_06_01.csv" in line
    assert "missing column(s) LAT; new column(s) Latitude" in line and "AIS_2021_06_01.zip.unverified" in line
    assert (tmp_path / "AIS_2021_06_01.zip.unverified").exists() and not (tmp_path / "AIS_2021_06_01.zip").exists()


def test_a_source_without_daily_files_says_so(tmp_path, capsys):
    rc, out, err = cli(["fetch", "noaa", "2013-07-04", "--out", str(tmp_path)], capsys)
    assert rc == 2 and "monthly UTM-zone file geodatabases" in err and not any(tmp_path.iterdir())
