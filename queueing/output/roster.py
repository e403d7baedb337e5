"""A roster on disk and on the wall: roster.yaml, roster.csv, roster.json, roster.png and the
console table of ``ivr311 roster``.

- ``roster.yaml``: the whole scenario with every pool's shifts replaced by the roster (breaks
  included), ready for ``ivr311 simulate``; durations as planners write them (``7h30m``; shift
  times in hours past midnight, ``27h`` for 03:00 the next morning; a non-whole number of
  seconds stays a plain number of seconds, so nothing is rounded). Read back, it is the same
  scenario. Each shift holds the agents who come and, as ``absent``, those rostered but away
  (the shrinkage share, spread over the day): the roster as checked, so simulating it gives the
  roster's cost (:mod:`queueing.core.cost`).
- ``roster.csv``: one row per shift: ``pool, start, end, breaks, agents, cost_per_day``. Times
  are clock times of the day the shift starts, ``HH:MM``; an end or break past midnight keeps
  counting hours (``27:00`` is 03:00 the next morning), so ``end - start`` is always the paid
  length and rows sort by start. ``breaks`` is ``11:00-11:30;15:00-15:15`` (empty without
  breaks); ``cost_per_day`` is agents x paid hours x the pool's rate (empty without rates).
- ``roster.json``: the totals (``cost_per_day``: the plan's cost a day, every rostered agent paid
  and overtime as simulated, ``agent_hours`` on duty, ``paid_hours``, ``fte``
  at ``weekly_hours``, ``targets_met``, ``lower_bound_hours``, ``above_lower_bound`` =
  paid / lower bound - 1, ``agents_added``), per pool the same figures, the currency, the
  service levels of the roster's last simulation, and ``meta`` as in summary.json.
- ``roster.png``: per pool, the shifts as bars over the day (breaks hatched) and the coverage
  (rostered agents on duty, not on break) against what each interval needs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..core.durations import HOUR_S, format_duration
from ..core.rounding import apportion
from ..planning.roster import RosterResult, breaks_text
from .files import json_text, write_csv
from .scenario_yaml import DURATIONS_NOTE, scenario_yaml
from .tables import clock_span, format_table

# --- figures of a shift and of a pool ------------------------------------------------------------


def above_lower_bound(result: RosterResult) -> float | None:
    """How far the roster's paid hours are above the lower bound, as a share (0.05 = 5% above)."""
    if result.lower_bound_hours <= 0:
        return None
    return result.paid_hours / result.lower_bound_hours - 1


def _money(result: RosterResult, value: float) -> str:
    return f"{result.rules.currency}{value:,.0f}"


# --- roster.yaml -----------------------------------------------------------------------------------


def roster_yaml(result: RosterResult, command: str | None = None) -> str:
    """roster.yaml: a header saying how the roster was made, then the whole scenario, the roster
    as checked (the agents away as each shift's ``absent``)."""
    rules = result.rules
    how = f"`{command}`" if command else "ivr311 roster"
    cost = f", {_money(result, result.cost_per_day)} a day" if result.cost_per_day is not None else ""
    verdict = "every target met in every interval" if result.targets_met else "SOME TARGETS NOT MET"
    lines = [
        f"Roster built by {how}: shifts of {', '.join(format_duration(n) for n in rules.shift_lengths or [])}",
        f"starting every {format_duration(rules.start_every)}, shrinkage {rules.shrinkage:g}, judged per "
        f"{format_duration(result.interval_s)} interval over {result.scenario.replications} replications "
        f"(seed {result.scenario.seed}).",
        f"{result.paid_hours:,.1f} paid agent-hours a day (lower bound {result.lower_bound_hours:,.1f}){cost}; "
        f"{verdict}.",
        "Each shift's agents come; its absent agents are rostered and paid but away (shrinkage: each",
        "interval losing as close to its share as it can), as the roster was checked. Simulating this",
        "file simulates the roster as checked and costs what it costs; on callers the search never saw:",
        "`ivr311 simulate roster.yaml --seed 4242`.",
        *DURATIONS_NOTE,
    ]
    return scenario_yaml(result.scenario, lines)


# --- roster.csv and roster.json -------------------------------------------------------------------


