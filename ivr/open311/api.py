"""Open311 GeoReport v2 under /open311/v2/: the menu's categories as services, and the service
requests that calls (and API clients) create.

Every resource answers in `.json` or `.xml` (any other suffix is a 404); errors have the spec's
shape (a list of `code` + `description`): 404 for a resource that does not exist, 403 for a
missing or wrong api_key, 400 for anything else, including a database that refuses ("any failure
during create request processing, eg CRM is down"), and 503 with Retry-After when the API is
busy or the database does not answer in time (`ivr.open311.apigate`: the API shares the server with the
voice webhooks, so it waits on nothing without a bound and never takes every thread). An
optional argument sent empty is treated as absent. Only POST requires an api_key (from
`IVR311_OPEN311_API_KEYS`, comma-separated, compared in constant time), in the form body or the
`X-Api-Key` header; a URL carrying one is refused on every endpoint (URLs land in logs).

The public list comes in pages (`page`, `page_size`; a `Link` header names the next one) and
publishes what the city knows, not what callers said: a request made by a call shows its
category, status, address and times, never the caller's words (its description); staff publish
what they choose through `status_notes`. Simulated callers' requests are never shown. The
OpenAPI description of these endpoints is served at /open311/v2/openapi.json (from
`ivr/open311/open311.yaml`).

What a POSTed request's fields must be is `ivr.open311.fields`; the table and the bounds live
in `ivr.calllog.servicerequests` and `ivr.open311.apigate`.
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import yaml
from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from ivr import context
from ivr.calllog.servicerequests import MAX_DESCRIPTION, MAX_RESULTS, STATUSES, ServiceRequests
from ivr.calllog.store import utcnow
from ivr.menu import Category, Menu
from ivr.open311 import apigate, fields
from ivr.open311.apigate import ApiGate, Busy, NoAnswer
from ivr.open311.fields import MAX_LINE, clean
from ivr.open311.spark import FORMATS, Many, render
from ivr.open311.w3cdatetime import format_w3c, parse_w3c

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
OPENAPI_PATH = Path(__file__).with_name("open311.yaml")
# The API's own state in `app.extensions` (the app's shared state is `ivr.context`).
KEYS = "ivr311.open311_keys"
GATE = "ivr311.open311_gate"
REQUESTS = "ivr311.open311_requests"
WINDOW = timedelta(days=90)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200  # a page is at most this many requests; a query, at most MAX_RESULTS
MAX_IDS = MAX_PAGE_SIZE
MAX_URL = 1024

bp = Blueprint("open311", __name__, url_prefix=PREFIX)
T = TypeVar("T")


class ApiError(Exception):
    """One or more errors in the spec's shape, answered with `status`."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions


def init_app(app: Flask) -> None:
    """Register the API; its keys are the settings' `open311_api_keys` (IVR311_OPEN311_API_KEYS).
    It reads and writes the call log's database through a gate of its own (`ivr.open311.apigate`: its
    own engine and threads, bounded); `OPEN311_MAX_REQUESTS`, `OPEN311_DB_WORKERS` and
    `OPEN311_TIMEOUT_S` in the app's config change the gate's bounds."""
    settings = context.settings(app)
    store_engine = context.store(app).engine
    in_memory = store_engine.dialect.name == "sqlite" and store_engine.url.database in (None, "", ":memory:")
    gate = ApiGate(
        context.store(app).url,
        max_requests=int(app.config.get("OPEN311_MAX_REQUESTS", apigate.MAX_REQUESTS)),
        workers=int(app.config.get("OPEN311_DB_WORKERS", apigate.WORKERS)),
        timeout_s=float(app.config.get("OPEN311_TIMEOUT_S", apigate.TIMEOUT_S)),
        engine=store_engine if in_memory else None,  # no other engine would see that database
    )
    app.extensions[KEYS] = settings.open311_api_keys
    app.extensions[GATE] = gate
    app.extensions[REQUESTS] = ServiceRequests(gate.engine)
    app.register_blueprint(bp)


@bp.before_request
def _admit() -> None:
    """A key in the URL is refused before anything else; then a request slot, or 503 at once."""
    if any(v.strip() for v in request.args.getlist("api_key")):
        raise ApiError(
            403,
            "api_key is refused in the URL (URLs are logged): "
            "send it in the POST body (api_key) or in the X-Api-Key header",
        )
    if not gate().admit():
        raise Busy("too many API requests at once")
    g.open311_admitted = True


