"""The console tables of the commands: plain text, columns aligned, estimates as ``mean ±half-width``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.durations import DAY_S, format_clock, format_duration
from ..core.rounding import apportion, printed_parts
from ..core.scenario import Scenario
from ..core.targets import window_noun

if TYPE_CHECKING:  # not at run time: the formulas bring scipy, a quarter second at start-up
    from ..theory.steady_state import Analysis


def clock_span(start_s: float, end_s: float) -> str:
    """A span of a day as a wall shows it: ``07:00–15:30``; ``23:00–07:30+1`` when it ends the
    next morning (``end_s`` past 24:00)."""
    tail = f"{format_clock(end_s - DAY_S)}+1" if end_s > DAY_S else format_clock(end_s)
    return f"{format_clock(start_s)}–{tail}"


def format_estimate(est: dict[str, Any] | None, scale: float = 1.0, digits: int = 1) -> str:
    """A summary.json estimate as ``value ±half-width`` (times ``scale``); - when unknown."""
    if est is None or est["value"] is None:
        return "-"
    v = est["value"] * scale
    lo, hi = est["ci95"]
    if lo is None:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ±{(hi - lo) * scale / 2:.{digits}f}"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))]
    for r in rows:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def windows_met(level: dict[str, Any]) -> str:
    """A summary.json service level's windows met: ``17 of 24 hours``."""
    judged = level["windows"]["judged"]
    return f"{level['windows']['met']} of {judged} {window_noun(level['over'], judged)}"


def format_summary(scenario: Scenario, summary: dict[str, Any]) -> str:
    """The table of ``simulate``: per class, then per target, then per pool."""
    meta = summary["meta"]
    head = (
        f"{meta['scenario']}: {meta['replications']} replications of "
        f"{format_duration(meta['horizon_s'])} (warm-up {format_duration(meta['warmup_s'])}), "
        f"seed {meta['seed']}; values are means ±95% CI half-width"
    )
    # calls arriving while no pool serving their class is open: a column only when a pool has hours
    with_hours = any(pool.hours is not None for pool in scenario.staffing.pools)
    rows = []
    for name in scenario.class_names():
        c = summary["classes"][name]
        w = c["wait_s"]
        closed = [format_estimate(c["closed"], digits=0)] if with_hours else []
        rows.append(
            [
                name,
                format_estimate(c["offered"], digits=0),
                format_estimate(c["answered"], digits=0),
                format_estimate(c["abandoned"]["share"], 100),
                format_estimate(c["unserved"], digits=0),
                *closed,
                format_estimate(w["mean"]),
                format_estimate(w["p90"]),
                format_estimate(w["p95"]),
            ]
        )
    columns = ["class", "offered", "answered", "abandoned %", "unserved", *(["closed"] if with_hours else [])]
    out = [head, "", format_table([*columns, "wait mean s", "wait p90 s", "wait p95 s"], rows)]
    trows = []
    for name in scenario.class_names():
        for sl in summary["classes"][name]["service_level"]:
            trows.append(
                [
                    name,
                    f"{sl['target'] * 100:g}% within {format_duration(sl['within_s'])}",
                    format_estimate(sl["share"], 100) + " %",
                    windows_met(sl),
                    "met" if sl["met"] else "NOT MET",
                ]
            )
    if trows:
        out += ["", format_table(["class", "target", "answered within", "windows met", "verdict"], trows)]
    cost = summary.get("cost")  # only with pay rates
    currency = cost["currency"] if cost else ""
    pools = summary["pools"]
    hours = printed_parts([v["agent_hours"]["value"] for v in pools.values()], cost and cost["paid_hours_per_day"])
    money = (
        printed_parts([v["cost_per_day"]["value"] for v in pools.values()], cost["per_day"]["value"], money=True)
        if cost
        else []
    )
    prows = [
        [
            p,
            format_estimate(v["utilization"], 100) + " %",
            f"{hours[k]:.0f}",
            format_estimate(v["overtime_h"]),
            *([_money_part(money[k], v["cost_per_day"], currency)] if cost else []),
        ]
        for k, (p, v) in enumerate(pools.items())
    ]
    pool_head = ["pool", "utilization", "agent-hours", "overtime h", *(["cost a day"] if cost else [])]
    out += ["", format_table(pool_head, prows)]
    if cost:
        out += ["", format_cost(cost)]
    flows = format_flows(scenario, summary)  # transfers, redials, callbacks, languages: when used
    if flows:
        out += ["", flows]
    if summary.get("days"):
        out += ["", format_days(scenario, summary)]
    return "\n".join(out)


