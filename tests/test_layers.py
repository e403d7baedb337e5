"""The folders of queueing/ are layers (docs/architecture.md): a module imports from its own folder and the
ones below it. Read from the source with ast (nothing is imported), every import counted: at the
top, inside functions, and under ``TYPE_CHECKING``.

    errors, yamlsafe      import nothing of queueing
    core                  errors, yamlsafe
    theory                core
    planning              core, theory
    output                core, theory, planning (what a command writes or prints of its results)
    cli                   anything (nothing outside it imports it): the command line wires the layers
    __init__              anything (the public API, lazy)

And the two halves meet in files, not imports: queueing/ and ivr/, each imported alone in a fresh
interpreter, load nothing of the other beyond the shared modules (errors, yamlsafe).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO
from tests.support.imports import import_loops

ROOT = REPO / "queueing"
BASE = {"queueing.errors", "queueing.yamlsafe"}
MAY_USE = {  # layer -> the layers its modules may import (besides BASE)
    "core": {"core"},
    "theory": {"core", "theory"},
    "planning": {"core", "theory", "planning"},
    "output": {"core", "theory", "planning", "output"},
    "cli": {"core", "theory", "planning", "output", "cli"},
}
TOP = {"queueing"}  # the public API: it hands on names of every layer, lazily


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every queueing module ``path`` imports, as absolute dotted names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import analytic`` imports a module, not a name
            found.update(
                f"{target}.{a.name}"
                for a in node.names
                if (ROOT.parent / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
            )
    return {m for m in found if m == "queueing" or m.startswith("queueing.")}


MODULES = sorted(ROOT.rglob("*.py"))


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_USE else None


def test_every_module_has_a_place() -> None:
    """A new module goes into a layer folder (or is one of the few at the top, on purpose)."""
    loose = [module_name(p) for p in MODULES if layer_of(module_name(p)) is None]
    assert sorted(loose) == sorted(TOP | BASE), "put new modules into core/, theory/, planning/, output/ or cli/"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_follow_the_layers(path: Path) -> None:
    module = module_name(path)
    used = imports_of(path) - {module}
    layer = layer_of(module)
    assert layer == "cli" or not any(layer_of(m) == "cli" for m in used), f"{module} imports the command line"
    if module in TOP:
        return
    if module in BASE:
        assert not used - {"queueing"}, f"{module} must stand alone, imports {sorted(used)}"
        return
    assert layer is not None
    allowed = MAY_USE[layer]
    bad = sorted(m for m in used if m not in BASE and m != "queueing" and layer_of(m) not in allowed)
    assert not bad, f"{module} ({layer}) may use {sorted(allowed)} and errors/yamlsafe, but imports {bad}"
    assert "queueing" not in used, f"{module}: import from the defining module, not the package's lazy API"


def test_no_modules_import_each_other() -> None:
    """No loop of imports, even inside one layer or through a function-level import: a module
    that needs another's names gets them from a module below both."""
    names = {module_name(p): p for p in MODULES}
    graph = {m: sorted(n for n in imports_of(p) if n in names and n != m) for m, p in names.items()}
    loops = import_loops(graph)
    assert not loops, "import loops: " + "; ".join(" -> ".join(loop) for loop in loops)


def test_the_rule_is_checked() -> None:
    """The checker sees relative imports, function-level imports and ``from . import module``."""
    assert "queueing.core.runner" in imports_of(ROOT / "cli" / "simulation.py")
    assert "queueing.theory.analytic" in imports_of(ROOT / "theory" / "steady_state.py")
    assert "queueing.errors" in imports_of(ROOT / "core" / "runner.py")


# --- the two halves: each package alone, in a fresh interpreter ---------------------------------


def _modules_after(code: str) -> set[str]:
    """Every module name in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + "; import sys; print(' '.join(sorted(sys.modules)))"
    return set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
    )


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


SHARED = {"queueing", "queueing.errors", "queueing.yamlsafe"}  # all of queueing/ that ivr/ may load


def test_packages_do_not_import_each_other() -> None:
    """queueing/ knows SimPy, never Flask; ivr/ knows Flask, never SimPy. What ivr/
    may take from queueing/ is the shared YAML reader, queueing.yamlsafe, and the one user-error
    exception, queueing.errors (IvrError is a UserError); the voice app with its menu loads both."""
    loaded = {pkg: _modules_after(f"import {pkg}") for pkg in ("queueing", "ivr")}
    assert "flask" not in _top(loaded["queueing"]) and "ivr" not in _top(loaded["queueing"])
    assert "simpy" not in _top(loaded["ivr"]) and "numpy" not in _top(loaded["ivr"])
    assert {m for m in loaded["ivr"] if m.split(".")[0] == "queueing"} <= SHARED
    app = _modules_after("from ivr.menu import load_menu; from ivr import create_app; import ivr.tools.cli")
    assert not _top(app) & {"simpy", "numpy"}
    assert {m for m in app if m.split(".")[0] == "queueing"} == SHARED


def test_the_shared_modules_import_no_model() -> None:
    """Importing queueing.yamlsafe runs queueing/__init__ (lazy) and the reader: PyYAML and the
    standard library, no SimPy, numpy, pydantic or any other module of the package; importing
    queueing.errors likewise runs only click besides."""
    loaded = _modules_after("import queueing.yamlsafe")
    assert not _top(loaded) & {"simpy", "numpy", "pydantic", "click", "flask", "ivr"}
    assert {m for m in loaded if m.split(".")[0] == "queueing"} == {"queueing", "queueing.yamlsafe"}
    # ... nor does the user-error exception ivr/ derives IvrError from (click besides).
    loaded = _modules_after("import queueing.errors")
    assert not _top(loaded) & {"simpy", "numpy", "pydantic", "flask", "ivr", "yaml"}
    assert {m for m in loaded if m.split(".")[0] == "queueing"} == {"queueing", "queueing.errors"}
    # ... while the public API is still there on first use.
    assert "simpy" in _top(_modules_after("from queueing import simulate"))
