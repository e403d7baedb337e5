"""lines.png: a week's lines as a Gantt chart.

One row per line (line 1 at the top), the week from Monday 00:00 to Sunday 24:00 on the x axis;
each day worked is a bar from the shift's start to its end with its breaks left blank, coloured
by pool. A shift past midnight runs into the next day; Sunday night's runs into Monday morning,
drawn at the left edge (the week repeats).
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..core.calendar import WEEKDAYS, Weekday, weekday_index
from ..core.durations import DAY_S, HOUR_S
from ..planning.lines import RosterLine
from .plots import DPI, POOL_COLOURS, WIDTH_IN, _png

ROW_IN = 0.16  # height of one line's row
WEEK_H = 7 * 24.0


def _pieces(a_h: float, b_h: float) -> list[tuple[float, float]]:
    """[a, b) hours since Monday 00:00 as (start, width) within the week, wrapping past Sunday."""
    if b_h <= WEEK_H:
        return [(a_h, b_h - a_h)]
    return [(a_h, WEEK_H - a_h), (0.0, b_h - WEEK_H)]


def _spans(line: RosterLine, day: Weekday, breaks: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """The line's spans on duty on ``day``, in hours since Monday 00:00 (breaks left out)."""
    base = weekday_index(day) * DAY_S + line.start_s
    out, t = [], base
    for offset, length in breaks:
        out.append((t, base + offset))
        t = base + offset + length
    out.append((t, base + line.length_s))
    return [(a / HOUR_S, b / HOUR_S) for a, b in out if b > a]


def lines_chart(lines: Sequence[RosterLine], pools: Sequence[str], first_weekday: Weekday) -> bytes:
    """lines.png (see the module docstring); ``first_weekday`` is named in the title."""
    height = max(2.5, 1.2 + ROW_IN * len(lines))
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    colour = {pool: POOL_COLOURS[k % len(POOL_COLOURS)] for k, pool in enumerate(pools)}
    for row, line in enumerate(lines):
        bars = [
            piece
            for day, breaks in zip(line.days, line.breaks, strict=True)
            for a, b in _spans(line, day, breaks)
            for piece in _pieces(a, b)
        ]
        ax.broken_barh(bars, (row + 0.1, 0.8), facecolors=colour[line.pool], edgecolor="#555555", linewidth=0.3)
    ax.set_xlim(0, WEEK_H)
    ax.set_ylim(len(lines), 0)
    ax.set_xticks([24.0 * k + 12 for k in range(7)], [d.capitalize() for d in WEEKDAYS])
    ax.set_xticks([24.0 * k for k in range(8)], minor=True)
    ax.grid(axis="x", which="minor", color="#999999", linewidth=0.6)
    step = max(1, len(lines) // 20)
    ax.set_yticks(
        [k + 0.5 for k in range(0, len(lines), step)], [str(lines[k].number) for k in range(0, len(lines), step)]
    )
    ax.set_ylabel("line")
    ax.set_title(f"{len(lines)} weekly lines (breaks blank; the scenario starts on a {first_weekday})", fontsize=10)
    ax.legend(
        handles=[Patch(facecolor=colour[p], edgecolor="#555555", label=p) for p in pools],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06 if len(lines) > 20 else -0.12),
        ncol=len(pools),
        frameon=False,
    )
    fig.tight_layout()
    return _png(fig)
