"""The README's promises: its Python example runs as written, and its command lines name real commands."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    cmds = [l.split("#")[0].strip() for l in first_block.splitlines() if l.strip()]
    assert cmds == ["make demo", "make test"]
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", make, re.M) and re.search(r"^test:", make, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_python_example_runs(monkeypatch):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(ROOT)
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    assert len(ns["clean"].positions) == 735 - ns["clean"].counts["duplicates"] - ns["clean"].counts["quarantined"]
    assert {"speed_kn", "segment_id", "dist_port_nm"} <= set(ns["feats"].columns)


def test_readme_commands_exist():
    from oceanguard.cli import COMMANDS
    named = set(re.findall(r"^oceanguard (\w+)", README, re.M))
    named |= set(re.findall(r"\| (\w+)", re.search(r"oceanguard synthesize \|.*", README).group(0)))
    named |= {"synthesize"}
    assert named <= set(COMMANDS), named - set(COMMANDS)
    exe = Path(sys.executable).with_name("oceanguard")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert all(f"  {c} " in out.stdout for c in named), out.stdout
