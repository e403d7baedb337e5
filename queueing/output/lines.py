"""A week's roster on the wall and on disk: one numbered line per agent's week.

- The console: per pool, ``line 7: Mon-Fri 07:00-15:30, break 11:00; off Sat, Sun`` (a break that
  moves on some days is given per day), then the week's totals, the lower bound, any integer
  program a node limit stopped (with its gap) and the verdict.
- ``lines.csv``: ``line, pool, days, start, end, breaks, off, paid_hours, cost_per_week``; clock
  times, an end past midnight counting on (``31:00``); ``breaks`` is ``11:00-11:30`` or, when it
  moves, ``Mon 11:00-11:30;Sat 11:30-12:00``.
- ``lines.png``: the week as a Gantt chart, one row per line (:mod:`.lines_plot`).
- ``assignments.csv`` (with ``--people``): ``line, pool, name``: who works each line.
- Beside them, as for a day's roster, roster.yaml (the week as checked, day by day: each day's
  shifts with their ``days`` and ``absent``; simulate it), roster.csv (a ``days`` column added)
  and roster.json (its figures "a day" are the week's divided by 7).
"""

from __future__ import annotations

from pathlib import Path

from ..core.calendar import describe_days
from ..core.durations import HOUR_S, format_clock, format_duration
from ..planning.lines import RosterLine
from ..planning.roster import RosterResult
from .files import json_text, write_csv
from .roster import above_lower_bound, roster_document, roster_yaml

LINES_CSV_COLUMNS = ["line", "pool", "days", "start", "end", "breaks", "off", "paid_hours", "cost_per_week"]


def _breaks(line: RosterLine, spans: bool) -> str:
    """Where the line's breaks fall: one text when every day has them at the same times, else per day."""

    def one(b: tuple[tuple[float, float], ...]) -> str:
        parts = []
        for offset, length in b:
            a = line.start_s + offset
            parts.append(f"{format_clock(a)}-{format_clock(a + length)}" if spans else format_clock(a % (24 * HOUR_S)))
        return ", ".join(parts) if not spans else "+".join(parts)

    distinct = sorted(set(line.breaks))
    if len(distinct) <= 1:
        return one(distinct[0]) if distinct and distinct[0] else ""
    sep = ";" if spans else ", "
    return sep.join(
        f"{describe_days([d for d, b in zip(line.days, line.breaks, strict=True) if b == pattern])} {one(pattern)}"
        for pattern in distinct
    )


def line_text(line: RosterLine) -> str:
    """``line 7: Mon-Fri 07:00-15:30, break 11:00; off Sat, Sun``."""
    end = format_clock((line.start_s + line.length_s) % (24 * HOUR_S))
    breaks = _breaks(line, spans=False)
    count = max((len(b) for b in line.breaks), default=0)
    said = f", break{'s' if count > 1 or ',' in breaks else ''} {breaks}" if breaks else ""
    off = f"; off {describe_days(list(line.off))}" if line.off else ""
    return f"line {line.number}: {describe_days(list(line.days))} {format_clock(line.start_s)}-{end}{said}{off}"


def format_lines(result: RosterResult) -> str:
    """The week's roster as posted: per pool its lines, then the totals and the verdict."""
    rules = result.rules
    kinds = " or ".join(f"{k.shifts} x {format_duration(k.length)}" for k in rules.shifts_per_week or [])
    off = rules.days_off
    said_off = f", {off.count} days off{' in a row' if off.consecutive else ''}" if off is not None else ""
    out = [f"Roster for {result.scenario.name}, a week of lines: {kinds} shifts{said_off}, shrinkage "
           f"{rules.shrinkage * 100:g}%"]  # fmt: skip
    for pool in result.pool_names:
        mine = [line for line in result.lines if line.pool == pool]
        hours = sum(line.paid_hours for line in mine)
        limit = rules.start_limit(pool)
        starts = len({line.start_s for line in mine})
        rate = f" at {rules.currency}{rules.rate_per_hour(pool):,.2f} an hour" if rules.costed else ""
        cap = f" (at most {limit})" if limit is not None else ""
        out += ["", f"{pool}{rate}: {len(mine)} lines, {hours:,.1f} paid hours a week, {starts} start times{cap}"]
        out += [f"  {line_text(line)}" for line in mine]
    week = result.paid_hours * 7
    cost = f"; {_money(result, result.cost_per_day * 7)} a week" if result.cost_per_day is not None else ""
    out += [
        "",
        f"Week: {len(result.lines)} lines, {week:,.1f} paid agent-hours{cost}; {result.fte:,.1f} FTE at "
        f"{rules.weekly_hours / HOUR_S:g} h a week.",
    ]
    above = above_lower_bound(result)
    if above is not None:
        out.append(
            f"Lower bound: {result.lower_bound_hours * 7:,.1f} paid agent-hours a week (the need of every interval "
            f"on duty); these lines are {above * 100:.1f}% above it."
        )
    for pool, gap in sorted(result.gaps.items()):
        out.append(
            f"Lines of {pool}: the integer program stopped at its node limit, up to {gap:.1%} above the cheapest "
            "(the same on any machine)."
        )
    verdict = "met in every window" if result.targets_met else "NOT MET in some windows (see the log above)"
    out.append(
        f"Targets: {verdict} ({format_duration(result.interval_s)} intervals over the week, "
        f"{result.scenario.replications} replications, each day's absences, breaks and overtime simulated)."
    )
    return "\n".join(out)


def _money(result: RosterResult, value: float) -> str:
    return f"{result.rules.currency}{value:,.0f}"


def lines_rows(result: RosterResult) -> list[list[object]]:
    """lines.csv's rows (see the module docstring)."""
    rules = result.rules
    rows: list[list[object]] = []
    for line in result.lines:
        cost = line.paid_hours * rules.rate_per_hour(line.pool) if rules.costed else None
        rows.append([
            line.number, line.pool, describe_days(list(line.days)), format_clock(line.start_s),
            format_clock(line.start_s + line.length_s), _breaks(line, spans=True),
            describe_days(list(line.off)) if line.off else "", round(line.paid_hours, 2),
            None if cost is None else round(cost, 2),
        ])  # fmt: skip
    return rows


def write_week(result: RosterResult, out_dir: Path, *, command: str | None = None) -> list[Path]:
    """Write roster.yaml (the week as checked, day by day), roster.csv, roster.json, lines.csv and
    lines.png."""
    from .lines_plot import lines_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in ("roster.yaml", "roster.csv", "roster.json", "lines.csv", "lines.png")]
    paths[0].write_text(roster_yaml(result, command), encoding="utf-8")
    write_csv(paths[1], result.table.columns, result.table.rows())
    paths[2].write_text(json_text(roster_document(result), "roster.json"), encoding="utf-8")
    write_csv(paths[3], LINES_CSV_COLUMNS, lines_rows(result))
    paths[4].write_bytes(lines_chart(result.lines, result.pool_names, result.scenario.first_weekday))
    return paths


def write_assignments(out_dir: Path, result: RosterResult) -> Path:
    """assignments.csv: ``line, pool, name``, by line."""
    path = out_dir / "assignments.csv"
    rows = [[line.number, line.pool, result.assignments[line.number]] for line in result.lines]
    write_csv(path, ["line", "pool", "name"], rows)
    return path
