"""The floors of ``../shared/DESIGN.md``: a module imports only from its own floor or below.

Every module of ``mmrqa/``, ``dataset_builder/``, ``space/`` and ``train_sft.py`` is read (AST, not imported), each is
given its floor by :data:`FLOORS` (longest matching prefix), and each ``import`` statement, at the top of the file or
inside a function, is checked:

- a lower floor never imports a higher one (``io`` and ``metrics`` know nothing of QA; the pipeline does not import
  ``evaluation``);
- nothing imports floor 5 (the ``mmrqa`` commands, the Space, ``train_sft.py``, ``python -m dataset_builder``)
  from outside its own package: in particular nothing outside ``mmrqa/cli`` imports ``mmrqa.cli``;
- library code (floors 0-4) never imports a script-like module (one with its own ``main()`` that prints, or an
  ``if __name__ == "__main__":`` block).

A new module must be given a floor here (the test says which one is missing). Imports made through
``importlib.import_module`` (the console script's subcommand table, the lazy ``mmrqa`` facade) are not statements and
are not checked.
"""

from __future__ import annotations

import ast
import sys
import warnings
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]

#: module-name prefix -> floor (DESIGN.md, "The floors"); the longest matching prefix wins.
FLOORS: dict[str, int] = {
    # floor 0: plain data, errors, atomic writes, console output, Hub uploads
    "mmrqa": 0,  # the package facade re-exports the public API lazily (importlib), so it imports nothing itself
    "mmrqa.volume": 0,
    "mmrqa.errors": 0,
    "mmrqa.fileio": 0,
    "mmrqa.console": 0,
    "mmrqa.hub": 0,
    "mmrqa.versions": 0,
    # floor 1: reading scans, measuring them, corrupting them; the sample scans
    "mmrqa.io": 1,
    "mmrqa.metrics": 1,
    "mmrqa.artifacts": 1,
    "mmrqa.data": 1,
    # floor 2: questions and answers, rendering, presentation helpers for any front end, generated docs
    "mmrqa.qa": 2,
    "mmrqa.render": 2,
    "mmrqa.presentation": 2,
    "mmrqa.uploads": 2,
    "mmrqa.upload_sweeper": 2,
    "mmrqa.docs": 2,
    # floor 3: scan -> Assessment (model or signal classifier), model loading
    "mmrqa.pipeline": 3,
    "mmrqa.modeling": 3,
    "mmrqa.classifier": 3,
    # floor 4: evaluation, engines, the dataset builder, reports and cards, a front end's session over one scan
    "mmrqa.evaluation": 4,
    "mmrqa.engines": 4,
    "mmrqa.model_card": 4,
    "mmrqa.report": 4,
    "mmrqa.scan_session": 4,
    "dataset_builder": 4,
    # floor 5: entry points; nothing imports these
    "mmrqa.cli": 5,
    "mmrqa.demo": 5,
    "mmrqa.pretrain_mini": 5,
    "dataset_builder.__main__": 5,
    "space": 5,
    "train_sft": 5,
}
ENTRY_FLOOR = 5
LIBRARY_FLOORS = range(ENTRY_FLOOR)

#: Known violations that another helper's pending work removes; each entry says who removes it. Keep it short.
#: (importer, imported) -> why it is still here.
ALLOWED: dict[tuple[str, str], str] = {}


class Edge(NamedTuple):
    """``importer`` imports ``imported`` at ``line``."""

    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = REPO) -> dict[str, Path]:
    """Module name -> file, for every module the floors cover."""
    files = [
        *(root / "mmrqa").rglob("*.py"),
        *(root / "dataset_builder").rglob("*.py"),
        *(root / "space").rglob("*.py"),
    ]
    files.append(root / "train_sft.py")
    return {module_name(f, root): f for f in sorted(files) if f.exists() and "__pycache__" not in f.parts}


def floor_of(module: str) -> int | None:
    best = None
    for prefix in FLOORS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else FLOORS[best]


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(module: str, path: Path, known: set[str]) -> list[Edge]:
    """The project modules ``module`` imports (``from a.b import c`` is ``a.b.c`` when that is a module)."""
    edges = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # ``import a.b.c`` of a missing module: its nearest known parent
                name = name.rpartition(".")[0]
            if name and name != module:
                edges.append(Edge(module, name, node.lineno))
    return list(dict.fromkeys(edges))  # ``from a import b, c``: one edge per imported module and line


