"""What a POSTed service request's fields must be: text without control characters and within
its length, a location (lat + long, or address_string, or address_id), and attributes as the
service definition asks. Each check adds what is wrong to `errors`, so one answer names every
error of a request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from ivr.calllog.servicerequests import MAX_ADDRESS, MAX_DESCRIPTION
from ivr.menu import LIST_DATATYPES, Attribute, Category
from ivr.open311.w3cdatetime import format_w3c, parse_w3c

MAX_LINE = 1000  # a string attribute, an address_id, a list item

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


def clean(raw: str | None, max_len: int | None = None, *, lines: bool = False) -> str:
    """Text without control characters (line breaks kept when `lines`), stripped; too long is
    an error, not a silent cut."""
    text = _CONTROL.sub("", raw or "")
    if not lines:
        text = _LINE_BREAKS.sub(" ", text)
    text = text.strip()
    if max_len is not None and len(text) > max_len:
        raise ValueError(f"at most {max_len:,} characters")
    return text


def optional(source: Mapping[str, str], name: str) -> str | None:
    """An optional argument: empty (or only spaces) is the same as absent."""
    values = source.getlist(name)  # type: ignore[attr-defined]
    joined = ",".join(v for v in values if v.strip())
    return joined.strip() or None


def text(form: Mapping[str, str], name: str, max_len: int, errors: list[str], *, lines: bool = False) -> str:
    try:
        return clean(optional(form, name), max_len, lines=lines)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")
        return ""


def number(raw: str | None, name: str, low: float, high: float, errors: list[str]) -> float | None:
    try:
        value = float(clean(raw, 40))
    except ValueError:
        errors.append(f"{name}: not a number")
        return None
    if not math.isfinite(value) or not low <= value <= high:
        errors.append(f"{name}: must be between {low:g} and {high:g}")
        return None
    return value


def location(form: Mapping[str, str], errors: list[str]) -> dict[str, Any]:
    """lat + long, or address_string, or address_id (any of them; at least one)."""
    lat_raw, long_raw = optional(form, "lat"), optional(form, "long")
    out: dict[str, Any] = {"lat": None, "long": None}
    if (lat_raw is None) != (long_raw is None):
        errors.append("lat and long must be sent together")
    elif lat_raw is not None:
        out["lat"] = number(lat_raw, "lat", -90, 90, errors)
        out["long"] = number(long_raw, "long", -180, 180, errors)
    out["address"] = text(form, "address_string", MAX_ADDRESS, errors) or None
    out["address_id"] = text(form, "address_id", 128, errors) or None
    if lat_raw is None and long_raw is None and not out["address"] and not out["address_id"]:
        errors.append("a location is required: lat and long, or address_string, or address_id")
    return out


def attributes(form: Mapping[str, str], cat: Category, errors: list[str]) -> dict[str, Any]:
    """`attribute[code]=value`, and `attribute[code][]=v1&attribute[code][]=v2` for a
    multivaluelist, checked against the service definition."""
    sent: dict[str, list[str]] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match:
            given = [v for v in form.getlist(key) if v.strip()]  # type: ignore[attr-defined]
            if given:
                sent.setdefault(match.group(1), []).extend(given)
    defined = {a.code: a for a in cat.attributes}
    for code in sent:
        if code not in defined:
            errors.append(f"attribute[{clean(code)[:64]}]: service {cat.code} has no such attribute")
    out: dict[str, Any] = {}
    for attr in cat.attributes:
        values = sent.get(attr.code)
        if not values:
            if attr.required:
                errors.append(f"attribute[{attr.code}] is required: {attr.description}")
            continue
        value = _attribute_value(attr, values, errors)
        if value is not None:
            out[attr.code] = value
    return out


def _attribute_value(attr: Attribute, values: list[str], errors: list[str]) -> Any:
    name = f"attribute[{attr.code}]"
    if attr.datatype != "multivaluelist" and len(values) > 1:
        errors.append(f"{name}: one value only ({attr.datatype})")
        return None
    if attr.datatype in LIST_DATATYPES:
        keys = {v.key for v in attr.values}
        chosen = list(dict.fromkeys(clean(v)[:MAX_LINE] for v in values))
        bad = [v for v in chosen if v not in keys]
        if bad:
            errors.append(f"{name}: {bad[0][:40]!r} is not one of {', '.join(sorted(keys))}")
            return None
        return chosen if attr.datatype == "multivaluelist" else chosen[0]
    raw = values[0]
    checks: dict[str, Callable[[str], Any]] = {
        "string": lambda v: clean(v, MAX_LINE),
        "text": lambda v: clean(v, MAX_DESCRIPTION, lines=True),
        "number": lambda v: number(v, name, -1e15, 1e15, errors),
        "datetime": lambda v: format_w3c(parse_w3c(v)),
    }
    try:
        return checks[attr.datatype](raw)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")
        return None
