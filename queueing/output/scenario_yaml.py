"""Scenario files the commands write (staffing.yaml, roster.yaml, calibrate's scenario), in the
style planners write them: durations with units (``30m``, ``8h30m``; shift times, opening hours
and the working week in hours, ``27h``, ``40h``), a mapping or list of plain values on one line
(``{dist: lognormal, mean: 4m, sd: 2m}``, ``[8h30m, 10h30m]``, ``weekdays: {mon: 1.06}``, a
shift's ``days: [mon, tue]``), but a mapping holding a day's 24 rates one key a line
(``profile_per_hour:``, each date of ``special_days``, each weekday of ``profile_per_weekday``).
Dates as dates (``start_date: 2026-12-07``). A duration a unit would round stays a plain number
of seconds, so a file read back is the same scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..core.distributions import NonNegativeDuration, PositiveDuration
from ..core.durations import format_duration, format_shift_time
from ..core.scenario import Hours, LineHours, RosterRules, Scenario, Shift

WIDTH = 110  # characters before a one-line list wraps
DURATIONS_NOTE = (
    "Durations: 7h30m, 4m, 15s; shift times are hours past midnight (27h = 03:00 the next morning);",
    "a bare number is seconds.",
)

_DURATION_CHECKS = {m.func for t in (PositiveDuration, NonNegativeDuration) for m in get_args(t)[1:]}
# written in hours (27h, 40h), not days: times of day and the working week
_HOUR_FIELDS = {
    (Shift, "start"), (Shift, "end"), (Hours, "open"), (Hours, "close"), (RosterRules, "weekly_hours"),
    (LineHours, "min"), (LineHours, "max"),
}  # fmt: skip


def _has_duration(annotation: Any) -> bool:
    """Whether a type annotation is a duration or holds durations (``list[PositiveDuration]``...)."""
    if get_origin(annotation) is Annotated:
        kind, *meta = get_args(annotation)
        return any(getattr(m, "func", None) in _DURATION_CHECKS for m in meta) or _has_duration(kind)
    return any(_has_duration(a) for a in get_args(annotation))


def _is_duration(info: FieldInfo) -> bool:
    return any(getattr(m, "func", None) in _DURATION_CHECKS for m in info.metadata) or _has_duration(info.annotation)


def planner_duration(seconds: float, hours: bool = False) -> str | float:
    """A duration as a planner writes it (``4m``, ``1h30m``; ``hours``: no days, ``27h``, ``40h``),
    or the plain number of seconds when a unit would round it. Parses back to the same float."""
    if seconds != int(seconds):
        return seconds
    if hours and seconds % 60 == 0:
        return format_shift_time(seconds)
    return format_duration(seconds)


class _FlowMap(dict[str, Any]):
    """A mapping written on one line (``{start: 7h, end: 15h30m, agents: 5}``)."""


class _FlowList(list[Any]):
    """A list written on one line (``[8h30m, 10h30m]``)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _scalar(item: Any) -> bool:
    return not isinstance(item, dict | list)


LONG_LIST = 12  # items: a list longer than this (24 hourly rates) gets a line of its own


def _plain(item: Any) -> bool:
    """Whether a value fits on a mapping's one line: a scalar, or a short list of scalars."""
    return _scalar(item) or (isinstance(item, list) and len(item) <= LONG_LIST and all(map(_scalar, item)))


def planner_data(value: Any) -> Any:
    """A scenario (or any part of it) as plain data for YAML, durations as planners write them:
    like ``Scenario.to_data()`` (aliases, no None), with units instead of seconds. A mapping or
    list of scalars (a distribution, a target, a shift and its breaks) is written on one line.
    Plain data (a fitted distribution) is taken as it is: its numbers stay numbers."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if item is None:
                continue
            if _is_duration(info):
                hours = (type(value), name) in _HOUR_FIELDS
                item = (
                    _FlowList(planner_duration(x) for x in item)
                    if isinstance(item, list)
                    else planner_duration(item, hours)
                )
            else:
                item = planner_data(item)
            out[info.alias or name] = item
        if isinstance(value, Shift) and "days" in out:  # as a line reads: Mon-Fri 07:00-15:30, break 11:00
            out = {k: out[k] for k in ("start", "end", "agents", "absent", "days", *out) if k in out}
        return _FlowMap(out) if all(map(_plain, out.values())) or isinstance(value, Shift) else out
    if isinstance(value, dict):
        items = {k: planner_data(v) for k, v in value.items()}
        return _FlowMap(items) if items and all(map(_plain, items.values())) else items
    if isinstance(value, list | tuple):
        listed = [planner_data(v) for v in value]
        return _FlowList(listed) if all(map(_scalar, listed)) else listed
    return value


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=WIDTH)


def scenario_yaml(scenario: Scenario, comments: Sequence[str] = ()) -> str:
    """A whole scenario file: ``comments`` (each line behind ``# ``), then the scenario."""
    return "".join(f"# {line}\n" for line in comments) + _dump(planner_data(scenario))


def scalar(value: str | float) -> str:
    """A scalar as :func:`scenario_yaml` writes it (``'911'`` quoted: it would read as a number)."""
    return _dump(value).removesuffix("\n...\n").strip()


def entry(key: str, value: Any, indent: int = 0) -> list[str]:
    """The lines of ``key: value`` (a part of a scenario, or plain data) as :func:`scenario_yaml`
    writes it, ``indent`` spaces in: for a file written part by part, with comments between."""
    pad = " " * indent
    return [pad + line for line in _dump({key: planner_data(value)}).splitlines()]
