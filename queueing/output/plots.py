"""Plots of one or more runs for the HTML report: PNG bytes, readable without having run anything.

Every plot compares scenarios (one colour and line style each, the same in every plot) per class.
Series over the day come from the interval rows (intervals.csv): intervals are folded into the
hour of day they start in (``interval_start_s % 86400 // 3600``), so a 30-day horizon gives one
typical day; intervals that start in the warm-up are left out. Per-hour figures are the mean over
replications of each replication's figure for that hour, with a 95% Student-t interval.

matplotlib is used through :class:`matplotlib.figure.Figure` and the Agg canvas only, never
``pyplot``: no global state, no display needed, safe in worker processes. The hour-of-day plots
take the folded series (``folded``, one :func:`hourly` per result) when the caller already has
them, so a report folds each run once.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator, PercentFormatter

from ..core.durations import DAY_S, HOUR_S
from ..core.duty import agent_seconds
from ..core.records import ANSWERED, CLOSED
from ..core.runner import SimulationResult
from ..core.scenario import Scenario
from ..core.statistics import column_estimates, share_estimate
from .hourly import HOURS, HourlyClass, check_interval, hourly

__all__ = ["HourlyClass", "check_interval", "hourly"]  # the folding lives in .hourly (no matplotlib)

LINESTYLES = ("-", "--", "-.", ":")
POOL_COLOURS = ("#b3cde3", "#ccebc5", "#fed9a6", "#decbe4", "#fbb4ae", "#e5d8bd")  # pale: not a scenario's colour
DPI = 100
WIDTH_IN = 11.0


# --- drawing helpers ---------------------------------------------------------------------------


def _style(i: int) -> dict[str, object]:
    """Colour and line style of the i-th scenario (line styles too, for readers who cannot tell colours)."""
    return {"color": f"C{i % 10}", "linestyle": LINESTYLES[i % len(LINESTYLES)]}


def _figure(n_panels: int, ncols: int, panel_h_in: float, sharex: bool = True) -> tuple[Figure, list[Axes]]:
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(WIDTH_IN, panel_h_in * nrows + 0.9), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex)
    flat = list(axes.flat)
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def _hour_axis(ax: Axes) -> None:
    ax.set_xlim(0, 24)
    ax.xaxis.set_major_locator(MultipleLocator(3))
    ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.set_xlabel("hour of day (h)")
    ax.grid(True, which="major", alpha=0.3)


def _steps(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hourly values as a step line over [h, h+1): x 0..24, y repeated (NaN gaps stay gaps)."""
    x = np.repeat(np.arange(HOURS + 1, dtype=float), 2)[1:-1]
    y = np.repeat(values, 2)
    return x, y


def _draw_hourly(ax: Axes, values: np.ndarray, label: str, i: int, band: bool = True, shares: bool = False) -> None:
    """Mean over replications as a step line; its 95% interval as a band (of a share with
    ``shares``: the interval hourly.csv writes, within 0-1)."""
    mean, lo, hi = column_estimates(values, share_estimate if shares else None)
    x, y = _steps(mean)
    ax.plot(x, y, label=label, linewidth=1.8, **_style(i))  # type: ignore[arg-type]
    if band and np.any(~np.isnan(lo)):
        _, ylo = _steps(np.maximum(lo, 0.0))
        _, yhi = _steps(hi)
        ax.fill_between(x, ylo, yhi, color=f"C{i % 10}", alpha=0.12, linewidth=0)


