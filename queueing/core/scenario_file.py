"""Reading a scenario: YAML (with line numbers) validated against the schema of
:mod:`queueing.core.scenario`.

A bad file raises :class:`~queueing.errors.ScenarioError` whose message names file, line, field
path and reason, one problem per line::

    baseline.yaml:14: classes.311.patience.mean: must be a duration > 0

Data that comes from no file (an override, a staffing answer, a sweep point) is validated by
:func:`validate_data`, its problems named by where the data came from instead of a line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from ..yamlsafe import YamlDocument, YamlInputError, format_path, read_yaml, read_yaml_file
from .distributions import DIST_NAMES
from .scenario import (
    Arrivals,
    Break,
    BreakRule,
    CallClass,
    Category,
    FieldError,
    Hours,
    Pool,
    PoolRates,
    RosterRules,
    Scenario,
    Shift,
    Staffing,
    Surge,
    Target,
)

Path_ = tuple[str | int, ...]

_ALL_KEYS = sorted(
    {
        field.alias or name
        for model in (
            Arrivals,
            Category,
            CallClass,
            Surge,
            Break,
            Shift,
            Hours,
            Pool,
            Staffing,
            Target,
            BreakRule,
            PoolRates,
            RosterRules,
            Scenario,
        )
        for name, field in model.model_fields.items()
    }
    | {"dist", "mean", "sd", "low", "high", "mode", "value", "values"}
)


def _stringify_keys(data: Any) -> Any:
    """YAML reads ``911:`` as an int; class names, categories and pools are names, so text."""
    if isinstance(data, dict):
        return {str(k): _stringify_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_stringify_keys(v) for v in data]
    return data


def _key_problems(data: Any, doc: YamlDocument, here: Path_ = ()) -> Iterator[str]:
    """Keys the schema would read as one name: ``"911 "`` beside ``"911"`` (names are stripped),
    ``Pothole`` beside ``pothole``. Either would silently merge two entries, or keep two where
    the planner meant one; each is refused with the lines of both."""
    if isinstance(data, dict):
        seen: dict[str, str] = {}
        where = format_path(here, most=len(here)) or "(top level)"
        for key in data:
            if not isinstance(key, str):
                continue
            line = doc.line_of((*here, key))
            if key != key.strip():
                fix = key.strip()
                yield f"{doc.source}:{line}: {where}: the key {key!r} begins or ends with spaces (write {fix!r})"
            same = key.strip().casefold()
            if same in seen and seen[same].strip() != key.strip():
                first = seen[same]
                yield (
                    f"{doc.source}:{line}: {where}: the key {key!r} is {first!r} (line {doc.line_of((*here, first))}) "
                    "written another way; give each name once"
                )
            seen.setdefault(same, key)
        for key, value in data.items():
            yield from _key_problems(value, doc, (*here, key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            yield from _key_problems(value, doc, (*here, k))


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Turn a pydantic ``loc`` into a path through the data, dropping union tags and model names."""
    path: list[str | int] = []
    here = data
    for part in loc:
        in_dict = isinstance(here, dict) and part in here
        in_list = isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)
        if in_dict or in_list:
            path.append(part)
            here = here[part]
        elif isinstance(here, dict) and part in _ALL_KEYS:
            path.append(part)  # a missing key: the field at fault
            here = None
        # anything else is a union member's tag or a model name: not part of the data's path
    return tuple(path)


# pydantic error types whose message needs nothing from the error's context
_FIXED_REASONS = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "union_tag_not_found": f"needs a 'dist' key, one of: {', '.join(DIST_NAMES)}",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float", "int_parsing_size"), "must be a whole number"),
    **dict.fromkeys(("float_type", "float_parsing"), "must be a number"),
    "finite_number": "must be a finite number (not .inf or .nan)",
    **dict.fromkeys(("string_type", "string_too_short"), "must be a non-empty text"),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "must be a mapping (key: value lines)"),
    "list_type": "must be a list",
    "too_short": "must not be empty",
}


def _bound(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


_BOUNDS = {  # pydantic's error type: the sign said and the key of its bound in the error's context
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _reason(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _FIXED_REASONS:
        return _FIXED_REASONS[kind]
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} entries, got {ctx.get('actual_length')}"
    if kind == "union_tag_invalid":
        return f"dist must be one of: {', '.join(DIST_NAMES)} (got {ctx.get('tag')!r})"
    if kind in _BOUNDS:
        sign, key = _BOUNDS[kind]
        return f"must be {sign} {_bound(ctx[key])}"
    if kind == "value_error":
        error = ctx.get("error")
        return str(getattr(error, "message", error))
    return str(err["msg"])


def _messages(exc: ValidationError, data: Any, doc: YamlDocument | None, source: str) -> Iterator[str]:
    for err in exc.errors():
        path = _data_path(data, tuple(err["loc"]))
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, FieldError):
            path = path + error.path
        reason = _reason(err)
        if err["type"] == "extra_forbidden" and path:
            close = difflib.get_close_matches(str(path[-1]), _ALL_KEYS, n=1)
            if close:
                reason += f"; did you mean {close[0]!r}?"
        if (
            err["type"] == "string_type"
            and isinstance(err.get("input"), int | float)
            and not isinstance(err.get("input"), bool)
        ):
            # `serves: [911, 311]`: YAML reads unquoted digits as numbers; class names are text
            reason += f'; quote it: "{err["input"]}"'
        where = f"{source}:{doc.line_of(path)}" if doc is not None else source
        yield f"{where}: {format_path(path, most=len(path))}: {reason}"


def validate_data(data: Any, source: str) -> Scenario:
    """Validate scenario data (as read from YAML); errors name ``source`` and the field path."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("\n".join(_messages(exc, data, None, source))) from None


def with_overrides(scenario: Scenario, **updates: Any) -> Scenario:
    """A validated copy of ``scenario`` with top-level fields replaced (``seed``,
    ``replications``...); None keeps a field, and ``scenario`` itself comes back when every one is
    None (nothing to validate again). Errors name the source ``override``."""
    if all(v is None for v in updates.values()):
        return scenario
    data = scenario.to_data()
    data.update({k: v for k, v in updates.items() if v is not None})
    return validate_data(data, "override")


def scenario_from_document(doc: YamlDocument) -> Scenario:
    """Validate a document read by :mod:`queueing.yamlsafe`; errors name its file and lines."""
    if not isinstance(doc.data, dict):
        raise ScenarioError(f"{doc.source}:1: a scenario must be a mapping of keys (name:, horizon:, classes: ...)")
    data = _stringify_keys(doc.data)
    problems = list(_key_problems(data, doc))
    if problems:
        raise ScenarioError("\n".join(problems))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("\n".join(_messages(exc, data, doc, doc.source))) from None


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text``; ``source`` names it in error messages."""
    try:
        doc = read_yaml(text, source)
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None
    return scenario_from_document(doc)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming file and line."""
    return load_scenario_document(path)[0]


def load_scenario_document(path: str | Path) -> tuple[Scenario, YamlDocument]:
    """The scenario of a file and the document it was read from (to name lines in later messages)."""
    try:
        doc = read_yaml_file(path)
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None
    return scenario_from_document(doc), doc
