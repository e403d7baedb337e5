"""A staffing search on disk and on the console: what ``ivr311 staff`` writes and prints.

- ``staffing.yaml``: the whole scenario with the staffing found as shifts, ready to simulate
  (written as planners write scenarios, :mod:`.scenario_yaml`).
- ``staffing.csv``: per interval and pool, ``interval, start_s, end_s, pool, agents,
  erlang_agents``.
- ``staffing.json``: ``agent_hours``, ``erlang_agent_hours``, ``targets_met``, per pool the same
  hours, how the search was run (interval, confidence, replications, seed, simulations, calls),
  and per target its window (``over``) and the windows met at the search's lower bound.
- ``staffing.png``: agents by interval and pool against the per-interval Erlang answer.
- the console: that table, then why the simulation's answer differs from Erlang's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.durations import format_duration
from ..core.scenario import Scenario
from ..planning.staff import StaffingResult, interval_label
from .files import json_text, write_csv
from .scenario_yaml import DURATIONS_NOTE, scenario_yaml
from .tables import format_table


def write_staffing(
    out_dir: Path, result: StaffingResult, base: Scenario, *, command: str, confidence: float
) -> list[Path]:
    """staffing.yaml, .csv, .json and .png of a staffing search into ``out_dir``; ``command``
    says in staffing.yaml's header how it was found."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"staffing.{ext}" for ext in ("yaml", "csv", "json", "png")]
    header = (
        f"Staffing found by `{command}` (interval {format_duration(result.interval_s)}, confidence "
        f"{confidence:g}, {base.replications} replications, seed {base.seed})."
    )
    staffed = result.scenario.model_copy(update={"name": f"{base.name} (staffed by ivr311 staff)"})
    paths[0].write_text(scenario_yaml(staffed, [header, *DURATIONS_NOTE]), encoding="utf-8")
    pools, interval_s = result.pool_names, result.interval_s
    write_csv(paths[1], result.table.columns, result.table.rows())
    doc = {
        "agent_hours": result.agent_hours(),
        "erlang_agent_hours": result.agent_hours(result.erlang_agents),
        "targets_met": result.targets_met,
        "pools": {
            pool: {
                "agent_hours": result.agent_hours(pool=p),
                "erlang_agent_hours": result.agent_hours(result.erlang_agents, pool=p),
            }
            for p, pool in enumerate(pools)
        },
        "interval_s": interval_s,
        "confidence": confidence,
        "replications": base.replications,
        "seed": base.seed,
        "simulations": result.simulations,
        "calls_simulated": result.calls_simulated,
        "targets": _targets(result),
    }
    paths[2].write_text(json_text(doc, "staffing.json"), encoding="utf-8")
    from .plots import staffing_by_interval  # matplotlib: only when a picture is drawn

    paths[3].write_bytes(staffing_by_interval(result.scenario, interval_s, result.agents, result.erlang_agents))
    return paths


def _targets(result: StaffingResult) -> list[dict[str, object]]:
    """Per target, its window and how many windows the staffing meets at the search's lower bound."""
    check = result.check
    if check is None:
        return []
    out: list[dict[str, object]] = []
    for j, margin in zip(check.judged, check.window_margins(), strict=True):
        entry: dict[str, object] = {"class": j.class_name}
        if j.language is not None:
            entry["language"] = j.language  # the class's target judged on its callers of that language
        entry.update(
            {
                "within_s": j.target.within,
                "share": j.target.share,
                "over": j.target.window,
                "windows": {"judged": j.n_judged, "met": int(np.count_nonzero(j.judged & (margin >= 0)))},
            }
        )
        out.append(entry)
    return out


def format_staffing(
    pools: Sequence[str], agents: Sequence[Sequence[int]], erlang_agents: Sequence[Sequence[int]], interval_s: float
) -> str:
    """The table of ``staff``: agents per interval and pool, the per-interval Erlang answer in brackets."""
    head = ["interval"] + [f"{p} (Erlang)" for p in pools]
    table = [
        [interval_label(i, interval_s)] + [f"{agents[i][p]} ({erlang_agents[i][p]})" for p in range(len(pools))]
        for i in range(len(agents))
    ]
    return format_table(head, table)


def explain(result: StaffingResult, base: Scenario) -> list[str]:  # noqa: C901 - a list of independent reasons
    """Plain-language reasons the simulated answer differs from the per-interval Erlang answer."""
    sim_h, erl_h = result.agent_hours(), result.agent_hours(result.erlang_agents)
    lines = [
        f"Simulation: {sim_h:.0f} agent-hours a day; per-interval Erlang: {erl_h:.0f} "
        f"({sim_h - erl_h:+.0f}, {100 * (sim_h - erl_h) / erl_h if erl_h else 0:+.0f}%)."
    ]
    reasons = []
    if any(c.patience is not None for c in base.classes.values()):
        reasons.append(
            "callers who hang up shorten the queue for the others (the formulas without patience overstate waits)"
        )
    if any(len(p.serves) > 1 for p in base.staffing.pools):
        reasons.append(
            "in a shared pool, 311 calls wait behind 911 calls and a long 311 call delays "
            "the next 911 answer (non-preemptive); splitting loads evenly between pools is "
            "only a guess"
        )
    if (
        any(
            len(a.arrivals.hourly_rates()) and max(a.arrivals.hourly_rates()) != min(a.arrivals.hourly_rates())
            for a in base.classes.values()
        )
        or base.surges
    ):
        reasons.append(
            "rates change from hour to hour: a queue built up in a busy interval carries "
            "into the next, and a ramp-up needs agents before the peak"
        )
    overs = {t.window for ts in base.targets.values() for t in ts}
    where = "each interval's target" if overs == {"interval"} else "each target in each of its windows"
    reasons.append(
        f"the simulation asks that {where} be met with the chosen confidence over "
        "replications (a lower bound), the formulas only that the long-run average meets it"
    )
    lines += [f"  - {r}" for r in reasons]
    return lines


def format_staffing_result(result: StaffingResult, base: Scenario) -> str:
    """What ``staff`` prints: the table, why it differs from Erlang's, and a warning when some
    target is still not met."""
    lines = [format_staffing(result.pool_names, result.agents, result.erlang_agents, result.interval_s), ""]
    lines += explain(result, base)
    if not result.targets_met:
        lines.append("WARNING: some targets are still not met:")
        lines += [f"  {line}" for line in (result.check.missed_lines() if result.check else [])]
    return "\n".join(lines)
