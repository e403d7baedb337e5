"""`ivr311 requests`: staff read and change the service requests that calls and Open311 clients
create. Joins the `ivr311` console script through the entry-point group `ivr311.commands`.

    ivr311 requests list [--status open|closed] [--service CODE] [--limit N] [--json]
    ivr311 requests show ID
    ivr311 requests close ID [--notes TEXT]
    ivr311 requests open ID [--notes TEXT]

Closing or reopening moves `updated_datetime`, which Open311 clients see; `--notes` becomes
`status_notes`: callers hear it at key 3 of the main menu, and it is published on the public
Open311 API, the one place staff choose what the public reads of a call's request (never what the
caller said: the description shown here is staff-only for requests made by calls).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ivr.errors import IvrError
from ivr.tools.cli import database_errors, default_database_url

DATABASE_HELP = "SQLAlchemy URL (default: $IVR311_DATABASE_URL, else the app's SQLite file under instance/)."
MAX_NOTES = 4000


@contextmanager
def _requests(database_url: str | None) -> Iterator[Any]:
    from ivr.calllog.engine import make_engine
    from ivr.calllog.servicerequests import ServiceRequests

    url = database_url or default_database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = url.removeprefix("sqlite:///")
        if not os.path.exists(path):
            raise IvrError(f"no call log at {path} (no call has been logged there yet)")
    engine = make_engine(url)
    try:
        with database_errors():
            yield ServiceRequests(engine)
    finally:
        engine.dispose()


def _printable(row: dict[str, Any]) -> dict[str, Any]:
    from ivr.open311.w3cdatetime import format_w3c

    out = dict(row)
    for name in ("requested_at", "updated_at"):
        out[name] = format_w3c(row[name])
    return out


def _notes(text: str | None) -> str | None:
    if text is None:
        return None
    from ivr.open311.fields import clean

    try:
        return clean(text, MAX_NOTES, lines=True)
    except ValueError as exc:
        raise IvrError(f"--notes: {exc}") from None


@click.group("requests")
def requests() -> None:
    """Service requests (Open311) opened by calls and API clients."""


@requests.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), help="Only this status.")
@click.option("--service", "service_code", metavar="CODE", help="Only this service code.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.option("--database-url", help=DATABASE_HELP)
def list_requests(
    status: str | None, service_code: str | None, limit: int, as_json: bool, database_url: str | None
) -> None:
    """Newest first: number, status, service, when requested, address, description (requests of
    simulated callers are marked [simulated]; the public API never shows them)."""
    with _requests(database_url) as store:
        rows = store.query(
            statuses=[status] if status else None, service_codes=[service_code] if service_code else None, limit=limit
        )
    if as_json:
        for row in rows:
            click.echo(json.dumps(_printable(row), ensure_ascii=False))
        return
    click.echo(f"{'number':<10}  {'status':<6}  {'service':<24}  {'requested':<20}  address / description")
    for row in rows:
        p = _printable(row)
        where = " / ".join(x for x in (row["address"], row["description"]) if x)
        where = ("[simulated] " if row["simulated"] else "") + " ".join(where.split())
        click.echo(
            f"{p['service_request_id']:<10}  {p['status']:<6}  {p['service_code']:<24}  "
            f"{p['requested_at']:<20}  {where[:60]}"
        )
    click.echo(f"{len(rows)} requests", err=True)


@requests.command("show")
@click.argument("number")
@click.option("--database-url", help=DATABASE_HELP)
def show(number: str, database_url: str | None) -> None:
    """Every field of one request (never the caller's number: it is not stored)."""
    with _requests(database_url) as store:
        row = store.get(number)
    if row is None:
        raise IvrError(f"no service request {number}")
    for name, value in _printable(row).items():
        if name == "attributes":
            value = json.dumps(value, ensure_ascii=False) if value else None
        click.echo(f"{name}: {'' if value is None else value}")


def _set_status(number: str, status: str, notes: str | None, database_url: str | None) -> None:
    with _requests(database_url) as store:
        row = store.set_status(number, status, _notes(notes))
    p = _printable(row)
    said = f" (notes: {p['status_notes']})" if p["status_notes"] else ""
    click.echo(f"request {number} is {status} as of {p['updated_at']}{said}")


def _status_command(name: str, status: str, summary: str, notes_help: str) -> click.Command:
    @requests.command(name, help=summary)
    @click.argument("number")
    @click.option("--notes", help=notes_help)
    @click.option("--database-url", help=DATABASE_HELP)
    def command(number: str, notes: str | None, database_url: str | None) -> None:
        _set_status(number, status, notes, database_url)

    return command


close = _status_command(
    "close",
    "closed",
    "Close a request.",
    "Why, or what was done (status_notes: callers hear it, Open311 shows it).",
)
reopen = _status_command(
    "open", "open", "Open a closed request again.", "Why it is open again (status_notes, published on Open311)."
)