def _pool_figures(result: RosterResult, p: int, pool: str) -> dict[str, Any]:
    lines = result.pool_shifts(pool)
    costs = [result.shift_cost(s) for s in lines]
    rates = result.rules.pools.get(pool)
    return {
        "shifts": len(lines),
        "agents": sum(s.agents for s in lines),
        "paid_hours": sum(s.paid_hours for s in lines),
        "agent_hours": sum(s.duty_hours for s in lines),
        # the pool's part of the plan's cost a day (its shifts and overtime, as simulated), and its shifts' pay
        "cost_per_day": _estimate(result, ("pools", pool, "cost_per_day")),
        "shifts_cost_per_day": None if not result.rules.costed else math.fsum(c or 0.0 for c in costs),
        "cost_per_hour": None if rates is None else rates.cost_per_hour,
        "min_agents": result.rules.min_agents(pool),
        "peak_required": max((row[p] for row in result.required), default=0),
        "peak_need": max((row[p] for row in result.need), default=0),
        "peak_coverage": max((row[p] for row in result.coverage), default=0),
        "intervals_short": sum(row[p] < need[p] for row, need in zip(result.coverage, result.need, strict=True)),
    }


def _estimate(result: RosterResult, key: tuple[str, ...]) -> float | None:
    """The mean of a measure of the roster's last simulation (None without it: no rates)."""
    node: Any = result.evaluation.summary
    for k in key:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node.get("value") if isinstance(node, dict) else None


def roster_document(result: RosterResult) -> dict[str, Any]:
    """roster.json (see the module docstring)."""
    summary = result.evaluation.summary
    above = above_lower_bound(result)
    levels = [
        {
            "class": name,
            "within_s": sl["within_s"],
            "target": sl["target"],
            "share": sl["share"],
            "met": sl["met"],
        }
        for name in result.scenario.class_names()
        for sl in summary["classes"][name]["service_level"]
    ]
    return {
        "cost_per_day": result.cost_per_day,
        "shifts_cost_per_day": (
            math.fsum(result.shift_cost(s) or 0.0 for s in result.shifts) if result.cost_per_day is not None else None
        ),
        "absent_cost_per_day": (
            result.evaluation.summary["cost"]["absent_per_day"] if result.cost_per_day is not None else None
        ),
        "currency": result.rules.currency,
        "agent_hours": result.agent_hours,
        "paid_hours": result.paid_hours,
        "fte": result.fte,
        "weekly_hours": result.rules.weekly_hours / HOUR_S,
        "targets_met": result.targets_met,
        "lower_bound_hours": result.lower_bound_hours,
        "above_lower_bound": above,
        "agents_added": result.agents_added,
        "cover_hours": result.cover_hours,
        "agents": sum(s.agents for s in result.shifts),
        "pools": {pool: _pool_figures(result, p, pool) for p, pool in enumerate(result.pool_names)},
        "service_level": levels,  # over the whole day, from the roster's last simulation
        "rules": {
            "interval_s": result.interval_s,
            "start_every_s": result.rules.start_every,
            "shift_lengths_s": list(result.rules.shift_lengths or []),
            "shrinkage": result.rules.shrinkage,
            "overtime_multiplier": result.rules.overtime_multiplier,
        },
        "meta": summary["meta"],
    }


def write_roster(result: RosterResult, out_dir: Path, *, command: str | None = None) -> list[Path]:
    """Write roster.yaml, .csv, .json and .png
    into ``out_dir`` (created if needed; give it the
    temporary folder of :func:`queueing.output.files.results_folder` to replace ``--out``
    atomically). ``command`` says in roster.yaml's header how the roster was made."""
    from .roster_plot import roster_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"roster.{ext}" for ext in ("yaml", "csv", "json", "png")]
    paths[0].write_text(roster_yaml(result, command), encoding="utf-8")
    write_csv(paths[1], result.table.columns, result.table.rows())
    paths[2].write_text(json_text(roster_document(result), "roster.json"), encoding="utf-8")
    paths[3].write_bytes(
        roster_chart(
            result.pool_names,
            result.interval_s,
            {p: result.pool_shifts(p) for p in result.pool_names},
            result.coverage,
            result.need,
            result.required,
        )
    )
    return paths


# --- the console ----------------------------------------------------------------------------------


