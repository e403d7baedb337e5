"""What ``ivr311`` imports before it does anything: ``--help`` and ``validate`` start without numpy,
SciPy, pandas, matplotlib or SimPy (the lazy group of queueing.cli), and ``--help`` still lists
every command as that command's own help would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from queueing.cli import COMMANDS, main
from tests.support import REPO

HEAVY = {"numpy", "scipy", "pandas", "matplotlib", "simpy"}


def imported_by(*args: str) -> set[str]:
    """Every module the whole ``ivr311 ARGS`` process imported (Python's -X importtime, which the
    console script honours through PYTHONPROFILEIMPORTTIME), after checking it exited 0."""
    exe = shutil.which("ivr311", path=str(Path(sys.executable).parent))
    cmd = [exe, *args] if exe else [sys.executable, "-c", "from queueing.cli import main; main()", *args]
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert lines, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in lines}


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize(
    "args", [("--help",), ("validate", "scenarios/baseline.yaml"), ("simulate", "--help"), ("--version",)]
)
def test_help_and_validate_import_no_numerics(args: tuple[str, ...]) -> None:
    assert not _top(imported_by(*args)) & HEAVY


def test_the_probe_sees_what_a_command_imports() -> None:
    """The same probe on a command that computes: analytic needs numpy and SciPy, and is seen to."""
    assert {"numpy", "scipy"} <= _top(imported_by("analytic", "scenarios/textbook.yaml"))


def test_help_lists_each_command_as_its_own_help_would() -> None:
    """Each lazy command's listed sentence shortens, at every width, to what click makes of the
    command's own help: ``ivr311 --help`` prints the same lines whether the commands are imported."""
    ctx = click.Context(main, info_name="ivr311")
    for name, lazy in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        listed = click.Command(name, help=lazy.first_sentence)
        for limit in range(3, 240):
            assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)


@pytest.mark.parametrize("columns", ["50", "80", "200"])
def test_help_is_the_same_before_and_after_the_commands_are_imported(columns: str, monkeypatch) -> None:
    """The whole ``--help`` of a fresh process (nothing imported) against this process's group with
    every command imported."""
    env = {**os.environ, "COLUMNS": columns}
    code = "from queueing.cli import main; main(['--help'], prog_name='ivr311')"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    monkeypatch.setenv("COLUMNS", columns)  # the terminal's width as click reads it, here as there
    ctx = click.Context(main, info_name="ivr311", **main.context_settings)
    for name in main.list_commands(ctx):
        main.get_command(ctx, name)
    assert set(COMMANDS) <= set(main.commands)
    assert fresh.returncode == 0
    assert fresh.stdout == main.get_help(ctx) + "\n"