@bp.teardown_request
def _leave(_exc: BaseException | None) -> None:
    if g.pop("open311_admitted", False):
        gate().leave()


# -- helpers -------------------------------------------------------------------------------


def gate(app: Flask | None = None) -> ApiGate:
    """The API's gate (its engine, threads and bounds), of the current app or of ``app``."""
    found: ApiGate = (app if app is not None else current_app).extensions[GATE]
    return found


def _db(job: Callable[[ServiceRequests], T]) -> T:
    """`job` on the API's own engine, on the gate's threads, within its bound."""
    requests: ServiceRequests = current_app.extensions[REQUESTS]
    return gate().run(lambda: job(requests))


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApiError(404, f"unknown format {fmt[:20]!r}: use .json or .xml")
    return fmt


def _split(name: str) -> tuple[str, str]:
    """`pothole.json` -> (`pothole`, `json`); no suffix or another one is a 404."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or not stem:
        raise ApiError(404, "add .json or .xml to the resource")
    return stem, _format(fmt)


def _arg(name: str, source: Mapping[str, str] | None = None) -> str | None:
    """An optional argument of the query (or of `source`, a form)."""
    return fields.optional(request.args if source is None else source, name)


def _list_arg(name: str, max_items: int = MAX_IDS) -> list[str] | None:
    raw = _arg(name)
    if raw is None:
        return None
    items = [clean(item)[:MAX_LINE] for item in raw.split(",")]
    items = [item for item in items if item]
    if len(items) > max_items:
        raise ApiError(400, f"{name}: at most {max_items} values")
    return items or None


def _service_name(cat: Category, lang: str) -> str:
    label = cat.label[lang]
    return label[:1].upper() + label[1:]


def _category(code: str) -> Category | None:
    return next((c for c in context.menu().categories if c.code == code), None)


# -- errors --------------------------------------------------------------------------------


def _error_format() -> str:
    return "json" if request.path.rstrip("/").endswith(".json") else "xml"


def _errors(status: int, descriptions: Iterable[str]) -> Response:
    items = [{"code": status, "description": d} for d in descriptions]
    return render(_error_format(), "errors", Many("error", items), status)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return _errors(exc.status, exc.descriptions)


@bp.errorhandler(Busy)
@bp.errorhandler(NoAnswer)
def _unavailable(exc: Busy | NoAnswer) -> Response:
    """503 in the spec's shape, with Retry-After: the API is busy, or the database slow."""
    if isinstance(exc, NoAnswer):  # the gate logs when the database stops and starts answering
        said = "the service request store is not answering; try again shortly"
    else:
        said = "busy: too many requests at once; try again shortly"
    resp = _errors(503, [said])
    resp.headers["Retry-After"] = str(exc.retry_after_s)
    return resp


@bp.errorhandler(SQLAlchemyError)
def _store_error(exc: SQLAlchemyError) -> Response:
    cause = getattr(exc, "orig", None) or exc
    log.warning(
        "Open311 %s %s: the database did not answer: %s",
        request.method,
        request.path,
        (str(cause).splitlines() or [type(cause).__name__])[0][:200],
    )
    return _errors(400, ["the service request store is not answering; try again shortly"])


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response | HTTPException:
    """Errors under /open311/ in the spec's shape (404 stays 404; 405, 413 ... become 400);
    everywhere else the app's usual answer."""
    if not request.path.startswith("/open311/"):
        return exc
    if isinstance(exc, InternalServerError):
        log.error("Open311 %s %s failed", request.method, request.path, exc_info=exc.original_exception)
        return _errors(500, ["internal error"])
    status = 404 if exc.code == 404 else 400
    resp = _errors(status, [exc.description or exc.name])
    for name, value in exc.get_headers():
        if name.lower() == "allow":  # a 405's methods, kept for the client
            resp.headers["Allow"] = value
    return resp


# -- discovery and services ----------------------------------------------------------------


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    fmt = _format(fmt)
    menu = context.menu()
    settings = context.settings()
    base = (settings.public_base_url or request.host_url.rstrip("/")) + PREFIX
    changeset = _changeset(settings.menu_path)
    doc = {
        "changeset": changeset,
        "contact": menu.open311.contact,
        "key_service": menu.open311.key_service,
        "endpoints": Many(
            "endpoint",
            [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": changeset,
                    "type": "production",
                    "formats": Many("format", ["text/xml", "application/json"]),
                }
            ],
        ),
    }
    return render(fmt, "discovery", doc)


