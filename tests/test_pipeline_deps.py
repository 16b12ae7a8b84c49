"""Every DVC stage lists, as dependencies, each oceanguard module its notebook runs (imports followed
transitively, including imports inside functions) and the package's resources.

Without this a change in a module a stage only reaches indirectly (say `geo.py`, imported by
`synthetic.py`) would leave `dvc repro` saying "up to date" while a fresh clone computes something
else: the run would no longer be reproducible from the repository.
"""
import ast
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    base = ROOT / name.replace(".", "/")
    for f in (base.with_suffix(".py"), base / "__init__.py"):
        if f.is_file(): return f
    return None


def imported(source: str, package: str) -> set[str]:
    "The oceanguard modules `source` imports (absolute or relative to `package`), anywhere in the code."
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import): names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else (node.module or "")
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else: continue
        found |= {n for n in names if n.split(".")[0] == "oceanguard" and module_file(n)}
    return found


def closure(modules: set[str]) -> set[Path]:
    "Files of `modules`, of the modules they import, and of their parent packages, transitively."
    seen, todo = set(), list(modules)
    while todo:
        m = todo.pop()
        if m in seen: continue
        seen.add(m)
        f = module_file(m)
        todo += imported(f.read_text(), m if f.name == "__init__.py" else m.rsplit(".", 1)[0])
        todo += [".".join(m.split(".")[:i]) for i in range(1, m.count(".") + 1)]
    return {module_file(m).relative_to(ROOT) for m in seen}


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").splitlines()
    return "\n".join(l for l in lines if not l.lstrip().startswith(("!", "%")))


def covered(path: Path, deps: list[str]) -> bool:
    return any(str(path) == d or str(path).startswith(d.rstrip("/") + "/") for d in deps)


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_depends_on_the_code_it_runs(stage):
    deps = [str(d) for d in STAGES[stage]["deps"]]
    notebooks = [d for d in deps if d.startswith("pipeline/") and d.endswith(".ipynb")]
    assert len(notebooks) == 1, f"{stage}: expected one pipeline notebook among the deps"
    files = closure(imported(notebook_code(ROOT / notebooks[0]), "oceanguard"))
    assert Path("oceanguard/core.py") in files                       # the analysis finds imports at all
    missing = sorted(str(f) for f in files if not covered(f, deps))
    assert not missing, f"stage {stage} runs code it does not list in dvc.yaml deps: {missing}"
    assert "oceanguard/resources" in deps, f"stage {stage}: the shipped resources (ports, land, MID table) are data it reads"


def test_the_import_analysis_follows_function_level_and_relative_imports():
    files = closure({"oceanguard.synthetic"})
    assert Path("oceanguard/geo.py") in files and Path("oceanguard/__init__.py") in files
    assert Path("oceanguard/models/lstm.py") in closure({"oceanguard.detect"})   # imported inside a function
