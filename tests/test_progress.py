"""Progress bars: on stderr when it is a terminal (a real pseudo-terminal here), never on stdout, and absent when
stderr is a pipe or a file (CI logs, `2> log`)."""
import fcntl
import os
import pty
import struct
import termios
import select
import subprocess
import sys

import pytest

from oceanguard.core import sample_path

CLI = [sys.executable, "-c", "import sys; from oceanguard.cli import main; sys.exit(main())"]
FERRY = sample_path("dma-csv-laeso-ferry/ferry_laeso_2022-10-15.csv")


def run_with_terminal_stderr(args) -> tuple[int, str, str]:
    "Run the CLI with stderr on a pseudo-terminal and stdout on a pipe: (returncode, stdout, what the terminal showed)."
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))   # a terminal 160 columns wide, as a user's is
    p = subprocess.Popen(CLI + [str(a) for a in args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r: p.kill(); pytest.fail("no output from the command for 120 s")
        try: b = os.read(master, 65536)
        except OSError: break                       # EIO: the command closed its terminal
        if not b: break
        shown += b
    out = p.stdout.read().decode(); p.wait(); os.close(master)
    return p.returncode, out, shown.decode(errors="replace")


def run_piped(args) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def evaluation_files(tmp_path):
    an, lab = tmp_path / "an.csv", tmp_path / "labels.csv"
    an.write_text("object_id,kind,start,end,detector\nmmsi:219000734,loitering,2022-10-15T11:16:01Z,2022-10-15T11:30:00Z,rules\n")
    lab.write_text("object_id,kind,start,end\nmmsi:219000734,loitering,2022-10-15T11:20:00Z,2022-10-15T11:40:00Z\n")
    return an, lab


def test_report_shows_its_stages_on_a_terminal_only(tmp_path):
    rc, out, shown = run_with_terminal_stderr(["report", FERRY, "--out", tmp_path / "map.html"])
    assert rc == 0 and "oceanguard report:" in out
    assert "report" in shown and "reading inputs" in shown and "/3" in shown
    assert "reading inputs" not in out and "\r" not in out          # never on stdout
    r = run_piped(["report", FERRY, "--out", tmp_path / "map2.html"])
    assert r.returncode == 0 and r.stderr == "" and "oceanguard report:" in r.stdout


def test_evaluate_shows_its_stages_on_a_terminal_only(tmp_path, evaluation_files):
    an, lab = evaluation_files
    rc, out, shown = run_with_terminal_stderr(["evaluate", "--anomalies", an, "--labels", lab, "--out", tmp_path / "m.json"])
    assert rc == 0 and out.startswith("precision 1.000 recall 1.000")
    assert "evaluate" in shown and "matching events" in shown and "matching" not in out
    r = run_piped(["evaluate", "--anomalies", an, "--labels", lab, "--out", tmp_path / "m2.json"])
    assert r.returncode == 0 and r.stderr == ""


@pytest.mark.parametrize("command,what", [
    (["detect", FERRY, "--no-model", "--out", "{tmp}/an.parquet"], ["reading ferry_laeso_2022-10-15.csv", "rules"]),
    (["export", FERRY, "--format", "geojson", "--what", "tracks", "--out", "{tmp}/t.geojson"], ["reading tracks", "writing geojson"]),
])
def test_detect_and_export_show_progress_on_a_terminal_only(tmp_path, command, what):
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in command]
    rc, out, shown = run_with_terminal_stderr(args)
    assert rc == 0 and all(w in shown for w in what), shown[-500:]
    assert not any(w in out for w in what) and "\r" not in out
    r = run_piped(args)
    assert r.returncode == 0 and r.stderr == "", r.stderr
