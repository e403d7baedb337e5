"""docs/python-api.md cannot drift: every ```python block of the page runs, in order, in one
namespace (as cells of a notebook), from a folder holding the repository's scenarios and a call
log as `ivr311 calls export` writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from queueing import load_scenario, simulate
from tests.support import REPO
from tests.support.call_log import simulated_call_log

PAGE = REPO / "docs" / "python-api.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_page_has_an_example_for_each_planners_function() -> None:
    code = "\n".join(BLOCKS)
    for name in ("simulate", "compare", "sweep", "staff", "roster", "calibrate", "analyze"):
        assert re.search(rf"\b{name}\(", code), name
    # small runs: every example that simulates says how few replications
    for block in BLOCKS:
        if re.search(r"\b(simulate|compare|sweep|staff|roster)\(", block):
            assert "replications=3" in block, block


@pytest.mark.slow
def test_every_example_of_the_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    base = load_scenario(REPO / "scenarios" / "baseline.yaml")
    simulated_call_log(simulate(base, replications=2, keep_calls=True)).to_csv(tmp_path / "calls.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "python_api_page"}
    for number, block in enumerate(BLOCKS, start=1):
        exec(compile(block, f"{PAGE.name}, python block {number}", "exec"), namespace)  # noqa: S102
    assert namespace["staffing"].targets_met  # type: ignore[attr-defined]
    assert len(namespace["shifts"]) > 0  # type: ignore[arg-type]
    assert namespace["calibrated"].staffing == base.staffing  # type: ignore[attr-defined]
    assert namespace["patience"] is not None  # the log has hang-ups enough for the page's claim
