"""Twilio webhook authentication: `X-Twilio-Signature` over the public URL and the whole form.

Behind a tunnel or proxy the URL this server sees (http://127.0.0.1:5000/voice) is not the URL
Twilio signed (https://abc.trycloudflare.com/voice); IVR311_PUBLIC_BASE_URL replaces the scheme
and host, while the path and the query string are taken exactly as received.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from urllib.parse import quote

from flask import Request, Response, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from ivr import context

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
# Newer Twilio webhooks may be signed with HMAC-SHA256 and say so in this header.
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def signed_url(req: Request, public_base_url: str | None) -> str:
    """The URL Twilio requested, as it signed it."""
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        path_and_query = raw
    else:
        path_and_query = quote(req.script_root + req.path, safe="/%:@!$&'()*+,;=-._~")
        query = req.query_string.decode("latin-1")
        if query:
            path_and_query += "?" + query
    base = public_base_url.rstrip("/") if public_base_url else req.host_url.rstrip("/")
    return base + path_and_query


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def check_signature() -> Response | None:
    """`before_request` hook of every webhook blueprint: 403 and no TwiML unless signed.
    twilio's `RequestValidator.validate` does the checking (both port spellings, constant-time
    comparison, the algorithm named by the settings header); only the URL is ours to rebuild."""
    if request.routing_exception is not None:
        return None  # let Flask answer 404/405 for unknown routes and wrong methods
    settings = context.settings()
    if not settings.validate_signatures:
        return None
    signature = request.headers.get(SIGNATURE_HEADER, "")
    form = request.form  # reading the body enforces MAX_CONTENT_LENGTH (413)
    url = signed_url(request, settings.public_base_url)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = _validator(settings.twilio_auth_token or "")
    if signature and validator.validate(url, form, signature, algorithm):
        return None
    log.warning(
        "rejected webhook %s %s: %s signature",
        request.method,
        request.path,
        "bad" if signature else "missing",
    )
    return Response("Forbidden: invalid Twilio signature\n", status=403, mimetype="text/plain")