def is_script(path: Path) -> bool:
    """A module with its own ``main()`` that prints, or with an ``if __name__ == "__main__":`` block."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            return True
    has_main = any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    prints = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print" for n in ast.walk(tree)
    )
    return has_main and prints


def violations(root: Path = REPO, allowed: dict[tuple[str, str], str] | None = None) -> list[str]:
    """Every import that breaks the floors (see the module docstring), as readable lines."""
    allowed = ALLOWED if allowed is None else allowed
    modules = sources(root)
    known = set(modules)
    found = []
    for module, path in modules.items():
        floor = floor_of(module)
        for edge in imports(module, path, known):
            if (edge.importer, edge.imported) in allowed:
                continue
            target = floor_of(edge.imported)
            if floor is None or target is None:
                continue  # reported by test_every_module_has_a_floor
            own_package = edge.importer.split(".")[:2] == edge.imported.split(".")[:2]
            if edge.imported == "mmrqa.cli" or edge.imported.startswith("mmrqa.cli."):
                if not module.startswith("mmrqa.cli"):
                    found.append(f"{edge}: nothing outside mmrqa/cli imports the CLI")
            elif target == ENTRY_FLOOR and not own_package:
                found.append(f"{edge}: nothing imports an entry point (floor 5)")
            if target > floor:
                found.append(f"{edge}: floor {floor} imports floor {target}")
            if floor in LIBRARY_FLOORS and is_script(modules[edge.imported]):
                found.append(f"{edge}: library code imports a script (a main() that prints, or a __main__ block)")
    return found


def test_every_module_has_a_floor():
    missing = [m for m in sources() if floor_of(m) is None]
    assert not missing, "give these modules a floor in tests/test_layers.py FLOORS (see DESIGN.md): " + ", ".join(
        missing
    )


def test_no_lower_floor_imports_a_higher_one():
    found = violations()
    assert not found, "imports against the floors of DESIGN.md:\n" + "\n".join(found)


def test_the_allowlist_holds_only_live_violations():
    """An allowlist entry whose import is gone should be removed (so the list only shrinks). A warning, not a failure:
    the helper whose work removes the import lands it in parallel with this test, and main must stay green."""
    live = set(violations(allowed={}))
    stale = [pair for pair in ALLOWED if not any(line.startswith(f"{pair[0]}:") and pair[1] in line for line in live)]
    if stale:
        message = f"remove these entries from ALLOWED in tests/test_layers.py, their imports are gone: {stale}"
        warnings.warn(message, stacklevel=1)


def test_the_checker_catches_each_kind_of_violation(tmp_path):
    """The rules fire on a small fake tree (so a passing test means something)."""
    files = {
        "mmrqa/__init__.py": "",
        "mmrqa/errors.py": "",
        "mmrqa/io/__init__.py": "from mmrqa.qa import answers\n",  # floor 1 -> 2
        "mmrqa/qa/__init__.py": "",
        "mmrqa/qa/answers.py": "",
        "mmrqa/pipeline/__init__.py": "def f():\n    from mmrqa.evaluation import driver\n",  # 3 -> 4, in a function
        "mmrqa/evaluation/__init__.py": "",
        "mmrqa/evaluation/driver.py": "from ..cli.assess import run\n",  # relative import of the CLI
        "mmrqa/evaluation/tool.py": "def main():\n    print('hi')\n",
        "mmrqa/engines/__init__.py": "from mmrqa.evaluation import tool\n",  # library imports a script
        "mmrqa/cli/__init__.py": "",
        "mmrqa/cli/assess.py": "from mmrqa.cli import errors\nfrom mmrqa import errors\n",
        "space/app.py": "from mmrqa.cli import assess\n",  # floor 5 imports the CLI
        "train_sft.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = "\n".join(violations(tmp_path, allowed={}))
    assert "mmrqa.io:1 imports mmrqa.qa.answers: floor 1 imports floor 2" in found
    assert "mmrqa.pipeline:2 imports mmrqa.evaluation.driver: floor 3 imports floor 4" in found
    assert "mmrqa.evaluation.driver:1 imports mmrqa.cli.assess: nothing outside mmrqa/cli imports the CLI" in found
    assert "mmrqa.engines:1 imports mmrqa.evaluation.tool: library code imports a script" in found
    assert "space.app:1 imports mmrqa.cli.assess: nothing outside mmrqa/cli imports the CLI" in found
    assert not [line for line in found.splitlines() if line.startswith("mmrqa.cli.")]  # the CLI may import itself
    assert len(found.splitlines()) == 6, found  # the driver's import of the CLI breaks two rules


if __name__ == "__main__":  # pragma: no cover - `python tests/test_layers.py [ROOT]` lists the violations of a tree
    for line in violations(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO, allowed={}):
        print(line)