def _legend(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend for the whole figure, below the panels (per-panel legends hide data)."""
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), frameon=False)


def all_classes(results: Sequence[SimulationResult]) -> list[str]:
    """Every class of any result, highest priority of the first result first."""
    names: list[str] = []
    for res in results:
        for name in res.scenario.class_names():
            if name not in names:
                names.append(name)
    return names


def _check(results: Sequence[SimulationResult], labels: Sequence[str]) -> None:
    if not results:
        raise ValueError("nothing to plot: no results")
    if len(results) != len(labels):
        raise ValueError(f"{len(results)} results but {len(labels)} labels")


def fmt_percent(share: float) -> str:
    """A share as a percentage without trailing zeros: 0.9 -> ``90%``, 0.875 -> ``87.5%``."""
    return f"{share * 100:.4g}%"


# --- the plots ---------------------------------------------------------------------------------


def wait_cdf(results: Sequence[SimulationResult], labels: Sequence[str]) -> bytes:
    """Wait-time distribution per class (one panel each), one line per scenario; PNG bytes.

    The curve at ``t`` seconds is the share of *offered* calls (arrived after the warm-up, all
    replications pooled) answered within ``t`` seconds of queueing, so it levels off at the
    answered share and crosses each target's marker (threshold, share) from above when the
    target is met over the whole statistics window. Needs the calls: run ``simulate(...,
    keep_calls=True)``, else :class:`ValueError`.
    """
    _check(results, labels)
    for res, label in zip(results, labels, strict=True):
        if any(rep.records is None for rep in res.replications):
            raise ValueError(f"{label}: the wait-time plot needs the calls; simulate with keep_calls=True")
    classes = all_classes(results)
    fig, axes = _figure(len(classes), min(len(classes), 2), 3.8, sharex=False)
    fig.suptitle("Wait-time distribution: share of offered calls answered within t (all replications)")
    for ax, name in zip(axes, classes, strict=True):
        curves = []
        targets: dict[tuple[float, float], None] = {}
        for i, (res, label) in enumerate(zip(results, labels, strict=True)):
            sc = res.scenario
            if name not in sc.classes:
                continue
            k = sc.class_names().index(name)
            waits, offered = [], 0
            for rep in res.replications:
                rec = rep.records
                assert rec is not None
                c = rec.callers
                mine = (c.cls == k) & (c.arrival_s >= sc.warmup) & (c.arrival_s < sc.horizon)
                offered += int(np.count_nonzero(mine & (rec.outcome != CLOSED)))
                waits.append(rec.wait_s[mine & (rec.outcome == ANSWERED)])
            answered = np.sort(np.concatenate(waits)) if waits else np.empty(0)
            curves.append((i, label, answered, offered))
            for t in sc.targets.get(name, []):
                targets[(t.within, t.share)] = None
        longest_target = max((w for w, _ in targets), default=0.0)
        p99 = max((float(np.percentile(a, 99)) for _, _, a, _ in curves if len(a)), default=0.0)
        x_max = max(60.0, 2.5 * longest_target, p99)
        grid = np.linspace(0.0, x_max, 600)
        lowest = []
        for i, label, answered, offered in curves:
            curve = np.searchsorted(answered, grid, side="right") / offered if offered else np.full_like(grid, np.nan)
            if offered:  # a class no one called has no curve (all NaN), nor a lowest point
                lowest.append(float(curve[0]))
            ax.step(grid, curve, where="post", label=label, linewidth=1.8, **_style(i))  # type: ignore[arg-type]
        low = min([share for _, share in targets] + lowest + [1.0])
        for j, (within, share) in enumerate(targets):
            ax.axvline(within, color="0.35", linewidth=0.8, linestyle=":")
            ax.plot(
                [within],
                [share],
                marker="X",
                markersize=9,
                color="black",
                linestyle="none",
                label="target: share within threshold" if j == 0 else None,
            )
            ax.annotate(
                f"{fmt_percent(share)} within {within:g} s",
                (within, share),
                textcoords="offset points",
                xytext=(8, -4),
                fontsize=9,
                ha="left",
                va="top",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
        ax.set_title(f"class {name}")
        ax.set_xlim(0, x_max)
        ax.set_ylim(max(0.0, math.floor((low - 0.05) * 10) / 10), 1.01)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("wait in queue t (s)")
        ax.set_ylabel("offered calls answered within t")
        ax.grid(True, alpha=0.3)
    _legend(fig, axes)
    return _png(fig)


def service_level_by_hour(
    results: Sequence[SimulationResult], labels: Sequence[str], folded: Sequence[dict[str, HourlyClass]] | None = None
) -> bytes:
    """Service level by hour of day, one panel per class and target, one line per scenario; PNG bytes.

    Share of the calls arriving in each hour answered within the target's threshold (abandoned
    calls count against it), mean over replications with its 95% band; the dashed black line is
    the target share. Classes without targets are left out.
    """
    _check(results, labels)
    folded = folded if folded is not None else [hourly(res) for res in results]
    panels: list[tuple[str, float, float]] = []
    for name in all_classes(results):
        for res in results:
            for t in res.scenario.targets.get(name, []):
                if (name, t.within, t.share) not in panels:
                    panels.append((name, t.within, t.share))
    if not panels:
        fig = Figure(figsize=(WIDTH_IN, 1.5), dpi=DPI)
        fig.text(0.5, 0.5, "No service-level targets in these scenarios.", ha="center", va="center")
        return _png(fig)
    fig, axes = _figure(len(panels), min(len(panels), 2), 3.4, sharex=False)
    fig.suptitle("Service level by hour of day against each target (line: mean over replications; shaded: 95% CI)")
    for ax, (name, within, share) in zip(axes, panels, strict=True):
        low = share
        for i, (hc, label) in enumerate(zip(folded, labels, strict=True)):
            if name in hc and within in hc[name].service_level:
                values = hc[name].service_level[within]
                _draw_hourly(ax, values, label, i, shares=True)
                if np.any(~np.isnan(values)):
                    low = min(low, float(np.nanmin(column_estimates(values)[0])))
        ax.axhline(share, color="black", linestyle="--", linewidth=1.2, label="target share")
        ax.set_title(f"class {name}: answered within {within:g} s (target {fmt_percent(share)})")
        ax.set_ylim(max(0.0, low - 0.08), 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("calls answered in time")
        _hour_axis(ax)
    _legend(fig, axes)
    return _png(fig)


def pool_agents_by_hour(scenario: Scenario) -> dict[str, np.ndarray]:
    """Agents on duty in each pool by hour of day, (24,) per pool: the schedule's agent time in
    each hour of the statistics window, folded into hours of the day as :func:`hourly` folds the
    intervals (NaN for hours the window never covers). Each agent counts once, in its own pool."""
    starts = np.arange(0.0, scenario.horizon, HOUR_S)
    edges = np.append(starts, scenario.horizon)
    widths = np.diff(edges)
    keep = starts >= scenario.warmup - 1e-9
    hour = ((starts % DAY_S) // HOUR_S).astype(int)[keep]
    duration = np.bincount(hour, weights=widths[keep], minlength=HOURS)
    out = {}
    for pool in scenario.staffing.pools:
        on_duty = agent_seconds(pool, scenario.horizon, edges, scenario.first_weekday)
        seconds = np.bincount(hour, weights=on_duty[keep], minlength=HOURS)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[pool.name] = np.where(duration > 0, seconds / duration, np.nan)
    return out


def queue_and_agents(
    results: Sequence[SimulationResult], labels: Sequence[str], folded: Sequence[dict[str, HourlyClass]] | None = None
) -> bytes:
    """Mean queue length by hour of day per class (top row), and agents on duty by hour of day
    per pool, stacked, one panel per scenario (bottom row); PNG bytes.

    Queue length is the time-average number of callers of the class waiting for an agent (not in
    the IVR, not talking), mean over replications. Agents on duty come from the schedule: each
    agent counts once, in its own pool, and the top of the stack is the total on duty.
    """
    _check(results, labels)
    folded = folded if folded is not None else [hourly(res) for res in results]
    classes = all_classes(results)
    nc = len(classes)
    fig = Figure(figsize=(WIDTH_IN, 6.6), dpi=DPI, layout="constrained")
    fig.suptitle("Queue length and agents on duty by hour of day (line: mean over replications; shaded: 95% CI)")
    top_fig, bottom_fig = cast(Any, fig.subfigures(2, 1))  # an array of two SubFigures
    top_axes = list(top_fig.subplots(1, nc, squeeze=False, sharex=True).flat)
    for top, name in zip(top_axes, classes, strict=True):
        for i, (hc, label) in enumerate(zip(folded, labels, strict=True)):
            if name in hc:
                _draw_hourly(top, hc[name].queue_len, label, i)
        top.set_title(f"class {name}: callers waiting")
        top.set_ylabel("mean queue length (calls)")
        top.set_ylim(bottom=0)
        _hour_axis(top)
    bottom_axes = list(bottom_fig.subplots(1, len(results), squeeze=False, sharey=True).flat)
    on_duty = [pool_agents_by_hour(res.scenario) for res in results]
    # one axis for every panel, fitting the largest total drawn (set once: a shared axis set from the
    # first panel's data alone would cut the others off)
    highest = max((float(np.nanmax(sum(by_pool.values()))) for by_pool in on_duty if by_pool), default=0.0)
    top = max(1.0, highest * 1.08) if math.isfinite(highest) else 1.0
    for ax, label, by_pool in zip(bottom_axes, labels, on_duty, strict=True):
        base = np.zeros(HOURS)
        for p, (pool, agents) in enumerate(by_pool.items()):
            x, y0 = _steps(base)
            _, y1 = _steps(base + agents)
            ax.fill_between(x, y0, y1, color=POOL_COLOURS[p % len(POOL_COLOURS)], linewidth=0, label=pool)
            base = base + agents
        x, y = _steps(base)
        ax.plot(x, y, color="black", linewidth=1.2, label="total")
        ax.set_title(f"{label}: agents on duty by pool" if len(results) > 1 else "agents on duty by pool")
        ax.set_ylabel("agents on duty")
        ax.set_ylim(0, top)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize="small", loc="upper left")
        _hour_axis(ax)
    _legend(fig, top_axes)
    return _png(fig)


def abandonment_by_hour(
    results: Sequence[SimulationResult], labels: Sequence[str], folded: Sequence[dict[str, HourlyClass]] | None = None
) -> bytes:
    """Share of callers who hung up while waiting, by hour of arrival, per class; PNG bytes.

    Mean over replications with its 95% band. Classes without patience never abandon (flat 0).
    """
    _check(results, labels)
    folded = folded if folded is not None else [hourly(res) for res in results]
    classes = all_classes(results)
    fig, axes = _figure(len(classes), min(len(classes), 2), 3.4, sharex=False)
    fig.suptitle("Abandonment by hour of day: callers who hung up while waiting (line: mean; shaded: 95% CI)")
    for ax, name in zip(axes, classes, strict=True):
        for i, (hc, label) in enumerate(zip(folded, labels, strict=True)):
            if name in hc:
                _draw_hourly(ax, hc[name].abandon_share, label, i, shares=True)
        ax.set_title(f"class {name}")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("callers who abandoned")
        _hour_axis(ax)
    _legend(fig, axes)
    return _png(fig)


def staffing_by_interval(
    staffed: Scenario, interval_s: float, agents: Sequence[Sequence[int]], erlang: Sequence[Sequence[int]]
) -> bytes:
    """Agents on duty over the day per pool: the simulated answer as its shifts schedule them
    (``staffed``, the scenario with the staffing found: a pool closing at 18:30 drawn to 18:30)
    against the per-interval Erlang answer (``erlang[i][p]``) while the pool is open."""
    pools = staffed.staffing.pools
    fig, axes = _figure(len(pools), 1, 2.6)
    for p, (ax, pool) in enumerate(zip(axes, pools, strict=True)):
        cuts = {i * interval_s for i in range(len(agents) + 1)}
        for shift in pool.shift_list():
            cuts |= {shift.start % DAY_S, shift.end % DAY_S}
        if pool.hours is not None:
            cuts |= {pool.hours.open % DAY_S, pool.hours.close % DAY_S}
        edges = np.array(sorted(cuts | {0.0, DAY_S}))
        mids = (edges[:-1] + edges[1:]) / 2
        sim = [pool.agents_at(t) for t in mids]
        erl = [erlang[min(int(t // interval_s), len(erlang) - 1)][p] if pool.is_open(t) else 0 for t in mids]
        hours = edges / HOUR_S
        ax.stairs(sim, hours, label="simulation (targets met in every interval)", linewidth=2.0, **_style(0))  # type: ignore[arg-type]
        ax.stairs(erl, hours, label="per-interval Erlang", linewidth=1.5, **_style(1))  # type: ignore[arg-type]
        ax.set_title(f"pool {pool.name}: agents on duty")
        ax.set_ylabel("agents")
        ax.set_ylim(0, max(max(sim, default=0), max(erl, default=0)) + 1)
        _hour_axis(ax)
    fig.suptitle("Staffing by interval of the day")
    _legend(fig, axes)
    return _png(fig)
