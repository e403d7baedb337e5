"""What ``ivr311 nowcast`` writes and prints of a :class:`~queueing.planning.nowcast.Nowcast`.

- ``nowcast.json``: :meth:`Nowcast.to_json`'s document (docs/planning.md, "Now-cast"), which the
  wallboard reads as it is;
- the console: the state at the time, each class's re-forecast, then per quarter hour and class
  the chance every target is met, the mean wait and queue with their 10-90% bands, and the
  chance with one agent more and one fewer.
"""

from __future__ import annotations

from pathlib import Path

from ..planning.nowcast import MIN_CALLS, Band, Nowcast
from .files import json_text
from .tables import format_table


def write_nowcast(result: Nowcast, out_dir: Path) -> Path:
    """Write nowcast.json into ``out_dir``; return its path."""
    path = out_dir / "nowcast.json"
    path.write_text(json_text(result.to_json(), "nowcast.json"), encoding="utf-8")
    return path


def _chance(p: float | None) -> str:
    return "-" if p is None else f"{p * 100:.0f}%"


def _band(mean: float | None, lo: float | None, hi: float | None, digits: int) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f} ({lo or 0:.{digits}f}-{hi or 0:.{digits}f})"


def format_nowcast(result: Nowcast) -> str:
    """The console table of a now-cast."""
    waiting = ", ".join(
        f"{c} {w['callers']:g} (longest {w['longest_wait_s']:.0f} s)" for c, w in result.waiting.items()
    )
    serving = ", ".join(f"{c} {n}" for c, n in result.in_service.items())
    duty = ", ".join(f"{p} {n}" for p, n in result.on_duty.items())
    lines = [
        f"now-cast at {result.at} for {result.hours:g} h, {result.replications} replications",
        f"waiting: {waiting or 'nobody'}; on a call: {serving or 'none'}; on duty: {duty}",
    ]
    if result.ignored:
        lines.append(f"left out: {result.ignored} calls open for hours (a status callback lost)")
    for r in result.reforecasts:
        if r.ratio is None:
            lines.append(f"{r.class_name}: no calls forecast so far today")
            continue
        use = "applied" if r.applied else f"not applied (fewer than {MIN_CALLS} calls)"
        lines.append(
            f"{r.class_name}: {r.actual} calls today, {r.forecast:.0f} forecast: x{r.ratio:.2f} "
            f"(95% {r.low:.2f}-{r.high:.2f}), {use}"
        )
    plus = {(b.start, b.class_name): b for b in result.plus_one}
    minus = {(b.start, b.class_name): b for b in result.minus_one}
    rows = []
    for b in result.intervals:
        key = (b.start, b.class_name)
        rows.append([b.start[11:16], b.class_name, _chance(b.p_target_met),
                     _band(b.wait_mean_s, b.wait_lo_s, b.wait_hi_s, 0), _band(b.queue_mean, b.queue_lo, b.queue_hi, 1),
                     f"{b.agents:.0f}", _chance(_met(plus.get(key))), _chance(_met(minus.get(key)))])  # fmt: skip
    headers = ["time", "class", "targets met", "wait s (10-90%)", "queue (10-90%)", "agents",
               f"+1 {result.pool}", f"-1 {result.pool}"]  # fmt: skip
    return "\n".join([*lines, "", format_table(headers, rows)])


def _met(band: Band | None) -> float | None:
    return None if band is None else band.p_target_met