FlowTable = tuple[str, list[str], list[list[str]]]  # (what it shows, its header, its rows)


def format_flows(scenario: Scenario, summary: dict[str, Any]) -> str:
    """The tables of the optional call flows a scenario uses (:func:`flow_tables`), one after the
    other; empty without."""
    return "\n\n".join(format_table(head, rows) for _, head, rows in flow_tables(scenario, summary))


def flow_tables(scenario: Scenario, summary: dict[str, Any]) -> list[FlowTable]:
    """The tables of the optional call flows a scenario uses (none without): transfers per class
    and per route, redials, callbacks, and each class's languages; values are means ±95% CI
    half-width, as in ``simulate``'s table (and the report's)."""
    from ..core.call_flows import flows_of, transfer_routes

    flows = flows_of(scenario)
    if not flows.any:
        return []
    classes = summary["classes"]
    names = scenario.class_names()
    out: list[FlowTable] = []
    if flows.transfers:
        rows = [
            [name, format_estimate(c["transfers"]["out"], digits=0), format_estimate(c["transfers"]["in"], digits=0),
             format_estimate(c["diverted"], digits=0), format_estimate(c["load_erlangs"], digits=2)]
            for name, c in ((n, classes[n]) for n in names)
        ]  # fmt: skip
        out.append(
            ("Transfers by class", ["class", "transferred out", "transferred in", "diverted", "agents busy"], rows)
        )
        rows = []
        for source, target in transfer_routes(scenario):
            t = summary["transfers"][source][target]
            rows.append([
                f"{source} to {target}", format_estimate(t["count"], digits=0),
                format_estimate(t["answered"], digits=0),
                format_estimate(t["abandoned"]["share"], 100), format_estimate(t["wait_before_s"]["mean"]),
                format_estimate(t["wait_after_s"]["mean"]), format_estimate(t["wait_total_s"]["mean"]),
                format_estimate(t["wait_total_s"]["p90"]),
            ])  # fmt: skip
        head = ["transfer", "calls", "answered", "abandoned %", "wait before s", "wait after s", "total wait s",
                "total p90 s"]  # fmt: skip
        out.append(("Transfers by route", head, rows))
    if flows.redials:
        rows = [
            [name, format_estimate(c["offered"], digits=0), format_estimate(c["callers"], digits=0),
             format_estimate(c["redials"]["count"], digits=0), format_estimate(c["redials"]["share"], 100)]
            for name, c in ((n, classes[n]) for n in names)
        ]  # fmt: skip
        out.append(("Redials", ["class", "offered", "callers", "redials", "redials %"], rows))
    if flows.callbacks:
        rows = []
        for name in names:
            cb = classes[name].get("callbacks")
            if cb is None:
                continue
            rows.append([
                name, format_estimate(cb["offered"], digits=0), format_estimate(cb["accepted"]["share"], 100),
                format_estimate(cb["unanswered"]["share"], 100), format_estimate(cb["wait_s"]["mean"]),
                format_estimate(cb["wait_s"]["p90"]),
            ])  # fmt: skip
        head = ["class", "callbacks offered", "accepted %", "unanswered %", "wait to callback s", "p90 s"]
        out.append(("Callbacks", head, rows))
    if flows.languages:
        rows = []
        for name in names:
            for lang, node in classes[name].get("languages", {}).items():
                levels = "; ".join(
                    f"{format_duration(sl['within_s'])}: {format_estimate(sl['share'], 100)} %"
                    for sl in node["service_level"]
                )
                rows.append([
                    name, lang, format_estimate(node["offered"], digits=0),
                    format_estimate(node["interpreter"], digits=0), format_estimate(node["wait_s"]["mean"]), levels,
                ])  # fmt: skip
        head = ["class", "language", "offered", "interpreter", "wait mean s", "answered within"]
        out.append(("Languages", head, rows))
    return out


MAX_DAY_ROWS = 14  # a longer run is shown by weekday: its days are in summary.json and daily.csv


