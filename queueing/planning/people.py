"""Who works which weekly line: people.csv read, and each line given one person who can work it.

people.csv has a header and the columns ``name, pool, days, hours``: ``days`` the weekdays the
person can work (``mon-fri``, ``mon, wed, sat-sun``; empty: any), ``hours`` the span of the day
they can be on shift (``07:00-19:00``; an end at or before the start runs past midnight,
``22:00-07:00``; empty: any time). A person can work a line of their pool whose days they all
can work and whose shift lies within their hours.

The assignment is a maximum matching of lines to people (``scipy.sparse.csgraph``): every line
gets a person when any assignment does; otherwise one error names lines nobody is left to work.
People left over are not assigned.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.calendar import WEEKDAYS, Weekday, weekday_index
from ..core.durations import DAY_S, HOUR_S
from ..errors import ScenarioError
from .lines import RosterLine

COLUMNS = ("name", "pool", "days", "hours")


@dataclass(frozen=True)
class Person:
    """One person who can work a line: their pool, the weekdays and the span of the day they can work."""

    name: str
    pool: str
    days: frozenset[Weekday]
    hours: tuple[float, float] | None  # (from, to) s since 00:00, to may pass 24h; None: any time

    def can_work(self, line: RosterLine) -> bool:
        if line.pool != self.pool or not set(line.days) <= self.days:
            return False
        if self.hours is None:
            return True
        a, b = self.hours
        return any(a + d <= line.start_s and line.start_s + line.length_s <= b + d for d in (-DAY_S, 0.0))


def _days(text: str, where: str) -> frozenset[Weekday]:
    if not text.strip():
        return frozenset(WEEKDAYS)
    out: set[Weekday] = set()
    for token in re.split(r"[\s,;]+", text.strip().lower()):
        ends = token.split("-")
        if len(ends) > 2 or any(e[:3] not in WEEKDAYS for e in ends):
            raise ScenarioError(f"{where}: days {text!r}: write weekdays as mon, tue ... sun, or a run like mon-fri")
        first, last = weekday_index(ends[0][:3]), weekday_index(ends[-1][:3])  # type: ignore[arg-type]
        out.update(WEEKDAYS[(first + k) % 7] for k in range((last - first) % 7 + 1))
    return frozenset(out)


def _hours(text: str, where: str) -> tuple[float, float] | None:
    if not text.strip():
        return None
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if m is None:
        raise ScenarioError(f"{where}: hours {text!r}: write them as 07:00-19:00 (22:00-07:00 past midnight)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ScenarioError(f"{where}: hours {text!r}: not clock times")
    a, b = h1 * HOUR_S + m1 * 60, h2 * HOUR_S + m2 * 60
    return (a, b if b > a else b + DAY_S)


def read_people(path: Path) -> list[Person]:
    """people.csv (see the module docstring); one clear error for a bad file."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
            header = [c.strip().lower() for c in (rows[0].keys() if rows else [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc})") from None
    if not rows:
        raise ScenarioError(f"{path}: no people (a header name,pool,days,hours and one row per person)")
    missing = [c for c in ("name", "pool") if c not in header]
    if missing:
        raise ScenarioError(f"{path}: missing column(s) {', '.join(missing)} (columns: name,pool,days,hours)")
    people = []
    for k, row in enumerate(rows, start=2):
        cells = {str(key).strip().lower(): (value or "").strip() for key, value in row.items() if key is not None}
        where = f"{path}:{k}"
        if not cells.get("name") or not cells.get("pool"):
            raise ScenarioError(f"{where}: name and pool must not be empty")
        people.append(
            Person(
                cells["name"], cells["pool"], _days(cells.get("days", ""), where), _hours(cells.get("hours", ""), where)
            )
        )
    return people


def assign_people(lines: list[RosterLine], people: list[Person]) -> list[tuple[RosterLine, Person]]:
    """Each line with a person who can work it (a maximum matching); ScenarioError naming lines
    nobody is left to work when there is no such assignment."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_bipartite_matching

    pools = {line.pool for line in lines}
    unknown = sorted({p.pool for p in people} - pools)
    if unknown:
        raise ScenarioError(f"people: pool {unknown[0]!r} has no lines (pools: {', '.join(sorted(pools))})")
    fit = np.array([[p.can_work(line) for p in people] for line in lines], dtype=bool)
    match = maximum_bipartite_matching(csr_array(fit.astype(np.int8)), perm_type="column") if lines else []
    free = [line for line, j in zip(lines, match, strict=True) if j < 0]
    if free:
        line = free[0]
        can = int(fit[lines.index(line)].sum())
        raise ScenarioError(
            f"people: {len(free)} of {len(lines)} lines have nobody left to work them, e.g. line {line.number} "
            f"({line.pool}, {', '.join(d.capitalize() for d in line.days)}): {can} people can work it, all needed "
            "elsewhere; add people of that pool or widen their days and hours"
        )
    return [(line, people[j]) for line, j in zip(lines, match, strict=True)]
