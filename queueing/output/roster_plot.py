"""roster.png: a roster over the day, pool by pool.

Per pool two panels on one hour-of-day axis: the shifts as horizontal bars (one bar per roster
line, labelled with its agents; breaks hatched; a shift past midnight wraps to the morning, as
it does every day), and the coverage: rostered agents on duty (not on break) per interval, as a
step line, against what the roster had to cover (need: after shrinkage and ``min_agents``) and
the head-count on duty the targets need (required: ``staff``'s answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..core.durations import DAY_S, HOUR_S
from ..planning.roster import RosterShift
from .plots import DPI, POOL_COLOURS, WIDTH_IN, _hour_axis, _legend, _png, _style
from .tables import clock_span

BAR_ROW_IN = 0.22  # height of one roster line in the bars panel
COVERAGE_IN = 2.0


def day_pieces(start_s: float, end_s: float) -> list[tuple[float, float]]:
    """A daily span [start, end) (end may pass midnight) as (start h, width h) pieces within 0-24 h."""
    a, b = start_s % DAY_S, start_s % DAY_S + (end_s - start_s)
    if b <= DAY_S:
        return [(a / HOUR_S, (b - a) / HOUR_S)]
    return [(a / HOUR_S, (DAY_S - a) / HOUR_S), (0.0, (b - DAY_S) / HOUR_S)]


def _on_duty(shift: RosterShift) -> list[tuple[float, float]]:
    """The spans of a shift outside its breaks, as times of day (s)."""
    spans, t = [], shift.start_s
    for offset, length in shift.breaks:
        if shift.start_s + offset > t:
            spans.append((t, shift.start_s + offset))
        t = shift.start_s + offset + length
    if shift.end_s > t:
        spans.append((t, shift.end_s))
    return spans


def roster_chart(
    pool_names: Sequence[str],
    interval_s: float,
    shifts: Mapping[str, Sequence[RosterShift]],
    coverage: Sequence[Sequence[int]],
    need: Sequence[Sequence[int]],
    required: Sequence[Sequence[int]],
) -> bytes:
    """PNG bytes: per pool, its shifts (``shifts[pool]``, in the order to draw them, top down) and
    ``coverage[i][p]`` against ``need[i][p]`` and ``required[i][p]`` per interval i of the day."""
    heights = []
    for pool in pool_names:
        heights += [max(1.0, BAR_ROW_IN * (len(shifts[pool]) + 1)), COVERAGE_IN]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 1.2), dpi=DPI, layout="constrained")
    axes = list(fig.subplots(len(heights), 1, sharex=True, gridspec_kw={"height_ratios": heights}).flat)
    edges = np.arange(len(coverage) + 1) * interval_s / HOUR_S
    for p, pool in enumerate(pool_names):
        bars, cov = axes[2 * p], axes[2 * p + 1]
        colour = POOL_COLOURS[p % len(POOL_COLOURS)]
        lines = shifts[pool]
        for k, s in enumerate(lines):
            for a, b in _on_duty(s):
                bars.broken_barh(day_pieces(a, b), (k - 0.4, 0.8), facecolors=colour, edgecolors="#555555")
            for offset, length in s.breaks:
                a = s.start_s + offset
                bars.broken_barh(
                    day_pieces(a, a + length), (k - 0.4, 0.8), facecolors="white", edgecolors="#555555", hatch="////"
                )
        bars.set_yticks(
            range(len(lines)),
            labels=[f"{clock_span(s.start_s, s.end_s)} ×{s.agents}" for s in lines],
            fontsize=7 if len(lines) > 12 else 9,
        )
        bars.set_ylim(max(len(lines), 1) - 0.5, -0.5)  # first shift on top (a pool without shifts: one empty row)
        total = sum(s.agents for s in lines)
        plural = "" if len(lines) == 1 else "s"
        bars.set_title(f"pool {pool}: {len(lines)} shift{plural}, {total} agents (label: shift ×agents)")
        bars.grid(True, axis="x", alpha=0.3)
        series = (
            ([row[p] for row in coverage], "rostered on duty (not on break)", 2.0, 0),
            ([row[p] for row in need], "to roster (after shrinkage and min_agents)", 1.5, 1),
            ([row[p] for row in required], "needed on duty (targets met)", 1.5, 2),
        )
        for values, label, width, i in series:
            cov.stairs(values, edges, label=label, linewidth=width, **_style(i))
        cov.set_ylim(0, max(max(v, default=0) for v, *_ in series) + 1)
        cov.set_ylabel("agents")
        cov.set_title(f"pool {pool}: coverage per {interval_s / 60:g}-minute interval")
        _hour_axis(cov)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    fig.suptitle("Roster: shifts and coverage over the day")
    handles = [Patch(facecolor="white", edgecolor="#555555", hatch="////", label="break")]
    axes[0].legend(handles=handles, loc="upper right", fontsize=8)
    _legend(fig, axes[1::2])
    return _png(fig)
