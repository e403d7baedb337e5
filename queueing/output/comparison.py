"""What ``compare`` says of each plan against the first, in one sentence: the agent-hours a day it
adds, the money, and in how many of its windows (hours, days...) each target is met (printed, and in
the report)."""

from __future__ import annotations

from typing import Any

from ..core.cost import agent_hours_per_day, is_costed
from ..core.metric_names import format_money
from ..core.runner import SimulationResult
from ..core.targets import window_noun
from ..planning.compare import WindowsMet, windows_met


def _target(h: WindowsMet) -> str:
    return f"{h.class_name} {h.share * 100:g}%/{h.within_s:g} s"


def plan_sentence(
    a: SimulationResult,
    b: SimulationResult,
    label_a: str,
    label_b: str,
) -> str:
    """What plan B buys and costs against plan A, in one sentence, e.g. ``B vs A: +37 agent-hours a
    day, +$1,554 a day (+$0.61 per answered call), 911 90%/15 s met in 24 of 24 hours instead of
    5``. Agent-hours a day on duty come from the schedules; the cost from the summaries (only when
    both plans have pay rates); windows met from :func:`windows_met` (as summary.json's ``met`` and the
    report's verdicts count them), for the targets both plans set."""
    hours = agent_hours_per_day(b.scenario) - agent_hours_per_day(a.scenario)
    parts = [
        f"{_signed(hours)} agent-hours a day" if abs(hours) >= 0.05 else "the same agent-hours a day",
    ]
    rated = [is_costed(r.scenario) for r in (a, b)]
    if all(rated):
        ca, cb = a.summary["cost"], b.summary["cost"]
        currency = cb["currency"] if ca["currency"] == cb["currency"] else ""
        day = _diff(ca["per_day"], cb["per_day"])
        call = _diff(ca["per_answered_call"], cb["per_answered_call"])
        per_call = format_money(call, currency, diff=True)
        parts.append(f"{format_money(day, currency, diff=True)} a day ({per_call} per answered call)")
    elif any(rated):
        parts.append(f"cost not compared (only {label_a if rated[0] else label_b} has pay rates)")
    mine = {(h.class_name, h.within_s, h.share, h.over): h for h in windows_met(a)}
    for h in windows_met(b):
        before = mine.get((h.class_name, h.within_s, h.share, h.over))
        if before is None:
            continue
        was = f"{before.met}" if before.judged == h.judged else f"{before.met} of {before.judged}"
        noun = window_noun(h.over, h.judged)
        parts.append(f"{_target(h)} met in {h.met} of {h.judged} {noun} instead of {was}")
    return f"{label_b} vs {label_a}: " + ", ".join(parts)


def _signed(x: float) -> str:
    """+19.5, +37, -2: tenths, without a trailing .0."""
    text = f"{x:+,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _diff(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """b - a of two summary estimates (None when either is unknown)."""
    if a["value"] is None or b["value"] is None:
        return None
    return float(b["value"]) - float(a["value"])
