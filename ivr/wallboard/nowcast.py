"""The now-cast on the wallboard: the JSON file `ivr311 nowcast` writes (IVR311_NOWCAST_FILE),
read as it is at each refresh, and the part of it that lies in the next two hours.

The file: `{"generated_at": ISO time, "intervals": [{"start": ISO time, "class": "911",
"p_target_met": 0-1, "wait_mean_s", "wait_lo_s", "wait_hi_s", "queue_mean", "queue_lo",
"queue_hi"}, ...]}`; a number may be null (nothing to say), a time without an offset is UTC.
When the file has them, `interval_s` is its grid and `state.on_duty` (pool -> agents, at `at`)
the agents on duty by the roster, which the call log cannot tell.
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
INTERVAL = timedelta(minutes=15)  # the grid when the file gives none: an interval started this long ago still runs
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
    interval = _seconds(data.get("interval_s")) or INTERVAL
    shown = [
        {**item, "start": item["start"].isoformat()}
        for item in sorted(intervals, key=lambda i: (i["start"], i["class"]))
        if now - interval < item["start"] < now + HORIZON
    ]
    minutes = int(age_s // 60)
    stale = age_s > STALE_S
    return {
        "status": "stale" if stale else "ok",
        "message": f"now-cast {minutes} minutes old" if stale else f"now-cast from {minutes} min ago",
        "generated_at": generated.isoformat(),
        "age_s": round(age_s),
        "intervals": shown,
        "on_duty": _on_duty(data),
    }


def _seconds(value: Any) -> timedelta | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 86400
    return timedelta(seconds=value) if ok else None


def _on_duty(data: dict[str, Any]) -> dict[str, Any] | None:
    """The agents on duty by the roster when the now-cast was made (`state.on_duty`: pool ->
    agents, and `at`), or None when the file does not say."""
    state = data.get("state")
    pools = state.get("on_duty") if isinstance(state, dict) else None
    if not isinstance(pools, dict) or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in pools.values()
    ):
        return None
    try:
        at = _when(data["at"]).isoformat()
    except (KeyError, ValueError, TypeError):
        at = None
    return {"at": at, "pools": {str(pool): n for pool, n in pools.items()}}


def _none(status: str, message: str) -> dict[str, Any]:
    return {
        "status": status,
        "message": message,
        "generated_at": None,
        "age_s": None,
        "intervals": [],
        "on_duty": None,
    }


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
