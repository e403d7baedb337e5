"""Call status callbacks (POST /status): final status and duration, idempotent, and an older
event (lower SequenceNumber) never overwrites a newer state. Fields are parsed strictly
(`ivr.callflow.fields`): an out-of-range SequenceNumber, CallDuration or Timestamp is treated as absent."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import InternalServerError

from ivr import context
from ivr.callflow import fields
from ivr.callflow.signature import check_signature
from ivr.callflow.twiml import twiml_response

log = logging.getLogger(__name__)

bp = Blueprint("status", __name__, url_prefix="/status")
bp.before_request(check_signature)


@bp.post("")
def callback() -> Response:
    recorder = context.recorder()
    hasher = context.hasher()
    call_sid = fields.call_sid()
    raw_status = fields.text("CallStatus", 32).lower()
    if not raw_status:
        abort(400, description="a status callback without CallStatus")
    status = fields.known("CallStatus", raw_status, fields.CALL_STATUSES)
    sequence_number = fields.int_field("SequenceNumber")
    applied = recorder.write(
        "record_status",
        call_sid=call_sid,
        status=status,
        sequence_number=sequence_number,
        duration_s=fields.int_field("CallDuration"),
        timestamp=fields.timestamp(),
        caller_hash=hasher.hash(fields.text("From", 64)),
        now=context.now(),
    )
    log.info(
        "call %s status %s (seq %s)%s",
        call_sid,
        status,
        sequence_number,
        " ignored: a newer state is recorded" if applied is False else "",
    )
    return twiml_response(VoiceResponse())


@bp.errorhandler(InternalServerError)
def fallback(error: InternalServerError) -> Response:
    """A status callback never gets a 5xx (Twilio would only log it): an empty response."""
    log.exception("status callback failed", exc_info=error.original_exception)
    return twiml_response(VoiceResponse())
