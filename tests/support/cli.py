"""Driving ``ivr311`` in process (click's CliRunner) and checking its refusals."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result


def invoke(*args: str) -> Result:
    """``ivr311 ARGS`` in this process."""
    from queueing.cli import main

    return CliRunner().invoke(main, list(args))


def write_file(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    """``text`` (bytes as they are) written to tmp_path/NAME."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_refused(result: Result, path: Path, pattern: str) -> None:
    """Exit 2, no traceback, and every stderr line is `path:line: ...`; the first matches ``pattern``."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(re.match(rf"^{re.escape(str(path))}:\d+: ", line) for line in lines), lines
    assert re.search(pattern, lines[0]), lines[0]


def assert_one_line_error(tmp_path: Path, text: str, expected: str) -> None:
    """``ivr311 validate`` of ``text`` (as bad.yaml) exits 2 with exactly the line ``bad.yaml:<expected>``."""
    path = write_file(tmp_path, text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"{path}:{expected}\n"
    assert "Traceback" not in result.output
