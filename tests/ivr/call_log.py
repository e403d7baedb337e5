"""The call log as the voice tests read it back: what `ivr311 calls export --format json` writes."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from ivr.tools.cli import calls


def logged(db_url: str) -> list[dict[str, Any]]:
    """Every call of the log at ``db_url``, as the export writes it (one dict a call)."""
    result = CliRunner().invoke(calls, ["export", "--database-url", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows
