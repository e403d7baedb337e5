"""Outbound calls for callbacks: Twilio's REST API (`calls.create`), behind a time bound.

The agent line asks for a callback only when no 911 caller waits (`ivr.callflow.agent`), and
waits for Twilio at most `IVR311_REST_TIMEOUT_S` (5 s): the request runs on a thread of its
own and a slow or unreachable API is an attempt that failed (`rest-error`), retried like a
busy line. A request that timed out here may still have reached Twilio; its status callback
then names an earlier attempt and changes nothing (`ivr.calllog.holdlog`), at worst the
caller is called twice.

The app holds one `Dialer` (`install`, `current`); tests install a stand-in that records the
calls it is asked to place.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from flask import Flask

    from ivr.config import Settings

log = logging.getLogger(__name__)

DIALER = "ivr311.dialer"
RING_S = 30  # how long Twilio lets the callee's phone ring (calls.create timeout)
_pool = ThreadPoolExecutor(2, thread_name_prefix="ivr311-rest")


@dataclass(frozen=True)
class Outbound:
    """One callback attempt for Twilio to place."""

    to: str
    from_: str
    url: str  # the TwiML when the callee picks up (absolute)
    status_callback: str  # the final status of the attempt (absolute, signed by Twilio)


class Dialer(Protocol):
    def place(self, call: Outbound) -> str:
        """Ask Twilio to place `call`; returns the new call's sid. Raises on any failure."""
        ...


class TwilioDialer:
    """`calls.create` with the account's SID and token; no retries of its own (an attempt that
    fails is the callback's retry to make)."""

    def __init__(self, account_sid: str, auth_token: str, timeout_s: float) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s, max_retries=0))

    def place(self, call: Outbound) -> str:
        created = self.client.calls.create(
            to=call.to,
            from_=call.from_,
            url=call.url,
            method="POST",
            status_callback=call.status_callback,
            status_callback_method="POST",
            timeout=RING_S,
        )
        return str(created.sid)


def place_within(dialer: Dialer, call: Outbound, timeout_s: float) -> str | None:
    """The new call's sid, or None when the dialer failed or did not answer within `timeout_s`
    (logged, one line)."""
    pending = _pool.submit(dialer.place, call)
    try:
        return pending.result(timeout=timeout_s)
    except FutureTimeout:
        log.warning("callback: Twilio's REST API did not answer within %.1f s", timeout_s)
    except Exception as exc:  # the REST client's errors are many; each is a failed attempt
        why = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        log.warning("callback: Twilio's REST API refused the call: %s", why)
    return None


def install(app: Flask, dialer: Dialer | None) -> None:
    app.extensions[DIALER] = dialer


def for_settings(settings: Settings) -> Dialer | None:
    """Twilio's REST API when callbacks are configured, else None (no callback is offered)."""
    if not settings.callbacks_enabled:
        return None
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return TwilioDialer(settings.twilio_account_sid, settings.twilio_auth_token, settings.rest_timeout_s)


def current(app: Flask | None = None) -> Dialer | None:
    from flask import current_app

    found: Dialer | None = (app if app is not None else current_app).extensions.get(DIALER)
    return found
