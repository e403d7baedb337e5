"""Best-effort recording of the call log, so that no webhook ever waits long on storage.

A webhook decides its TwiML from the request and the menu alone, then hands its write here.
`Recorder.write` runs it on this process's store thread and waits at most `budget_s` (0.5 s by
default). If the database is locked, stopped, unreachable or slow, the write goes to the durable
local journal (`ivr.journal`) instead, and so does every later write while anything is journaled,
so the log sees each call's events in order. A replay thread retries every `retry_s` and, once
the database answers, commits the journal oldest first; writes then go to the database again.
Writes are idempotent, so a write that timed out here but landed later is harmless when replayed.

One warning when an outage starts in this process, one when it ends (with the count replayed),
never one traceback per call. `health()` feeds `/healthz`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SATimeoutError

from ivr.journal import Journal, Op, encode_op
from ivr.store import CallStore

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUDGET_S = 0.5
DEFAULT_RETRY_S = 1.0
CHUNK_OPS = 500  # journal entries committed per transaction in a replay
FINAL_PASS_MAX_OPS = 2000  # a live journal this small is replayed with appends held
MAX_PASSES = 50  # passes in one replay before the thread sleeps and tries again
# The database is down, locked or slow: keep the entry and try again later.
TRANSIENT = (OperationalError, InterfaceError, SATimeoutError, DisconnectionError, OSError)


class Recorder:
    """The voice app's only way to the call log; see the module docstring."""

    def __init__(
        self,
        store: CallStore,
        journal: Journal,
        *,
        budget_s: float = DEFAULT_BUDGET_S,
        retry_s: float = DEFAULT_RETRY_S,
    ) -> None:
        self.store = store
        self.journal = journal
        self.budget_s = budget_s
        self.retry_s = retry_s
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._executor: ThreadPoolExecutor | None = None
        self._replayer: threading.Thread | None = None
        self._schema_ready = False
        self._outage_since: float | None = None  # monotonic time this process saw the failure
        self._last_error = ""
        self.replayed = 0  # ops this process replayed from the journal, in all

    # -- the store thread --------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        """One thread per process runs every database call, so this process's writes stay in
        order even when a timed-out write lands late. Made lazily (after a fork)."""
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="ivr311-store")
                self._replayer = None
            return self._executor

    def _bounded(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the store thread; raises FutureTimeout after `budget_s`."""
        return self._pool().submit(fn).result(timeout=self.budget_s)

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            self.store.create_tables()
            self._schema_ready = True

    def _apply(self, op: Op) -> Any:
        self._ensure_schema()
        return self.store.apply(op.name, op.args)

    # -- writes and reads ----------------------------------------------------------------

    def start(self) -> None:
        """At app start: create the tables if the database answers in time, and replay a
        journal left by an earlier run. Never raises; a database down at start is an outage."""
        try:
            self._bounded(self._ensure_schema)
        except (FutureTimeout, SQLAlchemyError, OSError) as exc:
            self._outage(exc)
        if self.journal.pending():
            self._kick()

    def write(self, name: str, **args: Any) -> Any:
        """Record one write (a `CallStore` write method and its arguments); returns its result
        when the database took it in time, else None. Never raises."""
        op = Op(name, args)
        if self.journal.pending():
            self._to_journal(op)
            return None
        try:
            return self._bounded(lambda: self._apply(op))
        except (FutureTimeout, SQLAlchemyError, OSError) as exc:
            self._outage(exc)
        except Exception:  # a bug: keep the event, and show the traceback once per call
            log.exception("call-log write %s failed; kept in the journal", name)
        self._to_journal(op)
        return None

    def read(self, fn: Callable[[CallStore], T], default: T) -> T:
        """A read of the log within the budget, or `default` when the database cannot answer,
        or when journaled writes are not in it yet (the answer would be stale)."""
        if self.journal.pending():
            self._kick()
            return default
        try:
            return self._bounded(lambda: fn(self.store))
        except (FutureTimeout, SQLAlchemyError, OSError) as exc:
            self._outage(exc)
            return default

    def _to_journal(self, op: Op) -> None:
        try:
            self.journal.append(op)
        except OSError as exc:  # the disk refused too: the one case where an event is lost
            log.error("call-log event %s LOST: journal %s not writable: %s", op.name, self.journal.folder, exc)
        self._kick()

    def _outage(self, exc: BaseException) -> None:
        reason = _one_line(exc)
        with self._lock:
            first = self._outage_since is None
            if first:
                self._outage_since = time.monotonic()
            self._last_error = reason
        if first:
            log.warning(
                "call log unreachable (%s): callers are still routed by the menu alone; writes "
                "go to the journal %s and are replayed when the database is back",
                reason,
                self.journal.folder,
            )

    # -- replay --------------------------------------------------------------------------

    def _kick(self) -> None:
        """Make sure this process has a replay thread (one per process, started lazily)."""
        self._pool()
        with self._lock:
            if self._replayer is not None and self._replayer.is_alive():
                return
            self._replayer = threading.Thread(target=self._replay_loop, name="ivr311-replay", daemon=True)
            self._replayer.start()

    def _replay_loop(self) -> None:
        while True:
            time.sleep(self.retry_s)
            if not self.journal.pending():
                self._recovered(0)
                if self._outage_since is None:
                    return
                continue
            try:
                self.replay(wait_s=None)
            except RuntimeError:  # the interpreter is exiting: the journal waits for next start
                return
            except Exception:  # never let the thread die with events waiting
                log.exception("journal replay failed")

    def replay(self, wait_s: float | None = 30.0) -> int:
        """Commit the journal into the database, oldest first, on the store thread (after what
        is already queued there). Returns the number of ops replayed (0 if the database is
        still down, or another process replays). `wait_s=None`: wait as long as it takes."""
        pending = self._pool().submit(self._replay_now)
        if wait_s is None:
            try:
                return pending.result()
            except (SQLAlchemyError, OSError):
                return 0
        return pending.result(timeout=wait_s)

    def _replay_now(self) -> int:
        """Replay passes until the journal is empty: each pass claims the files there are and
        commits them in chunks (one transaction per `CHUNK_OPS`). Under live traffic new writes
        keep arriving in a fresh file; once what arrived during a pass is small, the last pass
        holds appends for its few milliseconds, so the journal does empty and writes go to the
        database again. A chunk the database refuses for being down stays in its file (cut to
        what is not committed): nothing is applied twice out of order, nothing is lost."""
        started = time.monotonic()
        before = self.replayed
        try:
            self._ensure_schema()
            for n in range(MAX_PASSES):
                # appends are held only once a pass has shown the database takes writes:
                # never while it may still be down (a held append would stall webhooks)
                final = n > 0 and self.journal.live_count() <= FINAL_PASS_MAX_OPS
                if not self._replay_pass(hold_appends=final):  # another process replays
                    break
                if not self.journal.pending():
                    break
        except TRANSIENT as exc:
            self._outage(exc)
            return self.replayed - before
        count = self.replayed - before
        if count:
            log.info("replayed %d call-log writes from the journal in %.3f s", count, time.monotonic() - started)
        if not self.journal.pending():
            self._recovered(count)
        return count

    def _replay_pass(self, *, hold_appends: bool) -> bool:
        """One pass over the claimed files; False if another process holds the replay. Each
        committed chunk is counted in `self.replayed` at once, so a failing pass still tells."""
        with self.journal.claim(hold_appends=hold_appends) as claimed:
            if claimed is None:
                return False
            for path in claimed:
                ops, bad = self.journal.read(path)
                done = 0
                try:
                    for first in range(0, len(ops), CHUNK_OPS):
                        chunk = ops[first : first + CHUNK_OPS]
                        bad += self._commit_chunk(chunk)
                        done += len(chunk)
                        self.replayed += len(chunk)
                finally:
                    if done < len(ops):
                        self.journal.keep(path, ops[done:], bad)
                self.journal.done(path, bad)
                if bad:
                    log.error(
                        "journal %s: %d entries not applied, kept in %s",
                        path.name,
                        len(bad),
                        self.journal.folder / "rejected.jsonl",
                    )
        return True

    def _commit_chunk(self, chunk: list[Op]) -> list[bytes]:
        """Commit `chunk` in one transaction. If the database refuses an entry itself (not for
        being down), commit the chunk entry by entry and return the refused ones, encoded, to be
        kept aside: one bad entry must not hold the journal, and every later call, forever."""
        try:
            with self.store.batch():
                for op in chunk:
                    self._replay_one(op)
            return []
        except TRANSIENT:
            raise
        except SQLAlchemyError:
            pass
        refused: list[bytes] = []
        for op in chunk:
            try:
                self._replay_one(op)
            except TRANSIENT:
                raise
            except SQLAlchemyError as exc:
                log.error("journal entry %s refused by the database: %s", op.name, _one_line(exc))
                refused.append(encode_op(op).rstrip(b"\n"))
        return refused

    def _replay_one(self, op: Op) -> None:
        try:
            self.store.apply(op.name, op.args)
        except (TypeError, ValueError) as exc:  # an entry this version cannot apply
            log.error("journal entry %s skipped: %s", op.name, exc)

    def _recovered(self, count: int) -> None:
        with self._lock:
            since, self._outage_since = self._outage_since, None
        if since is not None:
            log.warning(
                "call log reachable again after %.1f s; journal replayed (%d writes by this process)",
                time.monotonic() - since,
                self.replayed,
            )

    # -- health --------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """`/healthz`: `ok`, or `degraded` while writes wait in the journal or the last database
        call of this process failed. Routing works either way."""
        pending = self.journal.count() if self.journal.pending() else 0
        degraded = bool(pending) or self._outage_since is not None
        report: dict[str, Any] = {
            "status": "degraded" if degraded else "ok",
            "store": "unreachable" if self._outage_since is not None else "ok",
            "journal_pending": pending,
        }
        if self._outage_since is not None:
            report["outage_s"] = round(time.monotonic() - self._outage_since, 1)
            report["last_error"] = self._last_error
        return report

    def close(self) -> None:
        if self._executor is not None and self._pid == os.getpid():
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FutureTimeout):
        return "no answer within the time budget"
    cause: Any = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"{type(cause).__name__}: {first}"[:200]
