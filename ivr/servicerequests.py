"""Service requests (Open311 GeoReport v2): one table beside the call log, on its engine.

A request comes from a call that reached a category (one per call, keyed by CallSid, created
through `ivr.recorder` like every call-log write: bounded wait, journaled when the database
cannot take it, replayed idempotently) or from the Open311 API (`ivr.open311`, written
directly: the API answers only once the row exists). Caller numbers are never stored here;
the Open311 contact fields (email, names, phone, device) are not kept either.

`RequestStore` is the call log with this table's one journaled write added, so the recorder
and the journal handle it like the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ivr import requestnumbers
from ivr.errors import IvrError
from ivr.store import CallStore, UtcDateTime, metadata, utcnow

log = logging.getLogger(__name__)

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 512
MAX_RESULTS = 1000
MAX_NUMBER_ATTEMPTS = 50

service_requests = Table(
    "service_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_request_id", String(16), nullable=False, unique=True),
    Column("call_sid", String(64), unique=True),  # the call that made it (never published)
    Column("source", String(8), nullable=False),  # phone | api
    Column("service_code", String(64), nullable=False, index=True),
    Column("status", String(8), nullable=False),
    Column("status_notes", Text),
    Column("description", Text),
    Column("address", String(MAX_ADDRESS)),
    Column("address_id", String(128)),
    Column("lat", Float),
    Column("long", Float),
    Column("media_url", String(1024)),
    Column("attributes", Text),  # JSON object: code -> value or list of values
    Column("language", String(8)),
    Column("requested_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

PUBLIC_COLUMNS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_code",
    "description",
    "address",
    "address_id",
    "lat",
    "long",
    "media_url",
    "requested_at",
    "updated_at",
)


class RequestNotFound(IvrError):
    pass


class ServiceRequests:
    """Reads and writes of the `service_requests` table. Datetimes are UTC-aware."""

    def __init__(self, engine: Engine, begin: Callable[[], AbstractContextManager[Connection]] | None = None) -> None:
        self.engine = engine
        # the call log's transaction when it has one open (a journal replay's batch): two
        # connections writing one SQLite file at once would lock each other out
        self._begin = begin or engine.begin
        self._ready = False

    def ensure_table(self) -> None:
        if not self._ready:
            with self._begin() as conn:
                service_requests.create(conn, checkfirst=True)
            self._ready = True

    # -- writes --------------------------------------------------------------------------

    def _insert_ignore(self, conn: Connection, values: Mapping[str, Any]) -> bool:
        """Insert unless a unique value (number or CallSid) is taken; whether it was inserted."""
        dialect = conn.dialect.name
        stmt: Any = None
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(service_requests).on_conflict_do_nothing()
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(service_requests).on_conflict_do_nothing()
        if stmt is not None:
            return bool(conn.execute(stmt, values).rowcount)
        try:
            with conn.begin_nested():
                conn.execute(insert(service_requests), values)
        except IntegrityError:
            return False
        return True

    def open_for_call(
        self,
        call_sid: str,
        service_code: str,
        language: str | None,
        description: str | None = None,
        address: str | None = None,
        now: datetime | None = None,
    ) -> str:
        """The open request of a call (created, or updated with the address or description
        now known). Idempotent. Returns its number (normally `requestnumbers.for_call`)."""
        now = now or utcnow()
        self.ensure_table()
        with self._begin() as conn:
            for attempt, number in enumerate(requestnumbers.candidates_for_call(call_sid)):
                known = self._update_call_request(conn, call_sid, service_code, description, address, now)
                if known is not None:
                    return known
                if attempt >= MAX_NUMBER_ATTEMPTS:
                    raise IvrError(f"no free request number for call {call_sid}")
                values = {
                    "service_request_id": number,
                    "call_sid": call_sid,
                    "source": "phone",
                    "service_code": service_code,
                    "status": OPEN,
                    "description": description,
                    "address": address,
                    "language": language,
                    "requested_at": now,
                    "updated_at": now,
                }
                if self._insert_ignore(conn, values):
                    if attempt:
                        log.warning(
                            "request number %s was taken: call %s got %s instead (the caller heard the first one)",
                            requestnumbers.for_call(call_sid),
                            call_sid,
                            number,
                        )
                    return number
        raise AssertionError("unreachable")

    def _update_call_request(
        self,
        conn: Connection,
        call_sid: str,
        service_code: str,
        description: str | None,
        address: str | None,
        now: datetime,
    ) -> str | None:
        row = conn.execute(
            select(
                service_requests.c.service_request_id,
                service_requests.c.description,
                service_requests.c.address,
                service_requests.c.service_code,
            ).where(service_requests.c.call_sid == call_sid)
        ).first()
        if row is None:
            return None
        changes: dict[str, Any] = {}
        if service_code != row.service_code:
            changes["service_code"] = service_code
        if description and description != row.description:
            changes["description"] = description
        if address and address != row.address:
            changes["address"] = address
        if changes:
            conn.execute(
                update(service_requests)
                .where(service_requests.c.call_sid == call_sid)
                .values(**changes, updated_at=now)
            )
        return str(row.service_request_id)

    def create(
        self,
        service_code: str,
        *,
        description: str | None = None,
        address: str | None = None,
        address_id: str | None = None,
        lat: float | None = None,
        long: float | None = None,
        media_url: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str:
        """A request from the Open311 API; returns its (random, free) number."""
        now = now or utcnow()
        self.ensure_table()
        values = {
            "call_sid": None,
            "source": "api",
            "service_code": service_code,
            "status": OPEN,
            "description": description,
            "address": address,
            "address_id": address_id,
            "lat": lat,
            "long": long,
            "media_url": media_url,
            "attributes": json.dumps(dict(attributes), ensure_ascii=False) if attributes else None,
            "language": None,
            "requested_at": now,
            "updated_at": now,
        }
        with self._begin() as conn:
            for _ in range(MAX_NUMBER_ATTEMPTS):
                number = requestnumbers.random_number()
                if self._insert_ignore(conn, {**values, "service_request_id": number}):
                    return number
        raise IvrError("no free request number")

    def set_status(self, number: str, status: str, notes: str | None, now: datetime | None = None) -> dict[str, Any]:
        """Open or close a request (staff, from the command line); `updated_datetime` moves.
        `notes` None keeps the current notes."""
        if status not in STATUSES:
            raise IvrError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        now = now or utcnow()
        self.ensure_table()
        changes: dict[str, Any] = {"status": status, "updated_at": now}
        if notes is not None:
            changes["status_notes"] = notes or None
        with self._begin() as conn:
            count = conn.execute(
                update(service_requests).where(service_requests.c.service_request_id == number).values(**changes)
            ).rowcount
        if not count:
            raise RequestNotFound(f"no service request {number}")
        found = self.get(number)
        assert found is not None
        return found

    # -- reads ---------------------------------------------------------------------------

    def get(self, number: str) -> dict[str, Any] | None:
        return self._one(service_requests.c.service_request_id == number)

    def for_call(self, call_sid: str) -> dict[str, Any] | None:
        return self._one(service_requests.c.call_sid == call_sid)

    def _one(self, condition: Any) -> dict[str, Any] | None:
        self.ensure_table()
        with self.engine.connect() as conn:
            row = conn.execute(select(service_requests).where(condition)).mappings().first()
        return _public(row) if row else None

    def query(
        self,
        *,
        numbers: Iterable[str] | None = None,
        service_codes: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = MAX_RESULTS,
    ) -> list[dict[str, Any]]:
        """Requests newest first. `numbers` (a list) overrides every other filter."""
        self.ensure_table()
        c = service_requests.c
        stmt = select(service_requests).order_by(c.requested_at.desc(), c.id.desc()).limit(limit)
        if numbers is not None:
            stmt = stmt.where(c.service_request_id.in_(list(numbers)))
        else:
            if service_codes is not None:
                stmt = stmt.where(c.service_code.in_(list(service_codes)))
            if statuses is not None:
                stmt = stmt.where(c.status.in_(list(statuses)))
            if start is not None:
                stmt = stmt.where(c.requested_at >= start)
            if end is not None:
                stmt = stmt.where(c.requested_at <= end)
        with self.engine.connect() as conn:
            return [_public(row) for row in conn.execute(stmt).mappings()]

    def iter_all(self) -> Iterator[dict[str, Any]]:
        self.ensure_table()
        stmt = select(service_requests).order_by(service_requests.c.requested_at.desc(), service_requests.c.id.desc())
        with self.engine.connect() as conn:
            for row in conn.execute(stmt).mappings():
                yield _public(row)


def _public(row: Any) -> dict[str, Any]:
    """A stored request as the API and the command line show it: never the CallSid."""
    out = {name: row[name] for name in PUBLIC_COLUMNS}
    out["service_request_id"] = str(out["service_request_id"])
    raw = row["attributes"]
    out["attributes"] = json.loads(raw) if raw else {}
    out["source"] = row["source"]
    out["language"] = row["language"]
    return out


class RequestStore(CallStore):
    """The call log plus the service requests a call opens, on one engine, so the recorder
    can journal and replay `open_call_request` like any other call-log write."""

    WRITES = CallStore.WRITES | {"open_call_request"}

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.requests = ServiceRequests(self.engine, begin=self._begin)

    def open_call_request(
        self,
        call_sid: str,
        service_code: str,
        language: str | None,
        description: str | None = None,
        address: str | None = None,
        now: datetime | None = None,
    ) -> str:
        return self.requests.open_for_call(call_sid, service_code, language, description, address, now)
