"""Scenario texts: the benchmark case with overrides, and the shared files of tests/scenarios/."""

from __future__ import annotations

import yaml

from tests.support import REPO

SHARED = REPO / "tests" / "scenarios"


def shared(name: str) -> str:
    """The text of tests/scenarios/NAME.yaml, a scenario several tests use."""
    return (SHARED / f"{name}.yaml").read_text(encoding="utf-8")


def before_roster(text: str) -> str:
    """A scenario's text without its ``roster:`` section (the last one of the shared files)."""
    return text[: text.index("\nroster:") + 1]


def roster_section(text: str) -> str:
    """The ``roster:`` section of a scenario's text, to the end of the file."""
    return text[text.index("\nroster:") + 1 :]


# The two-pool centre's rules on a 1-hour grid: 8h and 10h shifts with an hour's break 3h to 5h
# in (a cover of a few hundred shift types instead of the 30-minute grid's ~500 per pool).
HOURLY_ROSTER = """\
roster:
  interval: 1h
  start_every: 1h
  shift_lengths: [8h, 10h]
  breaks: [{length: 1h, earliest: 3h, latest: 5h}]
  shrinkage: 0.12
  pools:
    call-takers: {cost_per_hour: 42.0, min_agents: 2}
    311-desk: {cost_per_hour: 33.0}
"""


def two_pools_hourly() -> str:
    """tests/scenarios/two-pools.yaml with its roster rules on a 1-hour grid: a quicker roster."""
    return before_roster(shared("two-pools")) + HOURLY_ROSTER


def one_agent(breaks: str = "{start: 1h, length: 30m}") -> str:
    """tests/scenarios/one-agent.yaml (one agent 0h-8h) with these breaks in its shift."""
    text = shared("one-agent")
    assert "breaks: [{start: 1h, length: 30m}]" in text
    return text.replace("breaks: [{start: 1h, length: 30m}]", f"breaks: [{breaks}]")


def scenario_text(
    *,
    agents: int = 10,
    rates: tuple[float, float] = (36, 96),
    handle: str = "4m",
    horizon: str = "2d",
    warmup: str = "2h",
    replications: int = 3,
    seed: int = 7,
    patience: str | None = None,
) -> str:
    """A two-class, one-shared-pool scenario in the shape of the benchmark case
    (scenarios/textbook.yaml), shorter, with the fields the tests vary."""
    classes = {}
    for prio, (name, rate) in enumerate(zip(("911", "311"), rates, strict=True), start=1):
        cc: dict = {
            "priority": prio,
            "arrivals": {"rate_per_hour": rate},
            "handle_time": {"dist": "exponential", "mean": handle},
        }
        if patience:
            cc["patience"] = {"dist": "exponential", "mean": patience}
        classes[name] = cc
    doc = {
        "name": "test centre",
        "seed": seed,
        "horizon": horizon,
        "warmup": warmup,
        "replications": replications,
        "classes": classes,
        "staffing": {"pools": [{"name": "call-takers", "serves": ["911", "311"], "agents": agents}]},
        "targets": {"911": [{"within": "15s", "share": 0.9}], "311": [{"within": "30s", "share": 0.8}]},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def rated_plan(agents_day: int, rate: float, break_: bool) -> str:
    """The benchmark case over 2 days with a day shift (7h-19h, an hour's break or none) and a
    night shift of 9, paid ``rate`` an hour with overtime at 1.5."""
    doc = yaml.safe_load(scenario_text(horizon="2d", warmup="1h", replications=4, rates=(36, 80), patience="4m"))
    day: dict = {"start": "7h", "end": "19h", "agents": agents_day}
    if break_:
        day["breaks"] = [{"start": "5h", "length": "1h"}]
    doc["staffing"]["pools"][0] = {
        "name": "call-takers", "serves": ["911", "311"],
        "shifts": [day, {"start": "19h", "end": "31h", "agents": 9}],
    }  # fmt: skip
    doc["roster"] = {"overtime_multiplier": 1.5, "pools": {"call-takers": {"cost_per_hour": rate}}}
    return yaml.safe_dump(doc)
