"""The production server's worker: gunicorn's gthread, with a deadline for a request to arrive.

gunicorn's sync worker serves one connection at a time and reads it until the request is
complete, so 20 connections sending a byte a second held both workers and kept emergency (key 1)
answers past Twilio's 15 s webhook timeout. gthread accepts in an event loop and hands a
connection to a pool thread once its first byte arrives, but that thread then reads the rest of
the request with a blocking socket and no timeout (gunicorn/workers/gthread.py, `handle`): a
slow sender still holds a thread, for good if it stops sending. `ThreadWorker` bounds that: a
request must arrive whole within `READ_S` of a thread taking its connection, else the read side
of its socket is shut, the blocked read ends, and the thread is free again. So at most `threads`
slow clients per worker are held at once, each for at most `READ_S`; a buffering reverse proxy
in front absorbs them before they get here (docs/deployment.md).

A worker whose app refuses to start (an `IvrError`: settings, menu) prints its one line and
exits with gunicorn's "app failed to load" status, without a traceback.

Of gthread's own code it overrides only `handle(conn)` (one call per request, in a pool thread)
and reads only `conn.sock`; tests/ivr/test_gunicorn.py checks it against the installed gunicorn.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import sys
import threading
import time
from typing import Any

from gunicorn.arbiter import Arbiter
from gunicorn.workers import gthread

from ivr.errors import IvrError

# Seconds a request has, from the moment a thread takes its connection, to arrive whole (head
# and body). Twilio sends a webhook in one go in milliseconds; 10 s stays under its 15 s timeout.
READ_S = 10.0
CHECK_EVERY_S = 0.5  # how often deadlines are checked: a slow request is cut by READ_S + this

# 1 once a worker could not load the app, 2 once a second one reported it (its first refuser was
# stopped by a reload before the master saw its exit); made in the master, so shared by every
# worker it forks. gunicorn halts on a worker's "app failed to load" exit, and raises again, with
# a traceback, if another worker exits so while the master halts: only one reports at a time.
_app_refused = multiprocessing.Value("b", 0)
SECOND_REFUSAL_WAIT_S = 3.0  # a halting master stops the other workers well within this


class ThreadWorker(gthread.ThreadWorker):
    """gthread, with each request given `READ_S` to arrive (see the module docstring), and an
    app that refuses to start reported in its one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadlines: dict[Any, float] = {}  # connection being read -> monotonic deadline
        self._deadlines_lock = threading.Lock()

    def init_process(self) -> None:
        threading.Thread(target=self._cut_slow_reads, name="ivr311-read-deadline", daemon=True).start()
        super().init_process()

    def load_wsgi(self) -> None:
        """A user error of the app (IvrError: settings, menu) is its one line on stderr and
        gunicorn's "app failed to load" exit, never a traceback."""
        try:
            super().load_wsgi()
        except IvrError as exc:
            with _app_refused.get_lock():
                first = not _app_refused.value
                _app_refused.value = 1
            if first:
                print(exc.format_message(), file=sys.stderr, flush=True)
                sys.exit(Arbiter.APP_LOAD_ERROR)
            # Another worker refused the app first: the master halts on its exit and stops this
            # one (alive turns False) — quietly. If the master never saw that exit (a reload
            # stopped that worker first), this one reports the failure itself, or the master
            # would start workers that exit quietly forever.
            deadline = time.monotonic() + SECOND_REFUSAL_WAIT_S
            while self.alive and time.monotonic() < deadline:
                time.sleep(0.05)
            with _app_refused.get_lock():
                report = self.alive and _app_refused.value == 1
                if report:
                    _app_refused.value = 2  # one waiter reports: two would give the traceback
            if report:
                sys.exit(Arbiter.APP_LOAD_ERROR)
            while self.alive:  # the master halts on that report and stops this worker
                time.sleep(0.05)
            sys.exit(0)

    def handle(self, conn: Any) -> Any:
        with self._deadlines_lock:
            self._deadlines[conn] = time.monotonic() + READ_S
        try:
            return super().handle(conn)
        finally:
            # The main thread closes the socket only after this returns: the watchdog never
            # shuts down a closed socket's number reused by another connection.
            with self._deadlines_lock:
                self._deadlines.pop(conn, None)  # gone already if it was cut

    def _cut_slow_reads(self) -> None:
        """Shut the read side of every connection past its deadline: the blocked read returns
        end-of-file and the thread is free. The write side stays open, so an answer the app is
        still writing (for a request that arrived in time) is not cut."""
        while True:
            time.sleep(CHECK_EVERY_S)
            now = time.monotonic()
            with self._deadlines_lock:
                late = [conn for conn, deadline in self._deadlines.items() if deadline <= now]
                for conn in late:
                    del self._deadlines[conn]
                    # socket.socket's own shutdown, also for a TLS socket: its SSL object stays
                    # with the thread reading it. OSError: the client closed it already.
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(conn.sock, socket.SHUT_RD)
