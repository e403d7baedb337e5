"""The folders of ivr/ are its parts, and each imports only from those below it. Read from the
source with ast (nothing is imported), every import counted: at the top, inside functions, and
under ``TYPE_CHECKING``.

    errors                import nothing of ivr (queueing.errors: IvrError is a UserError)
    config, menu          errors (menu: queueing.yamlsafe too): what the app is configured with
    calllog               errors, config: the call log, its requests table, recorder and journal
    context               config, menu, calllog: the app's state, one typed accessor each
    callflow              the above: Twilio's webhooks and their TwiML
    open311               the above, never callflow: the GeoReport API beside the phone
    wallboard             the above but callflow (open311: its gate only): the wall screen's page
    __init__              create_app: wires the blueprints of callflow, open311 and wallboard
    tools                 anything (nothing in ivr/ imports them): the commands and the phones
    gunicorn_conf/_worker the production server: errors, and check_start of __init__
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO
from tests.support.imports import import_loops

ROOT = REPO / "ivr"
BASE = {"ivr.errors", "ivr.config", "ivr.menu"}
MAY_USE = {  # part -> the parts its modules may import (besides BASE)
    "ivr.errors": set(),
    "ivr.config": {"ivr.errors"},
    "ivr.menu": {"ivr.errors"},
    "ivr.calllog": {"calllog"},
    "ivr.context": {"calllog"},
    "ivr.callflow": {"calllog", "context", "callflow"},
    "ivr.open311": {"calllog", "context", "open311"},
    "ivr.wallboard": {"calllog", "context", "open311", "wallboard"},
    "ivr": {"calllog", "context", "callflow", "open311", "wallboard"},
    "ivr.tools": {"calllog", "context", "callflow", "open311", "wallboard", "ivr", "tools"},
    "ivr.gunicorn_conf": {"ivr", "ivr.errors"},
    "ivr.gunicorn_worker": {"ivr.errors"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ivr module ``path`` imports, as absolute dotted names (``from ivr.x import y``
    counts as ``ivr.x.y`` when y is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert not node.level, f"{path}: relative import"
            modules = {
                f"{node.module}.{a.name}"
                for a in node.names
                if (ROOT.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
            }
            # ``from ivr import context`` uses context, not what the package's __init__ defines
            found.update(modules if len(modules) == len(node.names) else {node.module, *modules})
    return {m for m in found if m == "ivr" or m.startswith("ivr.")}


def part_of(module: str) -> str:
    """``ivr.callflow.voice`` -> ``callflow``; a top-level module is its own part."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (ROOT / parts[1]).is_dir()):
        return parts[1]
    return {"ivr": "ivr", "ivr.context": "context"}.get(module, module)


def rule_of(module: str) -> str:
    part = part_of(module)
    return f"ivr.{part}" if f"ivr.{part}" in MAY_USE else part


MODULES = sorted(ROOT.rglob("*.py"))


def test_every_module_has_a_place() -> None:
    """A new module goes into a part's folder (or is one of the few at the top, on purpose)."""
    loose = sorted(m for m in map(module_name, MODULES) if rule_of(m) not in MAY_USE)
    assert not loose, "put new modules into calllog/, callflow/, open311/, wallboard/ or tools/"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_follow_the_parts(path: Path) -> None:
    module = module_name(path)
    allowed = MAY_USE[rule_of(module)]
    used = imports_of(path) - {module}
    if module in BASE or module.startswith("ivr.gunicorn"):
        bad = sorted(m for m in used if m not in allowed)
    else:
        bad = sorted(m for m in used if m not in BASE and part_of(m) not in allowed)
    assert not bad, f"{module} may use {sorted(allowed)} (and {sorted(BASE)}), but imports {bad}"


def test_no_modules_import_each_other() -> None:
    """No loop of imports, even inside one folder or through a function-level import."""
    names = {module_name(p): p for p in MODULES}
    graph = {m: sorted(n for n in imports_of(p) if n in names and n != m) for m, p in names.items()}
    loops = import_loops(graph)
    assert not loops, "import loops: " + "; ".join(" -> ".join(loop) for loop in loops)


def test_the_rule_is_checked() -> None:
    """The checker sees function-level imports, ``from ivr.x import module`` and ``TYPE_CHECKING``."""
    assert "ivr.callflow.voice" in imports_of(ROOT / "__init__.py")
    assert "ivr.calllog.requestnumbers" in imports_of(ROOT / "callflow" / "voice.py")
    assert "ivr.menu" in imports_of(ROOT / "context.py")
    assert "ivr" in imports_of(ROOT / "tools" / "cli.py")  # create_app
    assert "ivr" not in imports_of(ROOT / "callflow" / "voice.py")  # only ``from ivr import context``
    assert part_of("ivr.callflow.voice") == "callflow" and part_of("ivr") == "ivr"
    assert part_of("ivr.context") == "context" and part_of("ivr.callflow") == "callflow"
