"""The now-cast on the wallboard: the JSON file `ivr311 nowcast` writes (IVR311_NOWCAST_FILE),
read as it is at each refresh, and the part of it that lies in the next two hours.

The file: `{"generated_at": ISO time, "intervals": [{"start": ISO time, "class": "911",
"p_target_met": 0-1, "wait_mean_s", "wait_lo_s", "wait_hi_s", "queue_mean", "queue_lo",
"queue_hi"}, ...]}`; a number may be null (nothing to say), a time without an offset is UTC.
The wallboard says "no now-cast" when the file is missing or is not that, and how old it is once
it is older than `STALE_S`.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HORIZON = timedelta(hours=2)
INTERVAL = timedelta(minutes=15)  # the now-cast's grid: an interval started this long ago still runs
STALE_S = 15 * 60.0  # older than this, the board says how old
MAX_BYTES = 1024 * 1024
NUMBERS = ("p_target_met", "wait_mean_s", "wait_lo_s", "wait_hi_s", "queue_mean", "queue_lo", "queue_hi")


def read_nowcast(path: Path | None, now: datetime) -> dict[str, Any]:
    """What the board shows of the now-cast at `now` (UTC-aware): `status` (ok, stale, missing,
    invalid), `message` (one line for the screen), `age_s` and the `intervals` running now or
    starting within the next two hours, oldest first, with ISO times and numbers or null."""
    if path is None:
        return _none("missing", "no now-cast (IVR311_NOWCAST_FILE is not set)")
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return _none("missing", "no now-cast (no file yet)")
    except OSError as exc:
        return _none("invalid", f"no now-cast (cannot read the file: {exc.strerror or exc})")
    if len(raw) > MAX_BYTES:
        return _none("invalid", "no now-cast (the file is over 1 MB)")
    try:
        data = json.loads(raw)
        generated = _when(data["generated_at"])
        intervals = [_interval(item) for item in data["intervals"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return _none("invalid", "no now-cast (the file is not a now-cast)")
    age_s = max(0.0, (now - generated).total_seconds())
    shown = [
        {**item, "start": item["start"].isoformat()}
        for item in sorted(intervals, key=lambda i: (i["start"], i["class"]))
        if now - INTERVAL < item["start"] < now + HORIZON
    ]
    minutes = int(age_s // 60)
    stale = age_s > STALE_S
    return {
        "status": "stale" if stale else "ok",
        "message": f"now-cast {minutes} minutes old" if stale else f"now-cast from {minutes} min ago",
        "generated_at": generated.isoformat(),
        "age_s": round(age_s),
        "intervals": shown,
    }


def _none(status: str, message: str) -> dict[str, Any]:
    return {"status": status, "message": message, "generated_at": None, "age_s": None, "intervals": []}


def _when(text: Any) -> datetime:
    """An ISO 8601 time; one without an offset is UTC, as everywhere in ivr311."""
    when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _interval(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"start": _when(item["start"]), "class": str(item["class"])}
    for name in NUMBERS:
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not math.isfinite(float(value))):
            raise ValueError(f"{name}: not a number")
        out[name] = None if value is None else float(value)
    return out
