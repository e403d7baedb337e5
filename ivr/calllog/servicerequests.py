"""Service requests (Open311 GeoReport v2): one table beside the call log, on its engine.

A request comes from a call that reached a category (one per call, keyed by CallSid, created
through `ivr.calllog.recorder` like every call-log write: bounded wait, journaled when the database
cannot take it, replayed idempotently) or from the Open311 API (`ivr.open311.api`, written
directly: the API answers only once the row exists). Caller numbers are never stored here;
the Open311 contact fields (email, names, phone, device) are not kept either.

A call's writes to its request (the category, then the street address) are minutes apart and
agree with each other; a write that disagrees with the request its CallSid already has, or comes
more than `SAME_CALL` after it, is another call re-using the CallSid (a forged or replayed
webhook, simulated callers run twice). It never rewrites the first call's request: it gets a
request of its own, keyed `CallSid#n` and numbered with the next free candidate of its CallSid
(as a taken number is), and a warning is logged, since its caller heard the first request's
number.

Requests made by simulated callers (`ivr311 callers`) are marked `simulated` and the public API
never shows them.

`RequestStore` is the call log with this table's one journaled write added, so the recorder
and the journal handle it like the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from ivr.calllog import requestnumbers
from ivr.calllog.schema import UtcDateTime, metadata
from ivr.calllog.store import CallStore, utcnow
from ivr.errors import IvrError

log = logging.getLogger(__name__)

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 512
MAX_RESULTS = 1000
MAX_NUMBER_ATTEMPTS = 50
MAX_CALL_SID = 64  # the call_sid column's length
MAX_CALLS_PER_SID = 50  # calls that may re-use one CallSid, each with a request of its own
SAME_CALL = timedelta(hours=1)  # a call's writes to its request are its time in the menu apart

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
    Column("simulated", Boolean),  # made by simulated callers: never public (NULL = no)
)

# Columns added after the first release: (name, type); ensure_table adds what an older table lacks.
ADDED_COLUMNS = (("simulated", Boolean()),)

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


def call_key(call_sid: str, n: int) -> str:
    """The call_sid column of the n-th call to use `call_sid`: the CallSid itself for the first,
    `CallSid#n` for a later one (shortened with a digest to fit the column)."""
    if n == 0:
        return call_sid
    suffix = f"#{n}"
    if len(call_sid) + len(suffix) <= MAX_CALL_SID:
        return call_sid + suffix
    digest = hashlib.sha256(call_sid.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{call_sid[: MAX_CALL_SID - len(suffix) - 13]}~{digest}{suffix}"


def _agrees(stored: str | None, given: str | None) -> bool:
    return not stored or not given or stored == given


class ServiceRequests:
    """Reads and writes of the `service_requests` table. Datetimes are UTC-aware."""

    def __init__(
        self,
        engine: Engine,
        begin: Callable[[], AbstractContextManager[Connection]] | None = None,
        *,
        simulated: bool = False,
    ) -> None:
        self.engine = engine
        # the call log's transaction when it has one open (a journal replay's batch): two
        # connections writing one SQLite file at once would lock each other out
        self._begin = begin or engine.begin
        self.simulated = simulated  # mark what this writes as made by simulated callers
        self._ready = False

    def ensure_table(self) -> None:
        """The table, with the columns added since the first release."""
        if not self._ready:
            with self._begin() as conn:
                service_requests.create(conn, checkfirst=True)
                _add_missing_columns(conn)
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
        """The open request of a call (created, or given the address or description now known).
        Idempotent. Returns its number (normally `requestnumbers.for_call`); another call that
        re-uses the CallSid gets a request of its own (see the module docstring)."""
        now = now or utcnow()
        self.ensure_table()
        with self._begin() as conn:
            for attempt, number in enumerate(requestnumbers.candidates_for_call(call_sid)):
                known, key = self._call_request(conn, call_sid, service_code, description, address, now)
                if known is not None:
                    return known
                if key is None:  # not an error to retry: a journaled write would never pass
                    log.warning(
                        "CallSid %s used by %d calls already: no request for this one", call_sid, MAX_CALLS_PER_SID
                    )
                    return requestnumbers.for_call(call_sid)
                if attempt >= MAX_NUMBER_ATTEMPTS:
                    raise IvrError(f"no free request number for call {call_sid}")
                values = {
                    "service_request_id": number,
                    "call_sid": key,
                    "source": "phone",
                    "service_code": service_code,
                    "status": OPEN,
                    "description": description,
                    "address": address,
                    "language": language,
                    "requested_at": now,
                    "updated_at": now,
                    "simulated": self.simulated,
                }
                if self._insert_ignore(conn, values):
                    if key != call_sid:
                        log.warning(
                            "CallSid %s was used by an earlier call: this call's request is %s, its "
                            "own (the caller heard the first call's number, %s)",
                            call_sid,
                            number,
                            requestnumbers.for_call(call_sid),
                        )
                    elif attempt:
                        log.warning(
                            "request number %s was taken: call %s got %s instead (the caller heard the first one)",
                            requestnumbers.for_call(call_sid),
                            call_sid,
                            number,
                        )
                    return number
        raise AssertionError("unreachable")

    def _call_request(
        self,
        conn: Connection,
        call_sid: str,
        service_code: str,
        description: str | None,
        address: str | None,
        now: datetime,
    ) -> tuple[str | None, str | None]:
        """The number of this call's request, given what it did not have yet; or None and the
        call_sid key a new request of this call takes (the CallSid, or `CallSid#n` when earlier
        calls used it; None when `MAX_CALLS_PER_SID` calls did)."""
        c = service_requests.c
        keys = [call_key(call_sid, n) for n in range(MAX_CALLS_PER_SID)]
        rows = conn.execute(
            select(c.service_request_id, c.call_sid, c.service_code, c.description, c.address, c.requested_at).where(
                c.call_sid.in_(keys)
            )
        ).all()
        for row in rows:
            same_call = (
                row.service_code == service_code
                and abs(now - row.requested_at) <= SAME_CALL
                and _agrees(row.description, description)
                and _agrees(row.address, address)
            )
            if not same_call:
                continue
            changes = {
                name: value
                for name, value in (("description", description), ("address", address))
                if value and not getattr(row, name)
            }
            if changes:
                conn.execute(
                    update(service_requests).where(c.call_sid == row.call_sid).values(**changes, updated_at=now)
                )
            return str(row.service_request_id), row.call_sid
        used = {row.call_sid for row in rows}
        return None, next((key for key in keys if key not in used), None)

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
            "simulated": self.simulated,
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

    def get(self, number: str, *, public: bool = False) -> dict[str, Any] | None:
        """One request; `public`: None for one the public API never shows (simulated)."""
        condition = service_requests.c.service_request_id == number
        return self._one(condition & _PUBLIC if public else condition)

    def for_call(self, call_sid: str) -> dict[str, Any] | None:
        """The request of the first call that used `call_sid`."""
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
        offset: int = 0,
        public: bool = False,
    ) -> list[dict[str, Any]]:
        """Requests newest first. `numbers` (a list) overrides every other filter; `public`
        leaves out what the public API never shows (simulated requests)."""
        self.ensure_table()
        c = service_requests.c
        stmt = select(service_requests).order_by(c.requested_at.desc(), c.id.desc()).limit(limit).offset(offset)
        if public:
            stmt = stmt.where(_PUBLIC)
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


_PUBLIC = service_requests.c.simulated.is_not(True)


def _add_missing_columns(conn: Connection) -> None:
    """ALTER TABLE for each of `ADDED_COLUMNS` an older table lacks. Two processes may race to
    add one: the loser's error is ignored once the column is there (in a savepoint, so the
    transaction it runs in survives)."""
    present = {col["name"] for col in inspect(conn).get_columns(service_requests.name)}
    for name, type_ in ADDED_COLUMNS:
        if name in present:
            continue
        ddl = f"ALTER TABLE {service_requests.name} ADD COLUMN {name} {type_.compile(dialect=conn.dialect)}"
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(ddl)
        except (OperationalError, ProgrammingError):
            if name not in {col["name"] for col in inspect(conn).get_columns(service_requests.name)}:
                raise


def _public(row: Any) -> dict[str, Any]:
    """A stored request as the API and the command line show it: never the CallSid."""
    out = {name: row[name] for name in PUBLIC_COLUMNS}
    out["service_request_id"] = str(out["service_request_id"])
    raw = row["attributes"]
    out["attributes"] = json.loads(raw) if raw else {}
    out["source"] = row["source"]
    out["language"] = row["language"]
    out["simulated"] = bool(row["simulated"])
    return out


class RequestStore(CallStore):
    """The call log plus the service requests a call opens, on one engine, so the recorder
    can journal and replay `open_call_request` like any other call-log write."""

    WRITES = CallStore.WRITES | {"open_call_request"}

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.requests = ServiceRequests(self.engine, begin=self._begin)

    def open_call_request(self, *args: Any, **kwargs: Any) -> str:
        """`ServiceRequests.open_for_call`, its arguments as they are (one signature to keep), as a
        write of the call log."""
        return self.requests.open_for_call(*args, **kwargs)
