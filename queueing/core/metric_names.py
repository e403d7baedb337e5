"""One registry of the metrics people read: machine name (as in summary.json, comparison.csv and
sweep.csv), display name, unit, and how a value is written. Files keep machine names; every
human-facing output (console tables, report) shows the display name with its unit.

    >>> display("service_level.15s", "911")
    '911 answered within 15 s'
    >>> format_value("abandoned.share", 0.0574)
    '5.7%'
    >>> display("languages.es.wait_s.mean", "911")
    '911 mean wait (es callers)'
    >>> display("transfers.911.311.wait_total_s.mean")
    '911 to 311 transfers: mean wait in all'
    >>> format_value("cost.per_day", 1554.2, diff=True, currency="$")
    '+$1,554'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


def number_or_none(value: Any) -> float | None:
    """A float from a number or numeric text; None for missing, empty, NaN or non-numeric values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def format_plain(x: Any, digits: int = 3) -> str:
    """About ``digits`` significant digits, thousands separated, never scientific; '–' if missing."""
    v = number_or_none(x)
    if v is None:
        return "–"
    if v == 0 or math.isinf(v):
        return f"{v:g}"
    decimals = max(0, min(4, digits - 1 - math.floor(math.log10(abs(v)))))
    text = f"{v:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0", "-0.00", "-0.000", "-0.0000") else text


@dataclass(frozen=True)
class Metric:
    machine: str  # e.g. wait_s.p90, service_level.15s, utilization
    display: str  # e.g. "90th percentile wait"
    unit: str  # "s", "%" (a share of 1, shown in percent), "h", "money", or "" for counts


_FIXED = {
    "wait_s.mean": ("mean wait", "s"),
    "wait_s.p50": ("median wait", "s"),
    "wait_s.p90": ("90th percentile wait", "s"),
    "wait_s.p95": ("95th percentile wait", "s"),
    "wait_s.max": ("longest wait", "s"),
    "abandoned.share": ("hung up waiting", "%"),
    "utilization": ("utilization", "%"),
    "overtime_h": ("overtime", "h"),
    "agent_hours": ("agent-hours", "h"),
    "agent_hours_per_day": ("agent-hours a day", "h"),
    "offered": ("calls offered", ""),
    "answered": ("calls answered", ""),
    "unserved": ("calls unserved at the end", ""),
    "closed": ("calls while closed", ""),
    # transfers, redials, callbacks and languages (scenarios that use them: core/call_flows.py)
    "load_erlangs": ("agents busy on its calls", ""),
    "callers": ("callers", ""),
    "redials.count": ("redials", ""),
    "redials.share": ("calls that were redials", "%"),
    "transfers.out": ("calls transferred out", ""),
    "transfers.in": ("calls transferred in", ""),
    "diverted": ("calls diverted to it", ""),
    "callbacks.offered": ("callbacks offered", ""),
    "callbacks.accepted.share": ("callbacks accepted", "%"),
    "callbacks.unanswered.share": ("callbacks unanswered", "%"),
    "callbacks.wait_s.mean": ("mean wait to callback", "s"),
    "interpreter": ("calls with an interpreter", ""),
    "count": ("calls", ""),
    "wait_before_s.mean": ("mean wait before", "s"),
    "wait_after_s.mean": ("mean wait after", "s"),
    "wait_total_s.mean": ("mean wait in all", "s"),
    # cost (scenarios with pay rates): summary.json's cost node, and each pool's cost_per_day
    "cost.per_day": ("cost a day", "money"),
    "cost.per_answered_call": ("cost per answered call", "money"),
    "cost.paid_hours_per_day": ("paid agent-hours a day", "h"),
    "cost.overtime_hours_per_day": ("overtime hours a day", "h"),
    "cost_per_day": ("cost a day", "money"),
}
_SERVICE_LEVEL = re.compile(r"^service_level\.(\d+(?:\.\d+)?)s?$")
_LANGUAGE = re.compile(r"^languages\.([^.]+)\.(.+)$")  # a class's measure over its callers of one language
_ROUTE = re.compile(r"^transfers\.([^.]+)\.([^.]+)\.(.+)$")  # a transfer route's measure


def metric(machine: str) -> Metric:
    """The registry entry of ``machine``; an unknown name is shown as it is, without a unit."""
    if machine in _FIXED:
        display, unit = _FIXED[machine]
        return Metric(machine, display, unit)
    match = _SERVICE_LEVEL.match(machine)
    if match:
        return Metric(machine, f"answered within {match.group(1)} s", "%")
    match = _LANGUAGE.match(machine)
    if match:
        inner = metric(match.group(2))
        return Metric(machine, f"{inner.display} ({match.group(1)} callers)", inner.unit)
    match = _ROUTE.match(machine)
    if match:
        inner = metric(match.group(3))
        return Metric(machine, f"{match.group(1)} to {match.group(2)} transfers: {inner.display}", inner.unit)
    return Metric(machine, machine, "")


def display(machine: str, owner: str | None = None) -> str:
    """``911 answered within 15 s``, ``call-takers utilization``: the owner (class or pool) first."""
    name = metric(machine).display
    return f"{owner} {name}" if owner else name


def format_money(x: Any, currency: str = "", diff: bool = False) -> str:
    """An amount with its currency and thousands separators: whole units from 100 up, cents below
    (``$40,320``, ``$18.95``); ``+`` on positive differences; – when unknown. A one-character
    currency is written before the amount (``$12.00``), a longer one with a space (``CHF 12.00``).

    >>> format_money(-18.953, "€")
    '-€18.95'
    """
    v = number_or_none(x)
    if v is None:
        return "–"
    decimals = 0 if abs(v) >= 100 else 2
    text = f"{abs(v):,.{decimals}f}"
    if not text.strip("0.,"):
        v = 0.0  # -0.001 is written 0.00, without a sign
    sign = "-" if v < 0 else ("+" if diff and v > 0 else "")
    symbol = currency if len(currency) <= 1 else f"{currency} "
    return f"{sign}{symbol}{text}"


def format_value(machine: str, x: Any, diff: bool = False, currency: str | None = None) -> str:
    """A value of ``machine`` with its unit: shares in percent (differences in percentage points),
    seconds and hours with their unit, money with ``currency``, counts plain; – when unknown."""
    v = number_or_none(x)
    if v is None:
        return "–"
    unit = metric(machine).unit
    if unit == "money":
        return format_money(v, currency or "", diff)
    sign = "+" if diff and v > 0 else ""
    if unit == "%":
        return f"{sign}{v * 100:.1f}{' pp' if diff else '%'}"
    if unit:
        return f"{sign}{format_plain(v)} {unit}"
    return f"{sign}{format_plain(v)}"