def format_days(scenario: Scenario, summary: dict[str, Any]) -> str:
    """The per-day table under ``simulate``'s (a run longer than a day): per day, or per weekday
    past MAX_DAY_ROWS days, each class's calls offered, mean wait and share answered within each
    target, means over replications."""
    days = summary["days"]
    by_weekday = len(days) > MAX_DAY_ROWS
    if by_weekday:
        entries = summary["weekdays"]
        labels = [f"{e['weekday'].capitalize()} ({len(e['days'])} days)" for e in entries]
    else:
        entries = days
        labels = [f"{e.get('date') or 'day ' + str(e['day'])} ({e['weekday'].capitalize()})" for e in entries]
    head = ["weekday" if by_weekday else "day"]
    for name in scenario.class_names():
        head += [f"{name} offered", f"{name} wait s"]
        head += [f"{name} {format_duration(t.within)} %" for t in scenario.targets.get(name, [])]
    rows = []
    for label, entry in zip(labels, entries, strict=True):
        row = [label]
        for name in scenario.class_names():
            node = entry["classes"][name]
            row += [_mean(node["offered"], 1, 0), _mean(node["wait_s"]["mean"], 1, 1)]
            row += [_mean(sl["share"], 100, 1) + ("" if sl["met"] else " *") for sl in node["service_level"]]
        rows.append(row)
    what = "Per weekday (its days pooled, calls offered per day)" if by_weekday else "Per day"
    legend = [
        f"{what}; a call counts in the day it arrived. Means over replications: intervals in summary.json,",
        "each replication in daily.csv. <class> <T> %: answered within T of the calls offered; * below the target.",
    ]
    return "\n".join([*legend, format_table(head, rows)])


def _mean(est: dict[str, Any], scale: float, digits: int) -> str:
    """An estimate's value alone (``-`` when unknown): the per-day table leaves the intervals to the files."""
    return "-" if est["value"] is None else f"{est['value'] * scale:.{digits}f}"


def _money_part(value: Any, est: dict[str, Any] | None, currency: str) -> str:
    """A pool's cost a day in the column under the total: ``value`` (its share of the printed total)
    with the pool's own ± (``-`` when unknown)."""
    if est is None or value is None:
        return "-"
    return format_money_estimate({**est, "value": value}, currency)


def format_money_estimate(est: dict[str, Any] | None, currency: str) -> str:
    """A summary.json estimate of money as ``$8,412 ±34`` (``-`` when unknown)."""
    from ..core.metric_names import format_money

    if est is None or est["value"] is None:
        return "-"
    lo, hi = est["ci95"]
    value = format_money(est["value"], currency)
    decimals = 0 if abs(est["value"]) >= 100 else 2  # as format_money writes the value
    return value if lo is None else f"{value} ±{(hi - lo) / 2:,.{decimals}f}"


def format_cost(cost: dict[str, Any]) -> str:
    """The lines under ``simulate``'s table when the scenario has pay rates: summary.json's cost node."""
    from ..core.metric_names import format_money

    currency = cost["currency"]
    absent_h = cost.get("absent_hours_per_day", 0.0)
    away = f", {absent_h:,.0f} of them of agents away" if absent_h > 0 else ""
    lines = [
        f"cost a day              {format_money_estimate(cost['per_day'], currency)}  "
        f"({cost['paid_hours_per_day']:,.0f} paid agent-hours a day, breaks included{away}; "
        f"overtime {format_estimate(cost['overtime_hours_per_day'])} h a day)",
    ]
    if absent_h > 0 and cost["per_day"]["value"] is not None:
        # a breakdown of the one cost a day, not a second one: the two parts add up to it
        present, absent = apportion([cost["per_day"]["value"] - cost["absent_per_day"], cost["absent_per_day"]])
        lines.append(
            f"  of which              {format_money(present, currency)} agents present (overtime included), "
            f"{format_money(absent, currency)} agents away (shrinkage)"
        )
    lines.append(f"cost per answered call  {format_money_estimate(cost['per_answered_call'], currency)}")
    return "\n".join(lines)


def format_analysis(analysis: Analysis, summary: dict[str, Any] | None) -> str:
    """The tables of ``analytic``: per class the formula's answer, beside the simulated one if given."""
    headers = ["class", "pool", "model", "agents", "load erl", "wait mean s"]
    headers += ["simulated"] if summary else []
    rows, trows = [], []
    for a in analysis.answers:
        row = [a.name, a.pool, a.model, str(a.agents), f"{a.load_erlangs:.2f}", f"{a.mean_wait_s:.1f}"]
        if summary:
            row.append(format_estimate(summary["classes"][a.name]["wait_s"]["mean"]))
        rows.append(row)
        if a.p_abandon is not None:
            sim = format_estimate(summary["classes"][a.name]["abandoned"]["share"], 100) + " %" if summary else ""
            trows.append([a.name, "abandoned", f"{a.p_abandon * 100:.1f} %", "", sim])
        for i, (within, share, target) in enumerate(a.service_levels):
            level = summary["classes"][a.name]["service_level"][i]["share"] if summary else None
            sim = format_estimate(level, 100) + " %" if summary else ""
            trows.append(
                [
                    a.name,
                    f"{target * 100:g}% within {format_duration(within)}",
                    f"{share * 100:.1f} %",
                    "met" if share >= target else "NOT MET",
                    sim,
                ]
            )
    out = [format_table(headers, rows)]
    if trows:
        out += [
            "",
            format_table(
                ["class", "measure", "analytic", "verdict"] + (["simulated"] if summary else []),
                [r if summary else r[:4] for r in trows],
            ),
        ]
    return "\n".join(out)


