"""`validate` ok means `roster` runs: rules too big to search are refused in one line, by validate
and by roster before any work, past the soft limits unless --large; and what a search writes
passes its own validate."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest

from queueing.core import limits
from queueing.core.scenario_file import parse_scenario
from queueing.planning import roster as roster_module
from queueing.planning import staff as staff_module
from queueing.planning.roster_size import rostered_agents
from tests.support import REPO
from tests.support.cli import invoke, write_file
from tests.support.scenarios import shared, two_pools_hourly

SMALL = two_pools_hourly().replace("replications: 8\n", "replications: 2\n", 1)
TWO_POOLS = shared("two-pools").replace("replications: 8\n", "replications: 2\n", 1)
SHARED_POOL = (REPO / "scenarios" / "shared-pool.yaml").read_text(encoding="utf-8")
# The shipped shared pool on a 15-minute grid with three breaks: about 270,000 shift types, a cover
# that ran 11 minutes without an answer (and ignored SIGTERM inside the solver).
THREE_BREAKS = SHARED_POOL + (
    "roster:\n  interval: 15m\n  start_every: 15m\n  shift_lengths: [8h, 10h]\n"
    "  breaks: [{length: 15m, earliest: 1h, latest: 3h}, {length: 30m, earliest: 3h, latest: 6h},"
    " {length: 15m, earliest: 5h, latest: 7h45m}]\n"
)
# Four breaks each free over a whole day: 8 billion placements, past any machine's memory.
FOUR_BREAKS = SHARED_POOL + (
    "roster:\n  interval: 15m\n  start_every: 15m\n  shift_lengths: [24h]\n  breaks: ["
    + ", ".join(["{length: 15m, earliest: 0s, latest: 23h45m}"] * 4)
    + "]\n"
)
ONE_MINUTE = TWO_POOLS.replace("interval: 30m", "interval: 1m")  # 11,616 shift types x 1440 intervals
FLOOR_9999 = SMALL.replace("min_agents: 2", "min_agents: 9999")  # 30,301 agents at least


@pytest.mark.parametrize(
    ("text", "expected", "soft"),
    [
        (THREE_BREAKS, r"roster: up to 269,568 shift types .* x 96 intervals \(15m\) for pool 'call-takers'; "
         r"at most 500,000 cells without --large .*; cut it with a coarser interval or start_every", True),
        (ONE_MINUTE, r"roster: up to 11,616 shift types .* x 1440 intervals \(1m\) for pool 'call-takers'", True),
        (FOUR_BREAKS, r"roster: up to 8.2 billion shift types .*: needs about .* GiB of memory", False),
        (FLOOR_9999, r"roster.pools: at least 30,30\d rostered agents .* at most 10,000 without --large", True),
    ],
)  # fmt: skip
def test_rules_too_big_to_search_are_refused_by_validate_and_roster_before_any_work(
    text: str, expected: str, soft: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_file(tmp_path, text)
    started = time.perf_counter()
    result = invoke("validate", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert time.perf_counter() - started < 5
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:"), first
    assert re.search(expected, first), first

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("refused before the search")

    monkeypatch.setattr(roster_module, "find_staffing", no_search)
    monkeypatch.setattr(staff_module, "find_staffing", no_search)
    out = tmp_path / "out"
    for command in ("roster", "staff"):  # staff writes the rules into staffing.yaml: refused there too
        refused = invoke(command, str(path), "--out", str(out))
        assert refused.exit_code == 2 and refused.stderr.splitlines()[0] == first and not out.exists()
    # --large lifts the soft limits only
    assert (invoke("validate", str(path), "--large").exit_code == 0) is soft


def test_the_agents_estimate_is_a_lower_bound_of_rosters_built() -> None:
    # measured: baseline's roster has 37 agents, the hourly two-pool centre's 16
    for text, built in ((REPO / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"), 37), (SMALL, 16):
        scenario = parse_scenario(text)
        assert scenario.roster is not None
        assert 0.3 * built < rostered_agents(scenario, scenario.roster) < built


def test_roster_refuses_an_answer_its_own_validate_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a limit between the input's agents (5, at least 7 rostered by the estimate) and the roster's
    monkeypatch.setattr(limits, "SOFT_AGENTS", 10)
    path = write_file(tmp_path, SMALL)
    assert invoke("validate", str(path)).exit_code == 0
    out = tmp_path / "out"
    result = invoke("roster", str(path), "--jobs", "1", "--out", str(out))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.stderr.splitlines()[-1].startswith(
        "the answer found would not pass validate, nothing written (with --large the limits are lifted"
    )
    assert re.search(r"roster\.yaml: staffing: 1\d agents in all shifts; at most 10 without --large", result.stderr)
    assert not out.exists()


@pytest.mark.slow
def test_what_staff_and_roster_write_passes_validate(tmp_path: Path) -> None:
    path = write_file(tmp_path, SMALL)
    for command, names in (("staff", ["staffing.yaml"]), ("roster", ["roster.yaml"])):
        out = tmp_path / command
        args = ["--interval", "1h"] if command == "staff" else []
        assert invoke(command, str(path), "--jobs", "1", "--quiet", "--out", str(out), *args).exit_code == 0
        checked = invoke("validate", *(str(out / name) for name in names))
        assert checked.exit_code == 0 and checked.output.count(": ok (") == len(names), checked.output


def _numbers(node: object) -> list[float]:
    if isinstance(node, dict):
        return [x for v in node.values() for x in _numbers(v)]
    if isinstance(node, list):
        return [x for v in node for x in _numbers(v)]
    return [float(node)] if isinstance(node, int | float) and not isinstance(node, bool) else []


def test_rates_at_their_bounds_keep_every_number_finite(tmp_path: Path) -> None:
    # 1e308 an hour, or overtime paid 1e308 times, validated and then wrote inf into summary.json
    text = (
        SMALL.replace("cost_per_hour: 42.0", "cost_per_hour: 1000000")
        .replace("cost_per_hour: 33.0", "cost_per_hour: 1000000")
        .replace("  shrinkage: 0.12\n", "  shrinkage: 0.9\n  overtime_multiplier: 10\n  weekly_hours: 1h\n")
    )
    path = write_file(tmp_path, text)
    out = tmp_path / "out"
    result = invoke("simulate", str(path), "-r", "2", "-j", "1", "-q", "--out", str(out))
    assert result.exit_code == 0, result.output
    numbers = _numbers(json.loads((out / "summary.json").read_text()))
    assert numbers and all(math.isfinite(x) for x in numbers)
    assert max(numbers) > 1e6  # the cost a day is there, at the bound's size
    for old, new in (("cost_per_hour: 1000000", "cost_per_hour: 1e308"), ("multiplier: 10\n", "multiplier: 1e308\n")):
        bad = write_file(tmp_path, text.replace(old, new, 1), "edge.yaml")
        refused = invoke("validate", str(bad))
        assert refused.exit_code == 2 and "must be <= " in refused.stderr, refused.output


def test_staff_frontier_refuses_plans_its_own_validate_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a limit below the plans' agents but above the input's: each frontier-<share>.yaml would be refused
    monkeypatch.setattr(limits, "SOFT_AGENTS", 10)
    path = write_file(tmp_path, SMALL)
    out = tmp_path / "out"
    result = invoke("staff", str(path), "--jobs", "1", "--frontier", "0.7:0.8:0.1", "--out", str(out))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert re.search(r"nothing written.*frontier-70\.yaml: staffing: \d+ agents", result.stderr), result.stderr
    assert not out.exists()
