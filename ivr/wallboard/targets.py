"""The service-level targets the wallboard judges today's calls by: a scenario's `targets:` (read
with the safe YAML reader, nothing else of the model), or the defaults, per queue.

A queue takes the scenario's targets for the class of its name ("911", "311") when the scenario
gives that class any, else the default. A target's `over` (the window the model judges it in) is
not used: the wallboard has one window, today so far.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.errors import ConfigError
from ivr.menu import QUEUE_311, QUEUE_911
from queueing.yamlsafe import YamlDocument, YamlInputError, read_yaml_file


@dataclass(frozen=True)
class Target:
    """`share` (0-1) of the calls offered answered within `within_s` seconds."""

    within_s: float
    share: float


QUEUES = (QUEUE_911, QUEUE_311)
DEFAULTS: dict[str, tuple[Target, ...]] = {
    QUEUE_911: (Target(15.0, 0.90),),  # NENA's 90% within 15 s
    QUEUE_311: (Target(60.0, 0.80),),
}
# A duration as scenarios write it: 15s, 1m30s, 2h or plain seconds (the model's grammar, less days:
# a wait target is never a day).
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_WHOLE = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*[hms])+\s*$")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0}


def load_targets(path: Path | None) -> tuple[dict[str, tuple[Target, ...]], str]:
    """Each queue's targets and where they come from (the scenario's path, or "default").
    Raises `ConfigError` (one line, `file:line: field: reason`) for a file that cannot serve."""
    if path is None:
        return dict(DEFAULTS), "default"
    try:
        doc = read_yaml_file(path)
    except YamlInputError as exc:
        raise ConfigError(f"IVR311_WALLBOARD_SCENARIO: {exc}") from None
    given = doc.data.get("targets") if isinstance(doc.data, dict) else None
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise _error(doc, ("targets",), "must be a mapping of class to a list of targets")
    found = dict(DEFAULTS)
    for queue in QUEUES:
        items = given.get(queue, given.get(int(queue)))  # "911" or 911: YAML reads an unquoted key as a number
        if items:
            found[queue] = _targets(doc, queue, items)
    return found, str(path)


def _targets(doc: YamlDocument, queue: str, items: Any) -> tuple[Target, ...]:
    if not isinstance(items, list):
        raise _error(doc, ("targets", queue), "must be a list of {within, share}")
    out = []
    for i, item in enumerate(items):
        where = ("targets", queue, i)
        if not isinstance(item, dict) or "within" not in item or "share" not in item:
            raise _error(doc, where, "must be a mapping with within and share")
        share = item["share"]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise _error(doc, (*where, "share"), f"must be a number in (0, 1], got {share!r}")
        within = duration_s(item["within"])
        if within is None:
            raise _error(doc, (*where, "within"), f"must be a duration like 15s or 1m, got {item['within']!r}")
        out.append(Target(within, float(share)))
    return tuple(out)


def duration_s(value: Any) -> float | None:
    """`value` (15, "15s", "1m30s") in seconds, or None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and _WHOLE.match(value):
        seconds = sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(value))
    else:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _error(doc: YamlDocument, path: tuple[str | int, ...], reason: str) -> ConfigError:
    return ConfigError(f"IVR311_WALLBOARD_SCENARIO: {doc.error(path, reason)}")
