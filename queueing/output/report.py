"""report.html: one self-contained page about one or more runs, for people who did not run them.

The page has the scenarios' meta data, a plain-language verdict per service-level target, the
headline figures of each scenario with 95% intervals, what each costs (with pay rates), the plots of
:mod:`queueing.output.plots` (PNG, embedded as ``data:`` URIs) and, when scenarios are compared,
the table of paired differences.
Inline CSS, no script, no external request: it opens the same from a mail attachment as from
``results/``. The layout is the Jinja2 template ``templates/report.html.j2``, autoescaped: every
piece of text from a scenario or a label is HTML-escaped there; this module computes what it shows.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..core.durations import format_duration
from ..core.metric_names import display, format_value, number_or_none
from ..core.rounding import printed_parts
from ..core.runner import SimulationResult
from ..core.scenario import Over, Target
from ..core.targets import NOUNS, window_noun
from . import plots
from .tables import flow_tables

#: (file stem, heading, caption) of each plot, in page order.
PLOTS: list[tuple[str, str, str]] = [
    (
        "service_level_by_hour",
        "Service level by hour of day",
        "Share of the calls arriving in each hour of the day that were answered within the target's "
        "threshold (callers who hung up count as not answered in time). The line is the mean over "
        "replications, the shaded band its 95% confidence interval, the dashed line the target. Days of a "
        "multi-day run are folded into one; the warm-up is left out.",
    ),
    (
        "wait_cdf",
        "Wait-time distribution",
        "For each wait t, the share of all offered calls (every replication pooled) answered within t "
        "seconds of joining the queue. Curves level off below 100% by the share of callers who hung up. "
        "A curve passing above a target's cross meets that target over the whole day (not hour by hour).",
    ),
    (
        "queue_and_agents",
        "Queue length and agents on duty",
        "Top: time-average number of callers of the class waiting for an agent, by hour of day. Bottom: "
        "agents on duty by pool, stacked, from the schedule; each agent counts once, in its own pool, and "
        "the top line is the total on duty.",
    ),
    (
        "abandonment_by_hour",
        "Abandonment by hour of day",
        "Share of the callers arriving in each hour who hung up before an agent answered; mean over "
        "replications with its 95% confidence band.",
    ),
]


# --- verdicts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """How often one scenario meets one target, window by window (:mod:`queueing.core.targets`).

    ``judged`` windows had calls of the class offered, ``met`` of them reach the target share;
    ``missed`` names the others with their shares (empty when none); ``measured`` is False when
    the scenario does not set that target.
    """

    label: str
    judged: int
    met: int
    missed: str = ""
    measured: bool = True


@dataclass(frozen=True)
class TargetVerdicts:
    """One target (class, threshold in seconds, share, window) and every scenario's verdict on it."""

    class_name: str
    within_s: float
    share: float
    verdicts: list[Verdict]
    over: Over = "interval"

    def sentence(self) -> str:
        """E.g. ``B meets 911 90% within 15 s in 24 of 24 hours; A in 19.`` (``of 1 day``...)."""
        target = f"{self.class_name} {plots.fmt_percent(self.share)} within {self.within_s:g} s"
        parts: list[str] = []
        first_total: int | None = None
        for v in self.verdicts:
            if not v.measured:
                parts.append(f"{v.label}: not measured (no such target)")
                continue
            if first_total is None:
                first_total = v.judged
                parts.append(f"{v.label} meets {target} in {v.met} of {v.judged} {window_noun(self.over, v.judged)}")
            elif v.judged == first_total:
                parts.append(f"{v.label} in {v.met}")
            else:
                parts.append(f"{v.label} in {v.met} of {v.judged}")
        if first_total is None:
            return f"{target}: no scenario measures it."
        return "; ".join(parts) + "."