def _changeset(menu_path: Path | None) -> str:
    """When the service list last changed: the menu file's modification time."""
    from ivr.menu import DEFAULT_MENU_PATH

    try:
        mtime = (menu_path or DEFAULT_MENU_PATH).stat().st_mtime
    except OSError:
        return "1970-01-01T00:00:00Z"
    return format_w3c(datetime.fromtimestamp(mtime).astimezone())


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    fmt = _format(fmt)
    menu = context.menu()
    lang = menu.default_language
    items = [
        {
            "service_code": cat.code,
            "service_name": _service_name(cat, lang),
            "description": _description(cat, menu),
            "metadata": bool(cat.attributes),
            "type": "realtime",
            "keywords": ", ".join(cat.synonyms[lang]),
            "group": cat.group,
        }
        for cat in sorted(menu.categories, key=lambda c: c.key)
    ]
    return render(fmt, "services", Many("service", items))


def _description(cat: Category, menu: Menu) -> str:
    text = " / ".join(cat.label[lang] for lang in menu.languages)
    return text + (". A street address is asked for." if cat.address else ".")


@bp.get("/services/<name>")
def service_definition(name: str) -> Response:
    code, fmt = _split(name)
    cat = _category(code)
    if cat is None:
        raise ApiError(404, f"service_code {code[:64]!r} not found")
    attributes = [
        {
            "variable": True,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": attr.datatype_description,
            "order": order,
            "description": attr.description,
            "values": Many("value", [{"key": v.key, "name": v.name} for v in attr.values]),
        }
        for order, attr in enumerate(cat.attributes, start=1)
    ]
    doc = {"service_code": cat.code, "attributes": Many("attribute", attributes)}
    return render(fmt, "service_definition", doc)


# -- requests ------------------------------------------------------------------------------


