"""sweep.png: each headline metric of a sweep against its first parameter, with 95% interval bars
(one line per value of the second parameter), service levels against their target, and the
points where the queue did not settle ringed in red."""

from __future__ import annotations

import io
import math
from typing import Any

from ..core.metric_names import display
from ..core.metric_names import metric as registry_metric
from ..planning.sweep import Setting


def _by_value(value: Any) -> tuple[int, Any]:
    """Sort key: numbers by value, before anything else by text (so 8 comes before 10)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


def _empty(rows: list[dict[str, Any]]) -> bool:
    """Whether a panel would show nothing: no value anywhere, or zero everywhere with no spread
    (abandoned share of a class whose callers never hang up)."""
    values = [_number(r[k]) for r in rows for k in ("value", "ci_low", "ci_high")]
    known = [v for v in values if not math.isnan(v)]
    return not known or all(v == 0 for v in known)


def plot_sweep(settings: list[Setting], rows: list[dict[str, Any]], title: str) -> bytes:
    """PNG: each headline metric against the first parameter (one line per value of the second,
    legend in value order), with 95% interval bars; service levels with their target; points
    where the queue did not settle ringed in red. Empty panels (see ``_empty``) are left out."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    x_name = settings[0].name
    series_name = settings[1].name if len(settings) > 1 else None
    panels = [
        panel
        for panel in dict.fromkeys((r["class"] or r["pool"], r["metric"]) for r in rows if r["metric"] != "offered")
        if not _empty([r for r in rows if (r["class"] or r["pool"], r["metric"]) == panel])
    ]
    cols = 3
    nrows = max(1, math.ceil(len(panels) / cols))
    fig = Figure(figsize=(5 * cols, 3.4 * nrows), layout="constrained")
    fig.suptitle(title)
    for i, (who, metric) in enumerate(panels):
        ax = fig.add_subplot(nrows, cols, i + 1)
        mine = [r for r in rows if (r["class"] or r["pool"]) == who and r["metric"] == metric]
        groups = sorted({r[series_name] for r in mine}, key=_by_value) if series_name else [None]
        for g in groups:
            pts = [r for r in mine if series_name is None or r[series_name] == g]
            xs = [r[x_name] for r in pts]
            ys = [_number(r["value"]) for r in pts]
            err = [
                [(y - r["ci_low"]) if r["ci_low"] is not None else 0 for y, r in zip(ys, pts, strict=True)],
                [(r["ci_high"] - y) if r["ci_high"] is not None else 0 for y, r in zip(ys, pts, strict=True)],
            ]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"{series_name}={g}" if series_name else None)
        bad = [r for r in mine if not r["settled"]]
        if bad:
            ax.scatter(
                [r[x_name] for r in bad], [_number(r["value"]) for r in bad], s=140, facecolors="none",
                edgecolors="crimson", linewidths=1.5, zorder=5, label="queue does not settle",
            )  # fmt: skip
        target = next((r["target"] for r in mine if r["target"] is not None), None)
        if target is not None:
            ax.axhline(target, color="crimson", linestyle="--", label=f"target {target:g}")
        if all(isinstance(r[x_name], int) for r in mine):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(display(metric, who))
        ax.set_xlabel(x_name)
        ax.set_ylabel(_unit(metric))
        ax.grid(alpha=0.3)
        if series_name or target is not None or bad:
            ax.legend(fontsize="small")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _unit(metric: str) -> str:
    """The y-axis label: the registry's unit (shares are plotted as fractions of 1 here)."""
    unit = registry_metric(metric).unit
    return {"s": "seconds", "%": "share (0-1)", "h": "hours"}.get(unit, "")