def target_verdicts(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[TargetVerdicts]:
    """Every target of any scenario (classes by priority, targets in file order) with each verdict:
    its windows judged and met, as summary.json's ``met`` counts them (each result's ``judged``)."""
    if len(results) != len(labels):
        raise ValueError(f"{len(results)} results but {len(labels)} labels")
    judged = [{(j.class_name, j.target): j for j in res.judged} for res in results]
    out: list[TargetVerdicts] = []
    seen: set[tuple[str, Target]] = set()
    for name in plots.all_classes(results):
        for res in results:
            for t in res.scenario.targets.get(name, []):
                if (name, t) in seen:
                    continue
                seen.add((name, t))
                found = [
                    Verdict(label, j.n_judged, j.n_met, j.missed_text())
                    if (j := mine.get((name, t))) is not None
                    else Verdict(label, 0, 0, measured=False)
                    for mine, label in zip(judged, labels, strict=True)
                ]
                out.append(TargetVerdicts(name, t.within, t.share, found, t.window))
    return out


def verdicts(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[str]:
    """One plain-language sentence per class target, e.g. ``B meets 911 90% within 15 s in 24 of
    24 hours; A in 19.`` (the target's windows met; see :func:`target_verdicts`)."""
    return [tv.sentence() for tv in target_verdicts(results, labels)]


# --- formatting ----------------------------------------------------------------------------------


def _estimate(metric: str, est: dict[str, Any] | None, currency: str | None = None) -> tuple[str, str]:
    """(value, '[lo, hi]') of a summary estimate, formatted for ``metric`` (money in ``currency``)."""
    if not est:
        return "–", ""
    lo, hi = est.get("ci95", [None, None])
    ci = (
        f"[{format_value(metric, lo, currency=currency)}, {format_value(metric, hi, currency=currency)}]"
        if number_or_none(lo) is not None
        else ""
    )
    return format_value(metric, est.get("value"), currency=currency), ci


# --- page data --------------------------------------------------------------------------------
# The functions below compute what the page shows, as plain text; the template
# (templates/report.html.j2) lays it out and escapes it.


def _meta_rows(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[list[str]]:
    rows = []
    for res, label in zip(results, labels, strict=True):
        sc, meta = res.scenario, res.summary.get("meta", {})
        pools = "; ".join(f"{p.name} (serves {', '.join(p.serves)})" for p in sc.staffing.pools)
        rows.append(
            [
                label,
                sc.name,
                str(meta.get("seed", sc.seed)),
                str(meta.get("replications", len(res.replications))),
                format_duration(sc.horizon),
                format_duration(sc.warmup),
                format_duration(res.interval_s),
                pools,
            ]
        )
    return rows


def _verdict_items(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per target: its sentence and, per scenario that sets it, the windows it missed."""
    items = []
    for tv in target_verdicts(results, labels):
        details = [
            {
                "label": v.label,
                "css": "unmet" if v.missed else "met",
                "mark": f"missed: {v.missed}" if v.missed else f"every {NOUNS[tv.over][0]} met",
            }
            for v in tv.verdicts
            if v.measured
        ]
        items.append({"sentence": tv.sentence(), "details": details})
    return items


def _unsettled_notes(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[str]:
    """A note per run whose queue did not settle (nothing for the others: their pages are unchanged)."""
    from ..core.settling import queue_course, unsettled

    return [
        f"{label}: {note}" if len(results) > 1 else note
        for res, label in zip(results, labels, strict=True)
        for note in unsettled(res.scenario, res.summary, queue_course([r.intervals for r in res.replications]))
    ]


def _targets_of(results: Sequence[SimulationResult], name: str) -> list[tuple[float, float]]:
    """Every (threshold, share) target of class ``name`` in any scenario, in file order."""
    targets: list[tuple[float, float]] = []
    for res in results:
        for t in res.scenario.targets.get(name, []):
            if (t.within, t.share) not in targets:
                targets.append((t.within, t.share))
    return targets


def _class_head(first: str, targets: Sequence[tuple[float, float]]) -> list[str]:
    head = [first, "offered", "answered", "abandoned", "mean wait", "90th pct wait"]
    return head + [f"within {w:g} s (target {plots.fmt_percent(s)})" for w, s in targets]


def _class_cells(node: dict[str, Any], targets: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """A class's figures (summary.json's node of the whole run, a day or a weekday) as cells:
    value, interval, and met or not for each target."""
    cells = []
    for metric, est in (
        ("offered", node.get("offered")),
        ("answered", node.get("answered")),
        ("abandoned.share", node.get("abandoned", {}).get("share")),
        ("wait_s.mean", node.get("wait_s", {}).get("mean")),
        ("wait_s.p90", node.get("wait_s", {}).get("p90")),
    ):
        value, ci = _estimate(metric, est)
        cells.append({"value": value, "ci": ci, "css": None})
    levels = {(lv["within_s"], lv["target"]): lv for lv in node.get("service_level", [])}
    for key in targets:
        lv = levels.get(key)
        if lv is None:
            cells.append({"value": "–", "ci": "", "css": None})
            continue
        value, ci = _estimate(f"service_level.{lv['within_s']:g}s", lv["share"])
        cells.append({"value": value, "ci": ci, "css": "met" if lv.get("met") else "unmet"})
    return cells


def _headline_classes(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per class, each scenario's headline figures with 95% intervals across replications."""
    classes = []
    for name in plots.all_classes(results):
        targets = _targets_of(results, name)
        rows = []
        for res, label in zip(results, labels, strict=True):
            node = res.summary.get("classes", {}).get(name)
            if node is not None:
                rows.append({"label": label, "cells": _class_cells(node, targets)})
        classes.append({"name": name, "head": _class_head("scenario", targets), "rows": rows})
    return classes


def _day_label(entry: dict[str, Any]) -> str:
    """``day 2 (Wed)``, ``2026-12-09 (Wed)``; a weekday: ``Wed (4 days)``."""
    weekday = str(entry["weekday"]).capitalize()
    if "day" not in entry:
        return f"{weekday} ({len(entry['days'])} days)"
    return f"{entry.get('date') or 'day ' + str(entry['day'])} ({weekday})"


def _day_tables(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per class, its figures per day of each run longer than a day (summary.json's ``days``) and,
    when a weekday pools two days or more, per weekday; nothing when no run is longer than a day."""
    if not any(res.summary.get("days") for res in results):
        return []
    several = len(results) > 1
    tables = []
    for name in plots.all_classes(results):
        targets = _targets_of(results, name)
        for section, title in (("days", "by day"), ("weekdays", "by weekday, its days pooled (counts per day)")):
            rows = []
            for res, label in zip(results, labels, strict=True):
                entries = res.summary.get(section) or []
                if section == "weekdays" and all(len(e["days"]) < 2 for e in entries):
                    continue
                for entry in entries:
                    node = entry["classes"].get(name)
                    if node is not None:
                        day = _day_label(entry) + (f" · {label}" if several else "")
                        rows.append({"label": day, "cells": _class_cells(node, targets)})
            if rows:
                first = "weekday" if section == "weekdays" else "day"
                tables.append({"name": f"{name} {title}", "head": _class_head(first, targets), "rows": rows})
    return tables


def _printed_parts(pools: dict[str, Any], measure: str, total: float | None, money: bool) -> dict[str, Any]:
    """Each pool's estimate of ``measure`` with its value shared out of ``total`` as printed
    (:func:`~queueing.core.rounding.printed_parts`), its interval as it is."""
    estimates = {pool: node.get(measure) for pool, node in pools.items()}
    if any(not est for est in estimates.values()):
        return estimates
    values = printed_parts([est["value"] for est in estimates.values()], total, money=money)
    return {pool: {**est, "value": v} for (pool, est), v in zip(estimates.items(), values, strict=True)}


def _pool_rows(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, str]]:
    rows = []
    for res, label in zip(results, labels, strict=True):
        total = res.summary.get("cost")
        currency = total.get("currency") if total else None
        pools = res.summary.get("pools", {})
        # the pools' cost as shares of the cost a day the cost section prints: they add up to it
        # (hours are not shared out: the page writes those under 100 with a tenth, the total without)
        cost_of = _printed_parts(pools, "cost_per_day", total and total["per_day"]["value"], money=True)
        for pool, node in pools.items():
            util, util_ci = _estimate("utilization", node.get("utilization"))
            hours, _ = _estimate("agent_hours", node.get("agent_hours"))
            cost, cost_ci = _estimate("cost_per_day", cost_of.get(pool), currency)
            rows.append(
                {"label": label, "pool": pool, "util": util, "util_ci": util_ci, "hours": hours, "cost": cost,
                 "cost_ci": cost_ci}
            )  # fmt: skip
    return rows


def _cost_rows(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per scenario, summary.json's cost node as cells (value, interval); empty when no scenario
    has pay rates (the page then has no cost section)."""
    if not any("cost" in res.summary for res in results):
        return []
    rows: list[dict[str, Any]] = []
    for res, label in zip(results, labels, strict=True):
        node = res.summary.get("cost")
        if node is None:
            rows.append({"label": label, "cells": None})
            continue
        cells = []
        measures: list[tuple[str, dict[str, Any]]] = [
            ("cost.per_day", node["per_day"]),
            ("cost.per_answered_call", node["per_answered_call"]),
            ("cost.paid_hours_per_day", {"value": node["paid_hours_per_day"]}),
            ("cost.overtime_hours_per_day", node["overtime_hours_per_day"]),
        ]
        for metric, est in measures:
            value, ci = _estimate(metric, est, node["currency"])
            cells.append({"value": value, "ci": ci})
        rows.append({"label": label, "cells": cells})
    return rows


def _flow_tables(results: Sequence[SimulationResult], labels: Sequence[str]) -> list[dict[str, Any]]:
    """The tables of transfers, redials, callbacks and languages of each scenario that uses them
    (``simulate``'s, :func:`queueing.output.tables.flow_tables`), labelled by scenario when
    several are shown; empty when none does (the page then has no such section)."""
    out = []
    for res, label in zip(results, labels, strict=True):
        for title, head, rows in flow_tables(res.scenario, res.summary):
            out.append({"title": title, "label": label if len(results) > 1 else "", "head": head, "rows": rows})
    return out


def _comparison_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        metric = str(row.get("metric", ""))
        low, high = number_or_none(row.get("diff_ci_low")), number_or_none(row.get("diff_ci_high"))
        significant = row.get("significant")
        if significant is None or isinstance(significant, str):
            significant = low is not None and high is not None and (low > 0 or high < 0)
        ci = "–"
        if low is not None:
            lo_text = format_value(metric, low, diff=True, currency=row.get("currency"))
            ci = f"[{lo_text}, {format_value(metric, high, diff=True, currency=row.get('currency'))}]"
        money = row.get("currency")
        out.append(
            {
                "significant": bool(significant),
                "metric": display(metric),
                "where": str(row.get("class") or row.get("pool") or ("all" if metric.startswith("cost.") else "")),
                "scenario_a": str(row.get("scenario_a", "")),
                "scenario_b": str(row.get("scenario_b", "")),
                "a_value": format_value(metric, row.get("a_value"), currency=money),
                "b_value": format_value(metric, row.get("b_value"), currency=money),
                "diff": format_value(metric, row.get("diff"), diff=True, currency=money)
                + (" ✱" if significant else ""),
                "ci": ci,
            }
        )
    return out


def render_plots(
    results: Sequence[SimulationResult],
    labels: Sequence[str],
    folded: Sequence[dict[str, plots.HourlyClass]] | None = None,
) -> dict[str, bytes | None]:
    """Every plot of the report as PNG bytes, by file stem (``wait_cdf``...), in page order;
    ``None`` for the wait-time plot when the calls were not kept."""
    folded = folded if folded is not None else [plots.hourly(res) for res in results]
    calls_kept = all(rep.records is not None for res in results for rep in res.replications)
    return {
        "service_level_by_hour": plots.service_level_by_hour(results, labels, folded),
        "wait_cdf": plots.wait_cdf(results, labels) if calls_kept else None,
        "queue_and_agents": plots.queue_and_agents(results, labels, folded),
        "abandonment_by_hour": plots.abandonment_by_hour(results, labels, folded),
    }


def _figures(pngs: dict[str, bytes | None]) -> list[dict[str, str | None]]:
    """Heading, caption and base64 PNG (``None``: not drawn) of each plot, in page order."""
    figures: list[dict[str, str | None]] = []
    for stem, heading, caption in PLOTS:
        png = pngs.get(stem)
        data = base64.b64encode(png).decode("ascii") if png is not None else None
        figures.append({"heading": heading, "caption": caption, "png_base64": data})
    return figures


@functools.cache
def _template() -> jinja2.Template:
    """templates/report.html.j2, autoescaped: every value the page shows is escaped there."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2")


def render_report(
    results: Sequence[SimulationResult],
    labels: Sequence[str],
    comparison_rows: Sequence[dict[str, Any]] = (),
    title: str = "",
    plan_sentences: Sequence[str] = (),
) -> str:
    """The whole report page as HTML text (see :func:`write_report`)."""
    return _render(results, labels, comparison_rows, title, plan_sentences)[0]


def _render(
    results: Sequence[SimulationResult],
    labels: Sequence[str],
    comparison_rows: Sequence[dict[str, Any]],
    title: str,
    plan_sentences: Sequence[str] = (),
) -> tuple[str, dict[str, bytes | None]]:
    """The page and its plots (each run folded into hours of the day once)."""
    if not results:
        raise ValueError("a report needs at least one result")
    if len(results) != len(labels):
        raise ValueError(f"{len(results)} results but {len(labels)} labels")
    for res in results:
        plots.check_interval(res.interval_s)
    folded = [plots.hourly(res) for res in results]
    pngs = render_plots(results, labels, folded)
    title = title or " vs ".join(res.scenario.name for res in results)
    version = str(results[0].summary.get("meta", {}).get("version", ""))
    names = ", ".join(labels)
    seeds = sorted({res.scenario.seed for res in results})
    reps = sorted({len(res.replications) for res in results})
    sub = (
        f"{len(results)} scenario{'s' if len(results) > 1 else ''} ({names}); seed "
        f"{', '.join(map(str, seeds))}; {', '.join(map(str, reps))} replications each."
    )
    page = _template().render(
        title=title,
        sub=sub,
        version=version,
        notes=_unsettled_notes(results, labels),
        meta_rows=_meta_rows(results, labels),
        targets=_verdict_items(results, labels),
        classes=_headline_classes(results, labels),
        day_tables=_day_tables(results, labels),
        pool_rows=_pool_rows(results, labels),
        flow_tables=_flow_tables(results, labels),
        cost_rows=(cost_rows := _cost_rows(results, labels)),
        plan_sentences=list(plan_sentences) if cost_rows else [],
        comparison_rows=_comparison_rows(comparison_rows),
        figures=_figures(pngs),
    )
    return page, pngs


def write_report(
    path: Path,
    results: Sequence[SimulationResult],
    labels: Sequence[str],
    comparison_rows: Sequence[dict[str, Any]] = (),
    title: str = "",
    png_dir: Path | None = None,
    plan_sentences: Sequence[str] = (),
) -> Path:
    """Write report.html for ``results`` (one per scenario, named by ``labels``) to ``path``.

    ``comparison_rows`` are the rows of comparison.csv (keys ``metric, class, scenario_a,
    scenario_b, a_value, b_value, diff, diff_ci_low, diff_ci_high``; optional ``pool`` and
    ``significant``); leave it empty for a single scenario. ``title`` defaults to the scenario
    names. The wait-time plot needs the calls (``keep_calls=True``); without them the page says
    so instead. Same results, same bytes (no time stamp). Needs the ``report`` extra
    (matplotlib). With ``png_dir``, the plots are also written there as ``<stem>.png`` (stems
    as in :data:`PLOTS`). Returns ``path``.

    When a scenario has pay rates the page has a cost section (summary.json's ``cost``, each pool's
    cost a day) holding ``plan_sentences`` (what each plan buys and costs, as ``compare`` prints).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page, pngs = _render(results, labels, comparison_rows, title, plan_sentences)
    path.write_text(page, encoding="utf-8")
    if png_dir is not None:
        Path(png_dir).mkdir(parents=True, exist_ok=True)
        for stem, png in pngs.items():
            if png is not None:
                (Path(png_dir) / f"{stem}.png").write_bytes(png)
    return path


__all__ = [
    "PLOTS",
    "TargetVerdicts",
    "Verdict",
    "render_plots",
    "render_report",
    "target_verdicts",
    "verdicts",
    "write_report",
]
