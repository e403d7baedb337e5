"""Service-level targets and the windows they are measured over: the one definition behind
summary.json's ``met``, the report's verdicts, ``compare``'s sentence and the ``staff`` and
``roster`` searches.

A target ``{within: 15s, share: 0.90, over: day}`` asks that in every window ``over`` marks out,
at least ``share`` of the calls offered in the window (counted where they arrive) be answered
within ``within`` of queueing; callers who hang up count against it. The windows, all after the
warm-up (an interval of the run counts when it starts at or after the warm-up):

- ``interval`` (the default): each interval of the planning grid, the run's intervals
  (``simulate``'s and ``compare``'s ``--interval``, ``staff``'s ``--interval``, ``roster``'s
  ``interval``), as an interval of the day: a run of several days pools each interval of the day
  over its days, as ``staff``'s one-day table is the same every day;
- ``hour``: each clock hour of the day (00:00-01:00, ...), pooled over the days the same way;
- ``busy_hour``: each day's busiest hour: the clock hour of that day in which most calls of the
  class were offered, over every replication (the earlier hour on a tie);
- ``day``: each day of the run (day k is [k x 24h, (k + 1) x 24h));
- ``week``: each block of 7 days from the start (a shorter run is one block).

An interval of the run counts in the window it starts in: exact when the interval divides the
window (15m, 30m and 1h divide an hour). A window in which no call of the class was offered is
not judged.

**Judging.** A window's share is the mean over replications of each replication's share of the
window (answered within / offered; a replication with none offered there is left out): the
estimator of summary.json's ``share``, so the one ``day`` window of a one-day run is judged on
exactly that figure. A target is **met** in a window when that share reaches it. summary.json's
``met`` (every judged window met), the report's verdicts and ``compare``'s sentence all count
these. ``staff`` and ``roster`` ask more of the plans they search for: that the one-sided
Student-t lower bound at ``confidence`` over the replications' shares reach the target
(:meth:`Judged.lower`; cut at 0, so it stays a share), so that a plan judged good is good with that
confidence.

**Languages.** ``staff`` and ``roster`` also judge each target of a class with a language mix over
its callers of each language (``judge``'s ``by_language``, counted by :func:`language_intervals`),
in the same windows: a class's targets apply to each of its languages. summary.json's ``met``
counts the class's callers together, as before.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .calendar import WEEK_S, weekday_of_day
from .durations import DAY_S, HOUR_S, format_clock, format_duration
from .metrics import IntervalRows, answered_within, interval_columns, thresholds
from .records import ANSWERED, CLOSED, CallRecords
from .scenario import Over, Scenario, Target
from .statistics import lower_bounds
from .statistics import share as share_of

# What a window is called, one and several.
NOUNS: dict[Over, tuple[str, str]] = {
    "interval": ("interval", "intervals"),
    "hour": ("hour", "hours"),
    "busy_hour": ("busy hour", "busy hours"),
    "day": ("day", "days"),
    "week": ("week", "weeks"),
}
# How a target's window reads after "90% within 15s".
PHRASES: dict[Over, str] = {
    "interval": "in every interval",
    "hour": "in every hour",
    "busy_hour": "in each day's busy hour",
    "day": "over each day",
    "week": "over each week",
}
_FOLDED = ("interval", "hour")  # windows of the day, pooled over the run's days
_EPS = 1e-12  # a share equal to the target meets it, whatever the last bit of a float


def window_noun(over: Over, count: int) -> str:
    """``hour`` or ``hours`` (``busy hours``...), as ``count`` asks."""
    one, many = NOUNS[over]
    return one if count == 1 else many


def target_text(class_name: str, target: Target, language: str | None = None) -> str:
    """``911 90% within 15s over each day``; of one language's callers ``311 (es) 80% within 1m ...``."""
    group = class_name if language is None else f"{class_name} ({language})"
    return f"{group} {target.share * 100:.4g}% within {format_duration(target.within)} {PHRASES[target.window]}"


@dataclass(frozen=True)
class Counts:
    """One class's calls on the run's grid, per replication (rows) and interval of the run
    (columns): how many were offered and how many answered within one threshold."""

    starts_s: np.ndarray  # [k] start of each interval of the run
    offered: np.ndarray  # [replication, k]
    within: np.ndarray  # [replication, k]


LANGUAGE_INTERVAL_COLUMNS = ("interval_start_s", "class", "language", "offered")


def language_interval_columns(scenario: Scenario) -> list[str]:
    """The columns of :func:`language_intervals`' rows: the interval's start, class, language,
    calls offered and, per threshold of any target, those answered within it."""
    return [*LANGUAGE_INTERVAL_COLUMNS, *(f"answered_within_{t:g}s" for t in thresholds(scenario))]