def format_roster(result: RosterResult) -> str:
    """The roster as a supervisor posts it: per pool its shifts (``start–end``, breaks, agents, paid
    hours, cost a day) and total; then the day's totals, the cost, the lower bound and the verdict.
    Money is summed unrounded and printed rounded once: rows add up to their pool's total, the
    pools to the shifts' pay, that and overtime to the cost a day (:func:`queueing.core.rounding.apportion`)."""
    rules = result.rules
    costed = rules.costed and result.cost_per_day is not None
    head = ["shift", "breaks", "agents", "paid h"] + (["cost/day"] if costed else [])
    out = [
        f"Roster for {result.scenario.name}: shifts of "
        f"{', '.join(format_duration(n) for n in rules.shift_lengths or [])} starting every "
        f"{format_duration(rules.start_every)}, shrinkage {rules.shrinkage * 100:g}%"
    ]
    printed = _printed_money(result) if costed else None
    for p, pool in enumerate(result.pool_names):
        lines = result.pool_shifts(pool)
        figures = _pool_figures(result, p, pool)
        rate = f" at {rules.currency}{rules.rate_per_hour(pool):,.2f} an hour" if costed else ""
        rows = []
        for j, s in enumerate(lines):
            rows.append(
                [
                    clock_span(s.start_s, s.end_s),
                    breaks_text(s, wrap=True, sep=", ", dash="–") or "-",
                    str(s.agents),
                    f"{s.paid_hours:.1f}",
                ]
                + ([_money(result, printed["rows"][p][j])] if printed else [])
            )
        total = ["total", "", str(figures["agents"]), f"{figures['paid_hours']:.1f}"]
        rows.append(total + ([_money(result, printed["pools"][p])] if printed else []))
        count = f"{len(lines)} shift{'s' if len(lines) != 1 else ''}, {figures['agents']} agents"
        out += ["", f"{pool}{rate}: {count}", format_table(head, rows)]
    out.append("")
    rostered = sum(s.agents for s in result.shifts)
    away = sum(sh.absent or 0 for pool in result.scenario.staffing.pools for sh in pool.shift_list())
    present = f" ({rostered - away} come, {away} away: shrinkage)" if away else ""
    out.append(
        f"Day: {rostered} agents{present}, {result.paid_hours:,.1f} paid agent-hours "
        f"({result.agent_hours:,.1f} on duty, breaks out); "
        f"{result.fte:,.1f} FTE at {rules.weekly_hours / HOUR_S:g} h a week."
    )
    if printed:
        out.append(
            f"Cost: {_money(result, printed['total'])} a day: the shifts {_money(result, printed['shifts'])} "
            f"(every rostered agent paid, those away too) + overtime {_money(result, printed['overtime'])}; "
            f"of it, the agents who come {_money(result, printed['present'])}."
        )
    above = above_lower_bound(result)
    if above is not None:
        out.append(
            f"Lower bound: {result.lower_bound_hours:,.1f} paid agent-hours (no roster of these shifts goes "
            f"below); this roster is {above * 100:.1f}% above it."
        )
    repair_h = result.paid_hours - result.cover_hours
    if result.agents_added or abs(repair_h) > 1e-9:
        out.append(
            f"The simulated roster missed a target: the repair changed the exact cover ({result.cover_hours:,.1f} h) "
            f"by {repair_h:+,.1f} paid agent-hours and {result.agents_added:+d} agent(s)."
        )
    verdict = "met in every interval" if result.targets_met else "NOT MET in some intervals (see the log above)"
    out.append(
        f"Targets: {verdict} ({format_duration(result.interval_s)} intervals, "
        f"{result.scenario.replications} replications, breaks and overtime simulated)."
    )
    return "\n".join(out)


def _printed_money(result: RosterResult) -> dict[str, Any]:
    """The money the wall table prints, each amount rounded once from unrounded sums so that every
    printed sum adds up: the cost a day (:mod:`queueing.core.cost`, the mean of the roster's last
    simulation) split into the shifts' pay and overtime, the shifts' pay into pools, each pool's
    into its rows; and, of the cost a day, what the agents who come cost."""
    cost = result.evaluation.summary["cost"]
    assert result.cost_per_day is not None
    rows = [[result.shift_cost(s) or 0.0 for s in result.pool_shifts(pool)] for pool in result.pool_names]
    pools = [math.fsum(r) for r in rows]
    shifts = math.fsum(pools)
    total = apportion([result.cost_per_day])[0]
    shifts_p, overtime_p = apportion([shifts, result.cost_per_day - shifts], total)
    pools_p = apportion(pools, shifts_p)
    present_p, _ = apportion([result.cost_per_day - cost["absent_per_day"], cost["absent_per_day"]], total)
    return {
        "total": total,
        "shifts": shifts_p,
        "overtime": overtime_p,
        "pools": pools_p,
        "rows": [apportion(r, t) for r, t in zip(rows, pools_p, strict=True)],
        "present": present_p,
    }