def _request_doc(row: Mapping[str, Any], menu: Menu) -> dict[str, Any]:
    """A request as the public sees it: a call's description is what the caller said (it may
    name them, or give a phone number), so it is never published; an API client's is."""
    cat = _category(row["service_code"])
    lang = menu.default_language
    return {
        "service_request_id": row["service_request_id"],
        "status": row["status"],
        "status_notes": row["status_notes"],
        "service_name": _service_name(cat, lang) if cat else row["service_code"],
        "service_code": row["service_code"],
        "description": row["description"] if row["source"] == "api" else None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": format_w3c(row["requested_at"]),
        "updated_datetime": format_w3c(row["updated_at"]),
        "expected_datetime": None,
        "address": row["address"],
        "address_id": row["address_id"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["long"],
        "media_url": row["media_url"],
    }


def _requests_response(fmt: str, rows: Iterable[Mapping[str, Any]]) -> Response:
    menu = context.menu()
    return render(fmt, "service_requests", Many("request", [_request_doc(r, menu) for r in rows]))


def _int_arg(name: str, default: int, high: int) -> int:
    raw = _arg(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= high:
        raise ApiError(400, f"{name}: a whole number from 1 to {high}")
    return int(raw)


def _page_link(page: int, rel: str) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return f'<{request.path}?{urlencode([*args, ("page", str(page))])}>; rel="{rel}"'


def _date_arg(name: str) -> datetime | None:
    raw = _arg(name)
    if raw is None:
        return None
    try:
        return parse_w3c(raw)
    except ValueError as exc:
        raise ApiError(400, f"{name}: {exc}") from None


@bp.get("/requests.<fmt>")
def list_requests(fmt: str) -> Response:
    """GET Service Requests: `service_request_id` (a list, at most a page) overrides every other
    filter; else `service_code`, `status` (lists) and a window of at most 90 days (default: the
    last 90), newest first, the query's first 1,000 in pages (`page` from 1, `page_size` up to
    200, default 50); a `Link` header gives the next page (rel="next") and the one before."""
    fmt = _format(fmt)
    ids = _list_arg("service_request_id")
    if ids is not None:
        return _requests_response(fmt, _db(lambda r: r.query(numbers=ids, public=True)))
    codes = _list_arg("service_code")
    statuses = _list_arg("status")
    errors = [f"status: {s[:20]!r} is not one of {', '.join(STATUSES)}" for s in statuses or [] if s not in STATUSES]
    start, end = _date_arg("start_date"), _date_arg("end_date")
    if start is None and end is None:
        end = utcnow()
        start = end - WINDOW
    elif start is None:
        assert end is not None
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    elif end < start:
        errors.append("end_date is before start_date")
    elif end - start > WINDOW:
        errors.append("start_date to end_date may not span more than 90 days")
    try:
        page_size = _int_arg("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        page = _int_arg("page", 1, MAX_RESULTS)
    except ApiError as exc:
        errors += exc.descriptions
    if errors:
        raise ApiError(400, *errors)
    offset = (page - 1) * page_size
    limit = min(page_size, MAX_RESULTS - offset)
    rows: list[dict[str, Any]] = []
    if limit > 0:
        rows = _db(
            lambda r: r.query(
                service_codes=codes,
                statuses=statuses,
                start=start,
                end=end,
                limit=limit + 1,
                offset=offset,
                public=True,
            )
        )
    links = [_page_link(page - 1, "prev")] if page > 1 else []
    if len(rows) > limit and offset + limit < MAX_RESULTS:
        links.append(_page_link(page + 1, "next"))
    resp = _requests_response(fmt, rows[:limit])
    if links:
        resp.headers["Link"] = ", ".join(links)
    return resp


@bp.get("/requests/<name>")
def get_request(name: str) -> Response:
    number, fmt = _split(name)
    row = _db(lambda r: r.get(number[:32], public=True))
    if row is None:
        raise ApiError(404, f"service_request_id {number[:32]!r} not found")
    return _requests_response(fmt, [row])


@bp.get("/tokens/<name>")
def get_token(name: str) -> Response:
    token, fmt = _split(name)
    raise ApiError(
        404,
        f"token {token[:64]!r} not found: every service here is realtime, so "
        "POST requests answers with a service_request_id and no token",
    )


@bp.post("/requests.<fmt>")
def create_request(fmt: str) -> Response:
    """POST Service Request: api_key, service_code, a location, attributes as the service
    definition asks; answers a one-item list with the new service_request_id."""
    fmt = _format(fmt)
    form = request.form
    _check_api_key(_arg("api_key", form) or request.headers.get("X-Api-Key", "").strip() or None)
    code = clean(_arg("service_code", form))
    if not code:
        raise ApiError(400, "service_code is required (see services.json)")
    cat = _category(code)
    if cat is None:
        raise ApiError(404, f"service_code {code[:64]!r} not found")
    errors: list[str] = []
    location = fields.location(form, errors)
    description = fields.text(form, "description", MAX_DESCRIPTION, errors, lines=True)
    media_url = fields.text(form, "media_url", MAX_URL, errors)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        errors.append("media_url must be an http or https URL")
    attributes = fields.attributes(form, cat, errors)
    if errors:
        raise ApiError(400, *errors)
    now = utcnow()
    number = _db(
        lambda r: r.create(
            cat.code,
            description=description or None,
            media_url=media_url or None,
            attributes=attributes,
            now=now,
            **location,
        )
    )
    log.info("Open311 request %s created (%s)", number, cat.code)
    item = {"service_request_id": number, "service_notice": None, "account_id": None}
    return render(fmt, "service_requests", Many("request", [item]))


def _check_api_key(given: str | None) -> None:
    keys: tuple[str, ...] = current_app.extensions[KEYS]
    if not given:
        raise ApiError(
            403, "api_key is missing (a form field, or the X-Api-Key header) -- can't proceed with create_request"
        )
    if not keys:
        raise ApiError(403, "this server takes no requests through the API (no api keys set)")
    sent = given.encode("utf-8", "replace")
    match = False
    for key in keys:  # every key compared, in constant time each
        match |= hmac.compare_digest(sent, key.encode("utf-8"))
    if not match:
        raise ApiError(403, "invalid api_key -- can't proceed with create_request")


# -- the OpenAPI description ---------------------------------------------------------------


@cache
def openapi_document() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return doc


@bp.get("/openapi.json")
def openapi() -> Response:
    """The description, with this menu's service codes as the POST's service_code values."""
    doc = copy.deepcopy(openapi_document())
    codes = [c.code for c in sorted(context.menu().categories, key=lambda c: c.key)]
    doc["components"]["schemas"]["NewRequest"]["properties"]["service_code"]["enum"] = codes
    return Response(json.dumps(doc, ensure_ascii=False), content_type="application/json; charset=utf-8")