def language_intervals(scenario: Scenario, records: CallRecords, interval_s: float) -> list[tuple[Any, ...]]:
    """One replication's rows per interval of the run, class with a language mix and targets, and
    language of its mix (columns :func:`language_interval_columns`): callers counted in the
    interval they arrived in, as intervals.csv counts a class. What a class's targets are judged
    on for each of its languages (``judge``'s ``by_language``); none without languages."""
    if not scenario.languages() or not scenario.targets:
        return []
    languages = scenario.languages()
    assert records.language is not None
    edges = np.append(np.arange(0.0, scenario.horizon, interval_s), scenario.horizon)
    nbins = len(edges) - 1
    c = records.callers
    bin_of = np.minimum(np.searchsorted(edges, c.arrival_s, side="right") - 1, nbins - 1)
    answered = records.outcome == ANSWERED
    offered = records.outcome != CLOSED
    counted = [offered, *(answered_within(records.wait_s, answered, t) for t in thresholds(scenario))]
    starts = edges[:-1].tolist()
    rows: list[tuple[Any, ...]] = []
    for k, name in enumerate(scenario.class_names()):
        mix = scenario.classes[name].languages
        if not mix or not scenario.targets.get(name):
            continue
        for lang in mix:
            mine = (c.cls == k) & (records.language == languages.index(lang)) & offered
            cells = [np.bincount(bin_of[mine & m], minlength=nbins).tolist() for m in counted]
            rows.extend((s, name, lang, *row) for s, *row in zip(starts, *cells, strict=True))
    return rows


Group = tuple[str, str | None]  # (class, language): None for all the class's callers
Rows = IntervalRows | Sequence[tuple[Any, ...]]  # one replication's intervals.csv rows, or language_intervals'


def run_counts(
    scenario: Scenario,
    intervals: Sequence[Rows],
    by_language: Sequence[Sequence[tuple[Any, ...]]] | None = None,
) -> dict[tuple[Group, float], Counts]:
    """Per ((class, None), threshold of one of its targets), the counts of the intervals.csv rows
    of each replication (``intervals[r]``, the rows of replication r, columns as
    :func:`queueing.core.metrics.interval_columns`); with ``by_language`` (each replication's
    :func:`language_intervals`), per ((class, language), threshold) too."""
    out = _counts(scenario, intervals, interval_columns(scenario), lambda name: [(name, None)])
    if by_language is not None:
        mixes = {name: list(scenario.classes[name].languages or {}) for name in scenario.class_names()}
        out.update(
            _counts(
                scenario,
                by_language,
                language_interval_columns(scenario),
                lambda name: [(name, lang) for lang in mixes[name]],
            )
        )
    return out


def _columns_of(rows: Rows, names: list[str]) -> Callable[[str], Any]:
    """One replication's rows (:class:`IntervalRows`, or tuples with columns ``names``) as a
    column getter."""
    if isinstance(rows, IntervalRows):
        return rows.column
    cells = list(zip(*rows, strict=True)) or [() for _ in names]
    at = {name: j for j, name in enumerate(names)}
    return lambda name: cells[at[name]]


def _counts(
    scenario: Scenario,
    intervals: Sequence[Rows],
    names: list[str],
    groups_of: Callable[[str], list[Group]],
) -> dict[tuple[Group, float], Counts]:
    columns = [_columns_of(rows, names) for rows in intervals]
    out: dict[tuple[Group, float], Counts] = {}
    for group in (g for name in scenario.class_names() for g in groups_of(name)):
        name, lang = group
        withins = sorted({t.within for t in scenario.targets.get(name, [])})
        if not withins or not columns or not len(columns[0]("class")):
            continue
        mine = [np.asarray(cols("class"), dtype=object) == name for cols in columns]
        if lang is not None:
            speaks = [np.asarray(cols("language"), dtype=object) == lang for cols in columns]
            mine = [m & s for m, s in zip(mine, speaks, strict=True)]
        starts = np.asarray(columns[0]("interval_start_s"), dtype=float)[mine[0]]

        def column(key: str, mine: list[np.ndarray] = mine) -> np.ndarray:
            return np.array([np.asarray(cols(key), dtype=float)[m] for cols, m in zip(columns, mine, strict=True)])

        offered = column("offered")
        for w in withins:
            within = column(f"answered_within_{w:g}s")
            out[(group, w)] = Counts(starts, offered, within)
    return out


@dataclass(frozen=True)
class Windows:
    """The windows of one target on the run's grid: ``of[k]`` is the window interval k of the run
    counts in (-1: none, before the warm-up or outside a busy hour); ``labels[w]`` names window w
    and ``spans[w]`` is its (start, end): a time of the day for windows of the day, of the run
    otherwise."""

    over: Over
    of: np.ndarray
    labels: list[str]
    spans: list[tuple[float, float]]


