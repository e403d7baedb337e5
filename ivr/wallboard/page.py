"""The wallboard's routes: the page (/wallboard, with its script and style under
/wallboard/static/) and its data (/wallboard/data, JSON), every one behind the token
(`ivr.wallboard.access`).

/wallboard/data answers within a bound whatever the database does: its reads run through a gate
of their own (`ivr.open311.apigate`: own engine and threads, at most `WALLBOARD_MAX_REQUESTS`
requests at once, `WALLBOARD_TIMEOUT_S` of waiting), and when the log cannot answer in time,
refuses, or has writes waiting in the journal (so it is behind the calls), the answer is
`{"stale": true, "reason": ...}` with status 503, and the page says its numbers are stale. One
answer serves every screen for `WALLBOARD_CACHE_S`; while the gate is busy a screen gets the
last answer if it is younger than `BUSY_REUSE_S`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as WerkzeugResponse

from ivr import context
from ivr.calllog.journal import Journal
from ivr.config import Settings
from ivr.errors import ConfigError
from ivr.open311.apigate import ApiGate, Busy, NoAnswer
from ivr.wallboard import access
from ivr.wallboard.board import read_board
from ivr.wallboard.nowcast import read_nowcast
from ivr.wallboard.targets import Target, load_targets

STATE = "ivr311.wallboard"
REFRESH_S = 10  # how often the page asks for its data (`WALLBOARD_REFRESH_S` in the app's config)
TIMEOUT_S = 2.0  # longest /wallboard/data waits on the database
MAX_REQUESTS = 2  # data requests at once per process (the rest of the threads are the webhooks')
CACHE_S = 2.0
BUSY_REUSE_S = 15.0
# The page's own rules: nothing but this server's script, style and data (no inline script).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

bp = Blueprint(
    "wallboard",
    __name__,
    url_prefix="/wallboard",
    template_folder="templates",
    static_folder="static",
)


@dataclass
class Wallboard:
    """The wallboard's state in one app: its gate, targets, day and the last answer."""

    gate: ApiGate
    targets: dict[str, tuple[Target, ...]]
    targets_source: str
    timezone: ZoneInfo
    nowcast_file: Path | None
    cache_s: float
    last: tuple[float, dict[str, Any]] | None = None  # (monotonic time, answer)
    lock: threading.Lock = field(default_factory=threading.Lock)


def wallboard_setup(settings: Settings) -> tuple[dict[str, tuple[Target, ...]], str, ZoneInfo]:
    """The targets, where they come from, and the time zone of the day. Raises `ConfigError` for
    a scenario or time zone that cannot serve (checked before the app starts, see `ivr._start`)."""
    targets, source = load_targets(settings.wallboard_scenario)
    try:
        timezone = ZoneInfo(settings.wallboard_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"IVR311_WALLBOARD_TIMEZONE={settings.wallboard_timezone!r}: not a time zone (e.g. UTC, America/Chicago)"
        ) from None
    return targets, source, timezone


def init_app(app: Flask) -> None:
    """Register the wallboard (every path 404s while no token is configured)."""
    settings = context.settings(app)
    targets, source, timezone = wallboard_setup(settings)
    store_engine = context.store(app).engine
    in_memory = store_engine.dialect.name == "sqlite" and store_engine.url.database in (None, "", ":memory:")
    gate = ApiGate(
        context.store(app).url,
        max_requests=int(app.config.get("WALLBOARD_MAX_REQUESTS", MAX_REQUESTS)),
        workers=int(app.config.get("WALLBOARD_MAX_REQUESTS", MAX_REQUESTS)),
        timeout_s=float(app.config.get("WALLBOARD_TIMEOUT_S", TIMEOUT_S)),
        name="wallboard",
        engine=store_engine if in_memory else None,  # no other engine would see that database
    )
    app.extensions[STATE] = Wallboard(
        gate=gate,
        targets=targets,
        targets_source=source,
        timezone=timezone,
        nowcast_file=settings.nowcast_file,
        cache_s=float(app.config.get("WALLBOARD_CACHE_S", CACHE_S)),
    )
    app.register_blueprint(bp)


def _state() -> Wallboard:
    found: Wallboard = current_app.extensions[STATE]
    return found


@bp.before_request
def _token() -> WerkzeugResponse | None:
    # behind a proxy that terminates TLS the request says https in X-Forwarded-Proto (a client
    # that lies only gets a cookie its browser keeps to https)
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    secure = request.is_secure or forwarded == "https"
    return access.check(request, context.settings().wallboard_token, secure=secure)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.get("")
def page() -> str:
    return render_template("wallboard.html", refresh_s=current_app.config.get("WALLBOARD_REFRESH_S", REFRESH_S))


@bp.get("/data")
def data() -> tuple[Response, int]:
    """The board's numbers (see the module docstring), or `{"stale": true}` within the bound."""
    board = _state()
    now = context.now()
    with board.lock:
        last = board.last
    if last is not None and time.monotonic() - last[0] < board.cache_s:
        return jsonify(last[1]), 200
    if not board.gate.admit():
        if last is not None and time.monotonic() - last[0] < BUSY_REUSE_S:
            return jsonify(last[1]), 200
        return _stale("the wallboard is busy: too many screens ask at once")
    try:
        answer = board.gate.run(_job(board, now))
    except (Busy, NoAnswer):
        return _stale("the call log does not answer")
    except (SQLAlchemyError, OSError):
        return _stale("the call log refused the query")
    finally:
        board.gate.leave()
    if answer.get("stale"):
        return jsonify(answer), 503
    with board.lock:
        board.last = (time.monotonic(), answer)
    return jsonify(answer), 200


def _job(board: Wallboard, now: datetime) -> Any:
    """The reads of one answer, for a gate thread (nothing of Flask's context in it)."""
    store = context.store()
    journal: Journal = context.recorder().journal
    shift_s = (now - store.machine_clock()).total_seconds()
    stale_s = context.wait_stale_s()
    local = now.astimezone(board.timezone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def job() -> dict[str, Any]:
        if _journal_pending(journal):
            return {"stale": True, "reason": "the call log is behind: writes wait in the journal"}
        queues = read_board(
            board.gate.engine, now=now, shift_s=shift_s, stale_s=stale_s, day_start=day_start, targets=board.targets
        )
        return {
            "stale": False,
            "now": now.isoformat(),
            "day_start": day_start.isoformat(),
            "timezone": str(board.timezone),
            "targets_from": Path(board.targets_source).name,
            "queues": queues,
            "agents": {
                "on_duty": None,
                "on_calls": sum(q["on_calls"] for q in queues),
                "note": "so at least this many on duty (call-takers are not in the log)",
            },
            "nowcast": read_nowcast(board.nowcast_file, now),
        }

    return job


def _journal_pending(journal: Journal) -> bool:
    """Whether writes wait in the journal; one that cannot be listed tells nothing of the log
    (and is the recorder's to report), so it is taken as empty, as the recorder takes it."""
    try:
        return journal.pending()
    except OSError:
        return False


def _stale(reason: str) -> tuple[Response, int]:
    answer = jsonify({"stale": True, "reason": reason})
    answer.headers["Retry-After"] = str(current_app.config.get("WALLBOARD_REFRESH_S", REFRESH_S))
    return answer, 503
