"""Call status callbacks (POST /status): final status and duration, idempotent, and an older
event (lower SequenceNumber) never overwrites a newer state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from ivr.signature import check_signature
from ivr.store import CallStore
from ivr.twiml import twiml_response

log = logging.getLogger(__name__)

bp = Blueprint("status", __name__, url_prefix="/status")
bp.before_request(check_signature)


def _int(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _timestamp(raw: str) -> datetime | None:
    """Twilio's Timestamp is RFC 2822 (`Tue, 14 May 2024 10:00:00 +0000`)."""
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@bp.post("")
def callback() -> Response:
    store: CallStore = current_app.extensions["ivr311.store"]
    call_sid = request.form.get("CallSid", "").strip()
    status = request.form.get("CallStatus", "").strip().lower()[:32]
    if not call_sid or len(call_sid) > 64 or not status:
        abort(400)
    applied = store.record_status(
        call_sid,
        status,
        sequence_number=_int("SequenceNumber"),
        duration_s=_int("CallDuration"),
        timestamp=_timestamp(request.form.get("Timestamp", "").strip()),
        caller_hash=store.caller_hash(request.form.get("From")),
        now=current_app.extensions["ivr311.clock"](),
    )
    log.info(
        "call %s status %s (seq %s)%s", call_sid, status, request.form.get("SequenceNumber"),
        "" if applied else " ignored: a newer state is recorded",
    )
    return twiml_response(VoiceResponse())
