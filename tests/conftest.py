"""Fixtures for the planner's tests: scenario files written to a temporary folder. Helpers the
tests share live in the package tests.support, not here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.scenarios import scenario_text

# Hypothesis's per-example deadline (200 ms) is wall time: a loaded machine ran one example of a
# week's scenario round trip in 414 ms and failed CI. These tests check results, not speed.
settings.register_profile("ivr311", deadline=None)
settings.load_profile("ivr311")


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario text (or the benchmark-shaped scenario with overrides) to a file; return its path."""

    def write(text: str | None = None, name: str = "scenario.yaml", **kwargs: object) -> Path:
        path = tmp_path / name
        path.write_text(text if text is not None else scenario_text(**kwargs), encoding="utf-8")  # type: ignore[arg-type]
        return path

    return write
