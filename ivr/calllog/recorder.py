"""Best-effort recording of the call log, so that no webhook ever waits long on storage.

A webhook decides its TwiML from the request and the menu alone, then hands its write here.
`Recorder.write` runs it on this process's store thread and waits at most `budget_s` (0.5 s by
default). If the database is locked, stopped, unreachable or slow, the write goes to the durable
local journal (`ivr.calllog.journal`) instead, and so does every later write while anything is journaled,
so the log sees each call's events in order. A replay thread retries every `retry_s` and, once
the database answers, commits the journal oldest first; writes then go to the database again.
Writes are idempotent, so a write that timed out here but landed later is harmless when replayed.

The journal can fail too (a full disk, a folder that cannot be listed or written, an I/O
error). Nothing here raises for it: a webhook routes its caller the same (a 311 caller is never
sent to 911 because the log is in trouble), a write goes to the database when the journal
cannot even be listed, and a write that neither the database nor the journal takes is counted
as lost. A write that missed its budget is still on the store thread and may yet land (a slow
database, a loaded machine): with the journal refusing it, it counts as lost only once the
database refuses it too. While the journal fails during an outage, a write is handed to the
store thread without waiting (up to `UNWAITED_MAX` of them), so webhooks do not pile up
behind a database that does not answer and a database that is merely slow still gets them.
The journal is checked at start and, while it fails, every `retry_s` by the replay thread; it
counts as back once a write to it succeeds `JOURNAL_SETTLE_S` after its last failure.

One warning when a database outage starts in this process, one when it ends (with the count
replayed); one ERROR when the journal fails (with the folder and what to do), a reminder with the
count lost every `LOST_REMINDER_S` while it lasts, and one line when it is back; never a line or
a traceback per call. `health()` feeds `/healthz`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SATimeoutError

from ivr.calllog.journal import Journal, Op, encode_op
from ivr.calllog.store import CallStore

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUDGET_S = 0.5
DEFAULT_RETRY_S = 1.0
CHUNK_OPS = 500  # journal entries committed per transaction in a replay
# The last pass of a replay holds appends (every webhook that journals waits for it), so it is
# taken only when the previous pass's pace says it lasts at most this long, and this many ops.
FINAL_PASS_HOLD_S = 0.1
FINAL_PASS_MAX_OPS = 2000
MAX_PASSES = 50  # passes in one replay before the thread sleeps and tries again
JOURNAL_SETTLE_S = 5.0  # a journal write must succeed this long after the last failure to count
LOST_REMINDER_S = 60.0  # while the journal fails, the count lost is logged again this often
# While the journal fails during an outage, at most this many writes wait on the store thread
# unwaited (each may take the database's timeout to fail); a write beyond them is lost.
UNWAITED_MAX = 100
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
        self._closed = threading.Event()  # set by close(): the replay thread ends
        self._schema_ready = False
        self._outage_since: float | None = None  # monotonic time this process saw the failure
        self._last_error = ""
        self._db_in_flight = 0  # writes submitted to the store thread and not done yet
        self.replayed = 0  # ops this process replayed from the journal, in all
        self._journal_error: str | None = None  # why the journal cannot be used, while it cannot
        self._journal_failed_since = 0.0  # monotonic: first and last failure of this episode
        self._journal_failed_last = 0.0
        self._lost_reported_at = 0.0
        self._lost_this_episode = 0
        self.lost = 0  # call-log writes neither the database nor the journal took, in all

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
        """At app start: create the tables if the database answers in time, check that the
        journal can be written, and replay a journal left by an earlier run. Never raises; a
        database down at start is an outage, a journal that cannot be written is logged loudly."""
        try:
            self._bounded(self._ensure_schema)
        except (FutureTimeout, SQLAlchemyError, OSError) as exc:
            self._outage(exc)
        try:
            self.journal.check()
        except OSError as exc:
            self._journal_failed(exc)
        if self._pending():
            self._kick()

    def write(self, name: str, **args: Any) -> Any:
        """Record one write (a `CallStore` write method and its arguments); returns its result
        when the database took it in time, else None. Never raises: a write neither the
        database nor the journal takes is counted in `lost`."""
        op = Op(name, args)
        journal_refused = False
        if self._pending():
            appended = self._to_journal(op, unless_empty=True)
            if appended:
                return None
            # False: refused, so the database even before what the journal holds (out of order
            # beats lost); None: a replay emptied the journal meanwhile, the database is next
            journal_refused = appended is False
        late: Future[Any] | None = None  # the write, still on the store thread
        if self._database_resting():
            late = self._unwaited(op)
        else:
            taken, result, late = self._to_database(op)
            if taken:
                return result
        if not journal_refused and self._to_journal(op):
            return None
        if late is None:
            self._lose(op)
        else:  # it may yet land: lost only if the database refuses it too
            late.add_done_callback(lambda done: self._late_done(op, done))
        return None

    def read(self, fn: Callable[[CallStore], T], default: T) -> T:
        """A read of the log within the budget, or `default` when the database cannot answer,
        or when journaled writes are not in it yet (the answer would be stale)."""
        if self._pending():
            self._kick()
            return default
        try:
            return self._bounded(lambda: fn(self.store))
        except (FutureTimeout, SQLAlchemyError, OSError) as exc:
            self._outage(exc)
            return default

    def behind(self) -> bool:
        """Whether the log is behind what webhooks answered: writes wait in the journal, or the
        last database call of this process failed. Never raises."""
        return self._outage_since is not None or self._pending()

    def _pending(self) -> bool:
        """Whether writes wait in the journal. A journal that cannot be listed is reported and
        taken as empty: the database, if it answers, is then the only place a write can go."""
        try:
            return self.journal.pending()
        except OSError as exc:
            self._journal_failed(exc)
            return False

    def _submit(self, op: Op) -> Future[Any]:
        """Hand `op` to the store thread, counted in `_db_in_flight` until it is done."""

        def counted() -> Any:
            try:
                return self._apply(op)
            finally:
                with self._lock:
                    self._db_in_flight -= 1

        with self._lock:
            self._db_in_flight += 1
        try:
            return self._pool().submit(counted)
        except BaseException:
            with self._lock:
                self._db_in_flight -= 1
            raise

    def _to_database(self, op: Op) -> tuple[bool, Any, Future[Any] | None]:
        """(True, the write's result, None) if the database took `op` within the budget; (False,
        None, the write) if it missed the budget and is still on the store thread."""
        pending = self._submit(op)
        try:
            result = pending.result(timeout=self.budget_s)
        except FutureTimeout as exc:
            self._outage(exc)
            return False, None, pending
        except (SQLAlchemyError, OSError) as exc:
            self._outage(exc)
            return False, None, None
        except Exception:  # a bug: keep the event, and show the traceback once per call
            log.exception("call-log write %s failed", op.name)
            return False, None, None
        if self._outage_since is not None:
            self._recovered(0)  # (with a journal to replay, its replay would say so too)
        return True, result, None

    def _unwaited(self, op: Op) -> Future[Any] | None:
        """`op` handed to the store thread without waiting on it, or None when `UNWAITED_MAX`
        writes already wait there."""
        with self._lock:
            if self._db_in_flight >= UNWAITED_MAX:
                return None
        return self._submit(op)

    def _late_done(self, op: Op, done: Future[Any]) -> None:
        """A write that neither the budget nor the journal saw through has ended on the store
        thread: lost if the database refused it (a bug's traceback is shown)."""
        if not done.cancelled():
            exc = done.exception()
            if exc is None:
                return  # it landed late
            if not isinstance(exc, SQLAlchemyError | OSError):
                log.error("call-log write %s failed", op.name, exc_info=exc)
        self._lose(op)

    def _database_resting(self) -> bool:
        """With the journal failing during an outage, a write is not waited on behind one still
        on the store thread: each would wait out its budget, and webhooks would pile up there."""
        return self._journal_error is not None and self._outage_since is not None and self._db_in_flight > 0

    def _to_journal(self, op: Op, *, unless_empty: bool = False) -> bool | None:
        """True if the journal took `op` (durably), False if it refused, None if `unless_empty`
        and the journal is empty (see `Journal.append`)."""
        try:
            appended = self.journal.append(op, unless_empty=unless_empty)
        except OSError as exc:
            self._journal_failed(exc)
            return False
        except Exception:  # a bug (an argument JSON cannot hold): its traceback, once per call
            log.exception("call-log write %s cannot be journaled", op.name)
            return False
        finally:
            self._kick()
        self._journal_worked()
        return True if appended else None

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

    # -- journal trouble -----------------------------------------------------------------

    def _journal_failed(self, exc: BaseException) -> None:
        """The journal refused (full disk, not a folder, unreadable...): logged once per episode."""
        reason = _one_line(exc)
        now = time.monotonic()
        with self._lock:
            first = self._journal_error is None
            if first:
                self._journal_failed_since = self._lost_reported_at = now
                self._lost_this_episode = 0
            self._journal_error = reason
            self._journal_failed_last = now
        if first:
            log.error(
                "call-log journal %s cannot be used (%s): callers are still routed, but a write "
                "the database does not take in time is LOST until it can; make it a folder this "
                "user can write (or set IVR311_JOURNAL_DIR to one) and free disk space there",
                self.journal.folder,
                reason,
            )
            self._kick()  # the replay thread checks it every retry_s until it is back

    def _lose(self, op: Op) -> None:
        now = time.monotonic()
        with self._lock:
            self.lost += 1
            self._lost_this_episode += 1
            remind = now - self._lost_reported_at >= LOST_REMINDER_S
            if remind:
                self._lost_reported_at = now
            count, reason = self._lost_this_episode, self._journal_error
        if remind:
            log.error(
                "call-log journal %s still cannot be used (%s): %d writes lost so far",
                self.journal.folder,
                reason,
                count,
            )

    def _journal_worked(self) -> None:
        """A write to the journal (or a check) succeeded: the journal is back once this is
        `JOURNAL_SETTLE_S` after its last failure (a disk at the edge of full does not flap)."""
        if self._journal_error is None:
            return
        now = time.monotonic()
        with self._lock:
            if self._journal_error is None or now - self._journal_failed_last < JOURNAL_SETTLE_S:
                return
            self._journal_error = None
            since, lost = self._journal_failed_since, self._lost_this_episode
        log.log(
            logging.ERROR if lost else logging.WARNING,
            "call-log journal %s usable again after %.1f s; %d call-log writes were lost meanwhile",
            self.journal.folder,
            now - since,
            lost,
        )

    def _check_journal(self) -> None:
        try:
            self.journal.check()
        except OSError as exc:
            self._journal_failed(exc)
        else:
            self._journal_worked()

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
        while not self._closed.wait(self.retry_s):
            if self._journal_error is not None:
                self._check_journal()
            if not self._pending():
                if self._journal_error is None:  # else an empty journal tells nothing
                    self._recovered(0)
                if self._outage_since is None and self._journal_error is None:
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
        keep arriving in a fresh file; once what arrived during a pass is small enough to
        commit within `FINAL_PASS_HOLD_S` at the pace of the pass before, the last pass holds
        appends for that long, so the journal does empty and writes go to the database again
        (a writer that waited on the hold finds the journal empty and goes there too). If the
        database cannot outrun the callers, passes go on without holding anyone, and the
        journal empties when the traffic eases. A chunk the database refuses for being down
        stays in its file (cut to what is not committed): nothing is applied twice out of
        order, nothing is lost."""
        started = time.monotonic()
        before = self.replayed
        pace: float | None = None  # ops/s of the last pass
        try:
            try:
                self._ensure_schema()
            except TRANSIENT as exc:
                raise _StoreDown(exc) from exc
            for _ in range(MAX_PASSES):
                # appends are held only once a pass has shown the database takes writes, and
                # how fast: never while it may still be down (a held append stalls webhooks)
                final = pace is not None and self.journal.live_count() <= min(
                    FINAL_PASS_MAX_OPS, pace * FINAL_PASS_HOLD_S
                )
                pass_started, pass_before = time.monotonic(), self.replayed
                if not self._replay_pass(hold_appends=final):  # another process replays
                    break
                if self.replayed > pass_before:
                    pace = (self.replayed - pass_before) / max(time.monotonic() - pass_started, 1e-6)
                if not self.journal.pending():
                    break
        except _StoreDown as down:
            self._outage(down.cause)
            return self.replayed - before
        except OSError as exc:  # the journal's own trouble: the database is not to blame
            self._journal_failed(exc)
            return self.replayed - before
        count = self.replayed - before
        if count:
            log.info("replayed %d call-log writes from the journal in %.3f s", count, time.monotonic() - started)
        if not self._pending():
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
        except TRANSIENT as exc:
            raise _StoreDown(exc) from exc
        except SQLAlchemyError:
            pass
        refused: list[bytes] = []
        for op in chunk:
            try:
                self._replay_one(op)
            except TRANSIENT as exc:
                raise _StoreDown(exc) from exc
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
        """`/healthz`: `ok`, or `degraded` while writes wait in the journal, the last database
        call of this process failed, or the journal cannot be used (`journal` says why; `lost`
        counts the writes neither took, since start). Routing works either way. Never raises."""
        try:
            pending: int | None = self.journal.count() if self.journal.pending() else 0
        except OSError as exc:
            self._journal_failed(exc)
            pending = None  # unknown: the journal cannot be read
        journal_error = self._journal_error
        degraded = bool(pending) or self._outage_since is not None or journal_error is not None
        report: dict[str, Any] = {
            "status": "degraded" if degraded else "ok",
            "store": "unreachable" if self._outage_since is not None else "ok",
            "journal": "ok" if journal_error is None else f"unwritable: {journal_error}",
            "journal_pending": pending,
            "lost": self.lost,
        }
        if self._outage_since is not None:
            report["outage_s"] = round(time.monotonic() - self._outage_since, 1)
            report["last_error"] = self._last_error
        return report

    def drain(self, wait_s: float = 30.0) -> None:
        """Wait until every write already handed to the store thread has ended (landed, or
        refused and counted in `lost`), so a reader right after (a test, a tool) sees them.
        Raises FutureTimeout after `wait_s`."""
        self._pool().submit(lambda: None).result(timeout=wait_s)

    def close(self) -> None:
        """Stop the replay thread (what is journaled waits for the next start) and the store
        thread, after the writes already handed to it."""
        self._closed.set()
        if self._executor is not None and self._pid == os.getpid():
            self._executor.shutdown(wait=True, cancel_futures=False)
            self._executor = None


class _StoreDown(Exception):
    """The database failed for being down during a replay (not the journal: its OSErrors are
    its own trouble)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FutureTimeout):
        return "no answer within the time budget"
    cause: Any = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"{type(cause).__name__}: {first}"[:200]
