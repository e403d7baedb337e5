"""Bounded work for the endpoints that are not webhooks (the Open311 API; a staff page would use
it the same way): nothing they do can hold a server thread the voice webhooks need, whatever the
database does and however many clients call.

- Admission: at most `max_requests` such requests at once per process. One more is refused at
  once (`Busy`: the caller answers 503 with Retry-After), never queued: a queued request would
  hold a server thread while it waits.
- Database work runs on the gate's own threads (at most `workers` per process), on the gate's own
  engine and connection pool (never the call log's, whose one store thread the recorder keeps for
  the webhooks), and is waited for at most `timeout_s` (`NoAnswer`). A hung server never answers,
  so a server-side statement_timeout never fires: the bound has to be the client's. A job still
  running past its bound keeps its thread until the database answers; while `workers` such jobs
  run, more work is refused at once (`Busy`) instead of piling up.
- Once a job found the database not answering (past the bound, or a connection error, a lock
  or statement timeout), later jobs are refused at once (`NoAnswer`) instead of each waiting out
  the bound again, which matters where a server thread is a whole worker (gunicorn's sync
  worker). A probe (`SELECT 1`, one at a time, at most every `PROBE_EVERY_S`, waited for by no
  request) or any job that succeeds lets work through again.

Threads are made per job and are daemons, so a job stuck on a frozen server never keeps a
process from exiting. Works the same under gunicorn's sync and gthread workers (state is per
process, remade after a fork) and under the Flask test client.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ivr.calllog.engine import make_engine

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_REQUESTS = 2  # per process: with gthread's threads, the rest are always the webhooks'
WORKERS = 2  # database jobs at once per process, including those past their bound
TIMEOUT_S = 2.0  # longest an API request waits on the database
ENGINE_SHARE = 0.8  # of the bound, for the driver's own timeouts: an error rather than no answer
PROBE_EVERY_S = 1.0
# What a database that is down, locked, frozen or overloaded raises (bugs are not among them).
NOT_ANSWERING = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, OSError)


class Busy(Exception):
    """Refused at once: the gate's requests or database jobs are all taken."""

    retry_after_s = 1


class NoAnswer(Exception):
    """The database did not answer within the bound."""

    retry_after_s = 5


class ApiGate:
    """Admission and bounded database jobs for one app's API; see the module docstring."""

    def __init__(
        self,
        database_url: str,
        *,
        max_requests: int = MAX_REQUESTS,
        workers: int = WORKERS,
        timeout_s: float = TIMEOUT_S,
        name: str = "Open311 API",
        engine: Engine | None = None,
    ) -> None:
        """`engine`: use this one instead of making one (an in-memory SQLite database exists
        only in its own engine's connection)."""
        self.name = name
        self.max_requests = max_requests
        self.workers = workers
        self.timeout_s = timeout_s
        # Nothing connects here: the app starts while the database is down.
        self.engine: Engine = engine or make_engine(database_url, timeout_s * ENGINE_SHARE)
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._admitted = threading.BoundedSemaphore(self.max_requests)
        self._running = threading.BoundedSemaphore(self.workers)
        self._down_since: float | None = None  # monotonic: a job found the database not answering
        self._next_probe = 0.0

    def _this_process(self) -> None:
        """After a fork: fresh counts (a parent's thread is not in the child) and a fresh pool
        (connections are not shared across processes)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self.engine.dispose(close=False)
                    self._reset()

    def admit(self) -> bool:
        """Take a request slot if one is free, without waiting; `leave` gives it back."""
        self._this_process()
        return self._admitted.acquire(blocking=False)

    def leave(self) -> None:
        self._admitted.release()

    def run(self, job: Callable[[], T]) -> T:
        """`job()` on a gate thread, waited for at most `timeout_s`. `job` must not touch Flask's
        request or app context (it runs on another thread). Raises `Busy` when every gate thread
        is taken, `NoAnswer` past the bound, or what `job` raised."""
        self._this_process()
        down_since = self._down_since  # read once: a probe may find the database back meanwhile
        if down_since is not None:
            self._probe()
            raise NoAnswer(f"the database has not answered for {time.monotonic() - down_since:.0f} s")
        future: Future[T] = Future()
        self._start(job, future)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            self._down(f"no answer within {self.timeout_s:g} s")
            raise NoAnswer(f"no answer from the database within {self.timeout_s:g} s") from None

    def _start(self, job: Callable[[], T], future: Future[T]) -> None:
        """`job` on a thread of its own, its outcome in `future`; `Busy` if none is free."""
        running = self._running
        if not running.acquire(blocking=False):
            raise Busy("every database slot of the API is taken")

        def work() -> None:
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job())
                    except BaseException as exc:  # handed to the waiting request
                        if isinstance(exc, NOT_ANSWERING):
                            self._down(f"{type(exc).__name__}")
                        future.set_exception(exc)
                    else:
                        self._up()
            finally:
                running.release()

        try:
            threading.Thread(target=work, name="ivr311-api-db", daemon=True).start()
        except BaseException:
            running.release()
            raise

    def _probe(self) -> None:
        """While the database is not answering: `SELECT 1` in the background, one at a time."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_probe:
                return
            self._next_probe = now + PROBE_EVERY_S

        def select_one() -> None:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        with contextlib.suppress(Busy):  # every thread still waits on the database: nothing to learn yet
            self._start(select_one, Future())

    def _down(self, why: str) -> None:
        with self._lock:
            first, self._down_since = self._down_since is None, self._down_since or time.monotonic()
        if first:
            log.warning("%s: the database is not answering (%s); answering 503 until it does", self.name, why)

    def _up(self) -> None:
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("%s: the database answers again after %.1f s", self.name, time.monotonic() - since)

    def close(self) -> None:
        self.engine.dispose()