def _pools_cost_shared_out(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``compare``'s rows with each pair's pools' cost a day (A, B and B - A) shared out of the
    centre's as printed (:func:`~queueing.core.rounding.printed_parts`): the pools' rows add up to
    the "all" row."""
    out = [dict(r) for r in rows]
    for pair in {(r["scenario_a"], r["scenario_b"]) for r in rows}:
        mine = [r for r in out if (r["scenario_a"], r["scenario_b"]) == pair]
        total = next((r for r in mine if r["metric"] == "cost.per_day"), None)
        parts = [r for r in mine if r["metric"] == "cost_per_day" and r["pool"]]
        if total is None or not parts:
            continue
        for field in ("a_value", "b_value", "diff"):
            shared = printed_parts([r[field] for r in parts], total[field], money=True)
            for r, v in zip(parts, shared, strict=True):
                r[field] = v
    return out


def format_comparison(rows: Sequence[dict[str, Any]]) -> str:
    """The table of ``compare``: paired differences, * marking one whose 95% CI excludes 0; shares in
    percent (differences in percentage points), as in the report."""
    from ..core.metric_names import display, format_value

    rows = _pools_cost_shared_out(rows)
    table = []
    for r in rows:
        m = r["metric"]
        money = r.get("currency")  # cost rows: the scenarios' currency

        def value(x: Any, diff: bool = False, m: str = m, money: str | None = money) -> str:
            return format_value(m, x, diff=diff, currency=money)

        ci = f"[{value(r['diff_ci_low'], True)}, {value(r['diff_ci_high'], True)}]"
        table.append(
            [
                r["class"] or r["pool"] or "all",
                display(m),
                r["scenario_a"],
                value(r["a_value"]),
                r["scenario_b"],
                value(r["b_value"]),
                value(r["diff"], True) + (" *" if r["significant"] else "  "),
                ci,
            ]
        )
    head = ["class/pool", "metric", "A", "A value", "B", "B value", "B - A", "95% CI (paired)"]
    return format_table(head, table) + "\n* the paired 95% interval excludes 0"


def format_sweep(settings: Sequence[Any], points: Sequence[Any], results: Sequence[Any]) -> str:
    """The table of ``sweep``: one row per grid point, per class mean wait and every service level
    (and, with transfers, the agents busy on its calls), per pool utilization; ``!`` marks a point
    where the queue did not settle."""
    from ..core.call_flows import flows_of
    from ..core.metric_names import display
    from ..core.settling import unsettled

    head = [s.name for s in settings]
    first = points[0].scenario
    busy = flows_of(first).transfers  # agents busy on each class's calls: the work transfers move
    for c in first.class_names():
        sl = [f"{display(f'service_level.{t.within:g}s', c)} %" for t in first.targets.get(c, [])]
        head += [f"{display('wait_s.mean', c)} s", *sl, *([display("load_erlangs", c)] if busy else [])]
    head += [f"{display('utilization', p.name)} %" for p in first.staffing.pools]
    rows = []
    flagged = False
    for point, result in zip(points, results, strict=True):
        row = [str(v) for v in point.values]
        if unsettled(point.scenario, result.summary):
            row[-1] += " !"
            flagged = True
        for c in first.class_names():
            node = result.summary["classes"][c]
            row.append(format_estimate(node["wait_s"]["mean"]))
            row += [format_estimate(sl["share"], 100) for sl in node["service_level"]]
            row += [format_estimate(node["load_erlangs"], digits=2)] if busy else []
        pools = result.summary["pools"]
        row += [
            format_estimate(pools[p.name]["utilization"], 100) if p.name in pools else "-" for p in first.staffing.pools
        ]
        rows.append(row)
    table = format_table(head, rows)
    return table + "\n! the queue does not settle at this point (see the warnings)" if flagged else table