def day_label(scenario: Scenario, day: int) -> str:
    """``day 1 (Mon)``; with a start date ``day 1 (Mon 2026-12-07)``: simulation day ``day`` (from 0)."""
    weekday = weekday_of_day(scenario.first_weekday, day).capitalize()
    if scenario.start_date is not None:
        weekday += f" {(scenario.start_date + dt.timedelta(days=day)).isoformat()}"
    return f"day {day + 1} ({weekday})"


def _clock(a: float, b: float) -> str:
    return f"{format_clock(a)}-{format_clock(b)}"


def windows(scenario: Scenario, over: Over, counts: Counts, grid_s: float) -> Windows:
    """The windows of ``over`` (see the module docstring) over the intervals of ``counts``;
    ``grid_s`` is the planning grid (the length of an ``interval`` window)."""
    starts = counts.starts_s
    eligible = starts >= scenario.warmup - 1e-9
    days = max(1, math.ceil(scenario.horizon / DAY_S - 1e-9))
    if over in _FOLDED:
        size = grid_s if over == "interval" else HOUR_S
        n = math.ceil(DAY_S / size - 1e-9)
        slot = np.minimum(((starts % DAY_S) // size).astype(int), n - 1)
        spans = [(i * size, min((i + 1) * size, DAY_S)) for i in range(n)]
        return Windows(over, np.where(eligible, slot, -1), [_clock(a, b) for a, b in spans], spans)
    if over == "day":
        spans = [(d * DAY_S, min((d + 1) * DAY_S, scenario.horizon)) for d in range(days)]
        return Windows(
            over,
            np.where(eligible, (starts // DAY_S).astype(int), -1),
            [day_label(scenario, d) for d in range(days)],
            spans,
        )
    if over == "week":
        weeks = max(1, math.ceil(scenario.horizon / WEEK_S - 1e-9))
        spans = [(w * WEEK_S, min((w + 1) * WEEK_S, scenario.horizon)) for w in range(weeks)]
        labels = [f"week {w + 1} (days {7 * w + 1}-{min(7 * w + 7, days)})" for w in range(weeks)]
        return Windows(over, np.where(eligible, (starts // WEEK_S).astype(int), -1), labels, spans)
    # busy_hour: per day, the clock hour with most calls offered (all replications)
    hour = (starts // HOUR_S).astype(int)
    offered = np.where(eligible, counts.offered.sum(axis=0), 0.0)
    per_hour = np.bincount(hour, weights=offered, minlength=days * 24)[: days * 24].reshape(days, 24)
    busiest = np.argmax(per_hour, axis=1)  # the first of equals
    of = np.where(eligible & (hour % 24 == busiest[np.minimum(hour // 24, days - 1)]), hour // 24, -1)
    spans = [(d * DAY_S + h * HOUR_S, d * DAY_S + (h + 1) * HOUR_S) for d, h in enumerate(busiest.tolist())]
    labels = [
        f"{day_label(scenario, d)} {_clock(h * HOUR_S, (h + 1) * HOUR_S)}" for d, h in enumerate(busiest.tolist())
    ]
    return Windows(over, of, labels, spans)


@dataclass(frozen=True)
class Judged:
    """One target judged over its windows in one run: per replication and window, the calls
    offered and answered within; the share of each window and whether it meets the target."""

    class_name: str
    target: Target
    windows: Windows
    counts: Counts  # the run's per-interval counts the windows add up
    offered: np.ndarray  # [replication, window]
    within: np.ndarray  # [replication, window]
    language: str | None = None  # the class's callers of this language only (None: all of them)

    @cached_property
    def _levels(self) -> np.ndarray:
        return share_of(self.within, self.offered)  # nan where a replication had no call offered there

    @cached_property
    def judged(self) -> np.ndarray:
        """[window] whether any call was offered in it (in any replication)."""
        return self.offered.sum(axis=0) > 0

    @cached_property
    def share(self) -> np.ndarray:
        """[window] mean over replications of each one's share; nan where not judged."""
        return self.lower(0.5)

    def lower(self, confidence: float) -> np.ndarray:
        """[window] the one-sided Student-t lower bound at ``confidence`` of the share over
        replications (its mean at 0.5), at least 0; nan where not judged."""
        with (
            warnings.catch_warnings()
        ):  # a window with calls in one replication only has no spread: its value is the bound
            warnings.simplefilter("ignore", RuntimeWarning)
            count, bound = lower_bounds(self._levels, confidence)
        return np.where(count > 0, np.maximum(bound, 0.0), np.nan)

    @cached_property
    def met(self) -> np.ndarray:
        """[window] judged and its share reaches the target."""
        return self.judged & (np.nan_to_num(self.share, nan=-1.0) >= self.target.share - _EPS)

    def margin(self, confidence: float) -> np.ndarray:
        """[window] lower bound at ``confidence`` minus the target share (nan where not judged)."""
        return self.lower(confidence) - self.target.share

    @property
    def n_judged(self) -> int:
        return int(np.count_nonzero(self.judged))

    @property
    def n_met(self) -> int:
        return int(np.count_nonzero(self.met))

    @property
    def all_met(self) -> bool:
        """Every judged window meets the target (and some window is judged): summary.json's ``met``."""
        return 0 < self.n_met == self.n_judged

    def count_text(self) -> str:
        """``17 of 24 hours``."""
        return f"{self.n_met} of {self.n_judged} {window_noun(self.target.window, self.n_judged)}"

    def missed_text(self, confidence: float | None = None) -> str:
        """The windows missed (their share below the target; with ``confidence``, their lower
        bound), each with that figure: ``08:00-11:00 (84.2%, 86.0%, 88.9%), 17:00-18:00 (89.1%)``:
        windows of the day that follow each other are joined. Empty when none is missed."""
        values = self.share if confidence is None else self.lower(confidence)
        missed = [w for w in np.flatnonzero(self.judged).tolist() if not values[w] >= self.target.share - _EPS]
        runs: list[list[int]] = []
        for w in missed:
            if (
                runs
                and self.windows.over in _FOLDED
                and self.windows.spans[runs[-1][-1]][1] == self.windows.spans[w][0]
            ):
                runs[-1].append(w)
            else:
                runs.append([w])
        parts = []
        for run in runs:
            a, b = self.windows.spans[run[0]][0], self.windows.spans[run[-1]][1]
            name = _clock(a, b) if self.windows.over in _FOLDED else self.windows.labels[run[0]]
            parts.append(f"{name} ({', '.join(f'{values[w] * 100:.1f}%' for w in run)})")
        return ", ".join(parts)

    def line(self, confidence: float | None = None) -> str:
        """The target's verdict in one line: ``911 90% within 15s over each day: met in 0 of 1
        day; missed day 1 (Mon) (88.2%)``; with ``confidence``, judged at that lower bound."""
        if confidence is None:
            met, how = self.n_met, "met"
        else:
            lower = self.lower(confidence)
            met = int(np.count_nonzero(self.judged & (np.nan_to_num(lower, nan=-1.0) >= self.target.share - _EPS)))
            how = f"met at the {confidence:.0%} lower bound"
        text = (
            f"{target_text(self.class_name, self.target, self.language)}: {how} in {met} of {self.n_judged} "
            f"{window_noun(self.target.window, self.n_judged)}"
        )
        missed = self.missed_text(confidence)
        return f"{text}; missed {missed}" if missed else text


def judge(
    scenario: Scenario,
    intervals: Sequence[Rows],
    interval_s: float,
    grid_s: float | None = None,
    by_language: Sequence[Sequence[tuple[Any, ...]]] | None = None,
) -> list[Judged]:
    """Every target of ``scenario`` (classes by priority, targets in file order) judged over its
    windows, from the intervals.csv rows of each replication (``intervals[r]``) at ``interval_s``;
    ``grid_s`` is the planning grid of ``interval`` windows (default ``interval_s``).

    With ``by_language`` (each replication's :func:`language_intervals`), each target of a class
    with a language mix is judged again, after those, over the class's callers of each language
    (classes by priority, then targets, then the mix's languages): a class's target applies to
    each of its languages, so no language's callers are left to wait for a pool that never comes.
    """
    counts = run_counts(scenario, intervals, by_language)
    groups: list[Group] = [(name, None) for name in scenario.class_names()]
    if by_language is not None:
        groups += [(name, lang) for name in scenario.class_names() for lang in scenario.classes[name].languages or {}]
    out = []
    for name, lang in groups:
        for target in scenario.targets.get(name, []):
            if ((name, lang), target.within) not in counts:
                continue
            c = counts[((name, lang), target.within)]
            win = windows(scenario, target.window, c, grid_s or interval_s)
            size = len(win.labels)
            keep = win.of >= 0
            offered = np.array([np.bincount(win.of[keep], r[keep], size) for r in c.offered])
            within = np.array([np.bincount(win.of[keep], r[keep], size) for r in c.within])
            out.append(
                Judged(
                    name,
                    target,
                    win,
                    c,
                    offered.reshape(len(c.offered), size),
                    within.reshape(len(c.offered), size),
                    lang,
                )
            )
    return out
