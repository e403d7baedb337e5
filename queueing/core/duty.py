"""Who is on duty when: one shift's duty windows and spans of work over the horizon, the time on
duty they add up to, and which calls find no pool open.

A shift repeats every day, or on the weekdays it lists (``days``: the days it starts on); an
agent of that shift is on duty from ``start`` to ``end`` on each of them (an ``end`` past 24h
runs into the next morning, and such a night shift is already on duty at time 0, having
started the evening before, when that evening's weekday is one of its days). Times are seconds since the start of
the simulation, which begins at 00:00 on day 0. A run expands every shift once, into its
:class:`~queueing.core.schedule.Schedule`, where the agents are numbered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .calendar import Weekday, weekday_of_day
from .durations import DAY_S
from .scenario import Pool, Scenario, Shift

Window = tuple[float, float]  # [on, off) seconds
Segment = tuple[float, float, float]  # a span of work [on, off) and the break after it (rest, seconds)


def _works(shift: Shift, day: int, first_weekday: Weekday) -> bool:
    """Whether ``shift`` starts on simulation day ``day`` (day 0 a ``first_weekday``)."""
    return shift.days is None or weekday_of_day(first_weekday, day) in shift.days


def duty_windows(shift: Shift, horizon_s: float, first_weekday: Weekday = "mon") -> list[Window]:
    """[on, off) windows of one agent of ``shift`` that overlap [0, horizon_s), clipped at 0
    (day 0 is a ``first_weekday``, which matters only to a shift with ``days``).

    Back-to-back windows are merged (a 24-hour shift is one window): such an agent works on
    through midnight rather than finishing a call in overtime and starting again.
    """
    windows: list[Window] = []
    day = -1
    while True:
        on = day * DAY_S + shift.start
        off = day * DAY_S + shift.end
        if on >= horizon_s:
            return windows
        if off > 0 and _works(shift, day, first_weekday):
            if windows and windows[-1][1] >= on:
                windows[-1] = (windows[-1][0], off)
            else:
                windows.append((max(on, 0.0), off))
        day += 1


def work_segments(shift: Shift, horizon_s: float, first_weekday: Weekday = "mon") -> list[Segment]:
    """The duty windows of one agent of ``shift`` cut by its breaks: (on, off, rest) spans of
    work that overlap [0, horizon_s), clipped at 0, where ``rest`` is the length of the break
    that follows (0 at the end of a shift); day 0 is a ``first_weekday``.

    By the schedule, the break after a span runs from ``off`` to ``off + rest``; in the model
    it starts when the agent's call in progress at ``off`` (or the break before) ends, and
    lasts ``rest``. Without breaks these are the duty windows, each with rest 0.
    """
    if not shift.breaks:
        return [(on, off, 0.0) for on, off in duty_windows(shift, horizon_s, first_weekday)]
    spans = shift.break_spans()
    segments: list[Segment] = []
    day = -1
    while True:
        first = day * DAY_S + shift.start
        if first >= horizon_s:
            return segments
        if not _works(shift, day, first_weekday):
            day += 1
            continue
        on = first
        cuts = [(first + a, b - a) for a, b in spans] + [(day * DAY_S + shift.end, 0.0)]
        for off, rest in cuts:
            if on >= horizon_s:
                break
            if off > 0 or off + rest > 0:
                if segments and segments[-1][2] == 0.0 and segments[-1][1] >= on:
                    segments[-1] = (segments[-1][0], off, rest)  # a 24-hour shift runs on through midnight
                else:
                    segments.append((max(on, 0.0), max(off, 0.0), rest if off >= 0 else off + rest))
            on = off + rest
        day += 1


def work_spans(crews: Iterable[tuple[int, Sequence[Segment]]], horizon_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The spans of work of ``crews`` ((agents, work segments) of each shift) as two arrays, on
    and off times in seconds, one span per agent, the off times clipped at the horizon."""
    on: list[float] = []
    off: list[float] = []
    for agents, segments in crews:
        for a, b, _ in segments:
            on.extend([a] * agents)
            off.extend([b] * agents)
    return np.asarray(on, dtype=float), np.minimum(np.asarray(off, dtype=float), horizon_s)


def closed_calls(scenario: Scenario, cls: np.ndarray, at_s: np.ndarray) -> np.ndarray | None:
    """Which calls (class index ``cls``, arriving at ``at_s``) find no pool serving their class
    open; None when every class always has an open pool (no pool serving it has hours)."""
    names = scenario.class_names()
    pools = scenario.staffing.pools
    if all(p.hours is None for p in pools):
        return None
    tod = np.mod(at_s, DAY_S)
    closed = np.zeros(len(cls), dtype=bool)
    for k, name in enumerate(names):
        serving = [p for p in pools if name in p.serves]
        if any(p.hours is None for p in serving):
            continue
        mine = cls == k
        is_open = np.zeros(len(cls), dtype=bool)
        for p in serving:
            assert p.hours is not None
            o, c = p.hours.open, p.hours.close
            is_open |= ((o <= tod) & (tod < c)) | ((o <= tod + DAY_S) & (tod + DAY_S < c))
        closed |= mine & ~is_open
    return closed


def clipped_cumulative(
    starts: np.ndarray, ends: np.ndarray, at: np.ndarray, starts_sorted: bool = False, in_place: bool = False
) -> np.ndarray:
    """For each time in ``at``: the total length of the spans [starts, ends) that lies before it.

    Used for time-averages of anything that is a sum of spans (agents on duty, callers in queue):
    the amount over [a, b) is ``F(b) - F(a)``. O((n + m) log n) for n spans and m times;
    ``starts_sorted`` skips one sort when the starts are already ascending; ``in_place`` sorts and
    sums ``starts`` and ``ends`` (floats) where they are, overwriting both, with no copy beside them
    (the interval rows' queue of a million callers: 24 bytes a span less at their peak).
    """
    return _sum_min(ends, at, in_place=in_place) - _sum_min(starts, at, is_sorted=starts_sorted, in_place=in_place)


def _sum_min(x: np.ndarray, at: np.ndarray, is_sorted: bool = False, in_place: bool = False) -> np.ndarray:
    """sum_i min(x_i, t) for each t in ``at``: a running sum of the sorted values, in order, made in
    ``x`` itself when ``in_place`` (else in a copy)."""
    xs = x if in_place else np.array(x, dtype=float)
    if not is_sorted:
        xs.sort()
    k = np.searchsorted(xs, at, side="left")
    np.cumsum(xs, out=xs)
    prefix = np.where(k > 0, xs[np.maximum(k - 1, 0)], 0.0) if len(xs) else np.zeros(len(at))
    return prefix + at * (len(xs) - k)


def agent_seconds(pool: Pool, horizon_s: float, edges: np.ndarray, first_weekday: Weekday = "mon") -> np.ndarray:
    """Agent-seconds on duty of one pool in each interval between consecutive ``edges`` (shift time
    less scheduled breaks); a run reads its schedule's (``Schedule.on_duty_s``) instead."""
    on, off = work_spans([(s.agents, work_segments(s, horizon_s, first_weekday)) for s in pool.shift_list()], horizon_s)
    return np.diff(clipped_cumulative(on, off, edges))
