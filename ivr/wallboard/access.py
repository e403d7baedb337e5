"""Who may see the wallboard: whoever holds its token (IVR311_WALLBOARD_TOKEN).

Without a token configured the wallboard does not exist (404 on every path under /wallboard).
With one, a request shows it in an `Authorization: Bearer <token>` header, or in the cookie a
wall screen is given once: opening `/wallboard?token=<token>` sets the cookie and redirects to
`/wallboard`, so the token leaves the address bar (and the screen). The cookie holds a keyed hash
of the token, never the token itself; changing the token logs every screen out. A wrong or missing
token is a 403. Every comparison is in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Request, abort, redirect
from werkzeug.wrappers import Response

COOKIE = "ivr311_wallboard"
COOKIE_MAX_AGE_S = 365 * 24 * 3600  # a wall screen stays logged in through reboots
_COOKIE_PURPOSE = b"ivr311 wallboard cookie"


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), _COOKIE_PURPOSE, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def check(request: Request, token: str | None, *, secure: bool) -> Response | None:
    """None when `request` may see the wallboard; else aborts (404: no wallboard, 403: wrong or
    no token), or answers the redirect that sets the cookie from `?token=`."""
    if token is None:
        abort(404)
    if "token" in request.args:
        if not _same(request.args.get("token", ""), token):
            abort(403, "wrong wallboard token")
        answer = redirect(request.path, code=303)
        answer.set_cookie(
            COOKIE,
            cookie_value(token),
            max_age=COOKIE_MAX_AGE_S,
            path="/wallboard",
            httponly=True,
            samesite="Strict",
            secure=secure,
        )
        return answer
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _same(given.strip(), token):
        return None
    if _same(request.cookies.get(COOKIE, ""), cookie_value(token)):
        return None
    abort(403, "the wallboard needs its token: open /wallboard?token=... once on this screen")
