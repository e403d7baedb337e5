"""Webhook latency of the voice app under load (a benchmark, not a timed test).

Starts the app under gunicorn (2 sync workers, not `make serve`'s settings) on loopback with a
fresh SQLite call log, and simulated callers, a thread each, that walk the menu as Twilio would
drive it on the softphone's walker (`ivr.tools.softphone.CallWalker` over HTTP: signed form posts,
following each Gather action):
greeting, a menu path (emergency by key 1 or by saying "emergency", services by key, speech,
low-confidence speech with confirmation, operator), the hold music URL, the agent line, the
bridge, the queue result and the final status callback. Then
the same callers, same requests, against a Flask endpoint that returns a fixed TwiML string (same
gunicorn setup), as a ceiling.

Reports requests/s, p50/p99 latency, errors, and calls lost from the log (every finished walk
must be in the export with its final status). Targets: p99 < 50 ms,
>= 500 requests/s, >= half the fixed endpoint's throughput, 0 calls lost.

With `--outage S`, a third run of the app: another connection holds `BEGIN EXCLUSIVE` on the
SQLite file for S seconds in the middle of the load (the database is unreachable for writes).
It reports the emergency path (the webhook that answers key 1 or "emergency" with
`<Enqueue>911</Enqueue>`) before, during and after the outage against the first run's, the
emergency answers that were not a 911 enqueue (must be 0), calls lost once the journal is
replayed (must be 0), the journal replay time (end of the outage until /healthz reports
`journal_pending` 0) and the number of writes replayed (from the app's log).

With `--database postgres` the three runs use a throwaway PostgreSQL server instead (Debian's
binaries, /usr/lib/postgresql/*/bin, started as in the suite by bench/pgcluster.py; a fresh
database for each app run), and the outage is the server stopped (`pg_ctl stop -m fast`) for S
seconds and started again: the same figures.

With `--api-clients K`, each app run beyond the first also has K Open311 clients polling the
public list (`GET /open311/v2/requests.json` in a loop, a short pause after an answer that is not
a 200) over a log seeded with `--api-requests` service requests (most from calls, with their
transcript, some from the API with long descriptions), and a run "ivr app + K API" measures what
they cost the webhooks (throughput against the first run). With `--freeze S` (PostgreSQL only),
one more run: every server process SIGSTOPped for S seconds mid-load (a hung server: connections
stay open, nothing answers, no server-side timeout fires), then SIGCONT; it reports the
emergency path during the freeze against the first run (target p99 under 1 s), the webhooks
answered past Twilio's 15 s timeout (or not at all; target 0), and what the Open311 clients got.
`--threads T` serves with T threads per worker (gunicorn's gthread worker).

    .venv/bin/python -m bench.webhook_latency                 # 50 callers, 60 s per server
    .venv/bin/python -m bench.webhook_latency --duration 10   # a short run
    .venv/bin/python -m bench.webhook_latency --duration 60 --outage 10
    .venv/bin/python -m bench.webhook_latency --duration 60 --outage 10 --database postgres
    .venv/bin/python -m bench.webhook_latency --database postgres --threads 4 --api-clients 8 --freeze 10

The callers (`drive`) and the server handling (`Server`) are also the load of the suite's kill -9
test (tests/ivr/calllog/test_journal_crash.py), which imports this file: each walk keeps which webhooks were
answered, the ground truth the call log is checked against; the Open311 isolation test
(tests/ivr/open311/test_apigate.py) uses its server, seeding and pollers.

One file past 600 lines on purpose: one benchmark (server, load, faults, report) that the
suite also loads by path, where bench/ is not a package.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.errors import IvrError
from ivr.tools.softphone import CallWalker, HttpTransport, TwilioClient

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-" + uuid.uuid4().hex[:8]
CALLER_HASH_KEY = "bench-caller-hash-key-0123456789"
FIXED_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you for calling.</Say></Response>'
# The app's own warnings, and the recorder's replay lines (which count the writes replayed), with
# the worker's pid; nothing per request, so logging does not weigh on the latency measured.
LOG_CONFIG = {
    "root": {"level": "WARNING", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "WARNING", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        "ivr.calllog.recorder": {"level": "INFO", "handlers": [], "propagate": True},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "pid", "stream": "ext://sys.stderr"}},
    "formatters": {"pid": {"format": "%(asctime)s [%(process)d] %(name)s %(levelname)s %(message)s"}},
}
REPLAYED_LINE = re.compile(r"replayed (\d+) call-log writes from the journal")


def make_fixed_app():  # type: ignore[no-untyped-def]
    """The baseline: Flask returning a fixed TwiML string on every path, nothing else."""
    from flask import Flask, Response

    fixed = Flask("fixed_twiml")

    @fixed.post("/", defaults={"path": ""})
    @fixed.post("/<path:path>")
    def anything(path: str) -> Response:
        return Response(FIXED_TWIML, mimetype="text/xml")

    @fixed.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return fixed


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(port: int, db_url: str, journal_dir: Path) -> dict[str, str]:
    """The voice app's environment for a run on `port` (signatures checked, journal in a temp dir)."""
    return {
        "TWILIO_AUTH_TOKEN": TOKEN,
        "IVR311_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "IVR311_DATABASE_URL": db_url,
        "IVR311_VALIDATE_SIGNATURES": "1",
        "IVR311_CALLER_HASH_KEY": CALLER_HASH_KEY,
        "IVR311_JOURNAL_DIR": str(journal_dir),
    }


class Server:
    """gunicorn serving `target` on loopback `port`, in a process group of its own; the log is
    appended to, so a restarted server keeps the earlier lines."""

    def __init__(self, target: str, port: int, env: dict[str, str], workers: int, log: Path, threads: int = 1):
        self.port = port
        self.log = log
        log_config = log.with_suffix(".logging.json")
        log_config.write_text(json.dumps(LOG_CONFIG))
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",  # more than 1: gunicorn's gthread worker
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--log-config-json",
            str(log_config),
            target,
        ]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn {target} did not start:\n{log.read_text()}")

    def health(self) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as resp:
            report: dict[str, object] = json.loads(resp.read())
        return report

    def cpu_s(self) -> float:
        """CPU seconds used so far by the master and its workers (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.proc.pid or ppid == self.proc.pid:
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def kill(self) -> None:
        """kill -9 of the master and its workers at once (the whole process group)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wait_journal_drained(server: Server, timeout_s: float = 300.0, poll_s: float = 0.02) -> float | None:
    """Seconds until /healthz reports journal_pending 0 (None if not within `timeout_s`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if server.health().get("journal_pending") == 0:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(poll_s)
    return None


def replayed_writes(log: Path) -> int:
    """Writes the app replayed from its journal, from the recorder's lines in the server log."""
    return sum(int(m.group(1)) for m in REPLAYED_LINE.finditer(log.read_text(errors="replace")))


# -- callers -------------------------------------------------------------------------------

EMERGENCY_KINDS = ("emergency", "emergency_speech")
PATHS = [*EMERGENCY_KINDS, "services", "services_page2", "speech", "confirm", "operator"]
# The webhooks of one walk, in order: "route" is the menu answer that enqueues a 311 caller,
# "emergency" the one that must enqueue an emergency caller in 911.
STEPS = ("voice", "menu", "services", "route", "emergency", "wait", "agent", "bridge", "queue_result", "status")
REQUEST_TIMEOUT_S = 30.0  # past Twilio's 15 s, so that late answers are seen, not cut off
TWILIO_TIMEOUT_S = 15.0
DOWN_PAUSE_S = 0.05  # after a webhook got no answer (server down): a caller does not hammer it


@dataclass
class Sample:
    """One webhook request."""

    step: str
    sent_s: float  # when it was sent, seconds since the load started
    latency_s: float
    answered: bool  # HTTP 200 with a TwiML <Response>
    enqueue: str | None = None  # the queue its <Enqueue> named, if any


@dataclass
class Walk:
    """One simulated call, and which of its webhooks were answered (the ground truth)."""

    sid: str
    kind: str
    queue: str  # the queue the menu's <Enqueue> named; before that answer, the one asked for
    answered: dict[str, bool] = field(default_factory=dict)  # step -> answered (see Sample)

    @property
    def finished(self) -> bool:
        """Every webhook of the walk was answered."""
        return all(self.answered.values())


@dataclass
class ApiSample:
    """One GET of the Open311 public list."""

    sent_s: float
    latency_s: float
    status: int  # 0: no answer (refused, reset, timed out)
    size: int  # bytes of the body


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    elapsed_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    walks: list[Walk] = field(default_factory=list)
    api: list[ApiSample] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.answered)

    @property
    def finished_calls(self) -> list[str]:
        return [w.sid for w in self.walks if w.finished]


class BenchCall:
    """One call of the load on the softphone's walker (`ivr.tools.softphone.CallWalker`, the project's
    one TwiML walker: signed form posts, the answer parsed as a TwiML <Response>), each webhook
    timed and named by its step. A webhook not answered (refused, reset, timed out, not a 200
    <Response>) leaves no document: the walk goes on with the URL the app would have given there,
    so the kill -9 test also sees calls that span a restart."""

    def __init__(self, twilio: TwilioClient, walk: Walk, caller: str, stats: Stats, pause: Callable[[], float]):
        self.walker = CallWalker(twilio, walk.sid, caller)
        self.walk = walk
        self.stats = stats
        self.pause = pause  # seconds to think after an answered webhook

    def hit(self, step: str, url: str, walker: CallWalker | None = None, **extra: str) -> None:
        """Post one webhook of the call (or of `walker`'s, the call-taker's) and record it."""
        walker = walker or self.walker
        sent = time.monotonic()
        t0 = time.perf_counter()
        try:
            walker.request(url, **extra)
        except IvrError:
            walker.doc = None
        latency_s = time.perf_counter() - t0
        enqueue = walker.enqueue
        answered = walker.doc is not None
        self.stats.samples.append(
            Sample(step, sent - self.stats.started, latency_s, answered, enqueue.text if enqueue is not None else None)
        )
        self.walk.answered[step] = answered
        pause_s = self.pause() if answered else DOWN_PAUSE_S
        if pause_s:
            time.sleep(pause_s)

    def action(self, fallback: str) -> str:
        """The current document's <Gather> action; `fallback` when there is none (no document,
        or one without a <Gather>)."""
        try:
            return self.walker.gather.get("action", fallback)
        except IvrError:
            return fallback

    def give_address(self) -> None:
        """Services with a location ask for the street address (speech), then a yes: the
        webhook that queues the caller is the confirmation, so that one is the `route` step."""
        url = self.action("")
        if not url.startswith("/voice/address"):
            return
        self.walk.answered["menu"] = self.walk.answered.pop("route", False)
        self.hit("menu", url, SpeechResult="100 Main Street", Confidence="0.9")
        self.hit("route", self.action("/voice/address-confirm"), Digits="1")


def caller(base: str, stop: Callable[[], bool], think_s: float, stats: Stats, seed: int) -> None:
    """One simulated caller: whole calls, one after the other, on a random path, until `stop()`
    (a call under way then is finished)."""
    rng = random.Random(seed)
    twilio = TwilioClient(HttpTransport(base, timeout_s=REQUEST_TIMEOUT_S), TOKEN, base)

    def pause() -> float:
        return rng.uniform(0.5, 1.5) * think_s if think_s else 0.0

    while not stop():
        kind = rng.choice(PATHS)
        walk = Walk("CA" + uuid.uuid4().hex, kind, "911" if kind in EMERGENCY_KINDS else "311")
        stats.walks.append(walk)
        call = BenchCall(twilio, walk, f"+1555{rng.randrange(10**7):07d}", stats, pause)
        call.hit("voice", "/voice")
        menu_url = call.action("/voice/menu?lang=en&n=1&a=0")
        if kind == "emergency":
            call.hit("emergency", menu_url, Digits="1")
        elif kind == "emergency_speech":
            call.hit("emergency", menu_url, SpeechResult="emergency", Confidence="0.4")
        elif kind == "operator":
            call.hit("route", menu_url, Digits="0")
        elif kind == "speech":
            call.hit("route", menu_url, SpeechResult="a pothole", Confidence="0.9")
        elif kind == "confirm":
            call.hit("menu", menu_url, SpeechResult="graffiti", Confidence="0.3")
            call.hit(
                "route",
                call.action("/voice/confirm?lang=en&n=2&a=0&cat=graffiti"),
                SpeechResult="yes",
                Confidence="0.8",
            )
        else:
            call.hit("menu", menu_url, Digits="2")
            url = call.action("/voice/services?lang=en&n=2&a=0&page=1")
            if kind == "services_page2":
                call.hit("services", url, Digits="9")
                url = call.action("/voice/services?lang=en&n=3&a=0&page=2")
            call.hit("route", url, Digits=str(rng.randint(1, 6)))
        call.give_address()
        enqueue = call.walker.enqueue
        if enqueue is not None and enqueue.text:
            walk.queue = enqueue.text
        wait_url = enqueue.get("waitUrl") if enqueue is not None else None
        result_url = enqueue.get("action") if enqueue is not None else None
        call.hit(
            "wait",
            wait_url or f"/voice/wait?lang=en&queue={walk.queue}",
            QueuePosition="1",
            QueueTime="5",
            CurrentQueueSize="3",
        )
        call.hit("agent", "/agent", walker=CallWalker(twilio, caller="+15550009999"))
        call.hit("bridge", "/voice/bridge", QueueTime="20", DequeingCallSid="CAagent")
        call.hit(
            "queue_result",
            result_url or f"/voice/queue-result?lang=en&queue={walk.queue}",
            QueueResult="bridged",
            QueueTime="20",
        )
        call.hit("status", "/status", CallStatus="completed", CallDuration="90", SequenceNumber="3")


Fault = tuple[float, Callable[[], None]]


class Faults(threading.Thread):
    """Runs each `(at_s, action)` at `at_s` seconds after `started`, in order, while the callers
    run; `join` re-raises what an action raised."""

    def __init__(self, faults: Sequence[Fault], started: float) -> None:
        super().__init__(name="faults", daemon=True)
        self.faults = sorted(faults, key=lambda f: f[0])
        self.started = started
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for at_s, act in self.faults:
                time.sleep(max(0.0, self.started + at_s - time.monotonic()))
                act()
        except BaseException as exc:  # handed to the main thread by join
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


# -- Open311 clients --------------------------------------------------------------------------

API_LIST = "/open311/v2/requests.json"


def poller(port: int, stop_at: float, stats: Stats, stop: threading.Event | None = None) -> None:
    """An Open311 client polling the public list until `stop_at` (or `stop` is set), as fast as
    it is answered."""
    while time.monotonic() < stop_at and not (stop is not None and stop.is_set()):
        sent = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        status, size = 0, 0
        try:
            conn.request("GET", API_LIST, headers={"Connection": "close"})
            resp = conn.getresponse()
            status, size = resp.status, len(resp.read())
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        stats.api.append(ApiSample(sent - stats.started, time.monotonic() - sent, status, size))
        if status != 200:
            time.sleep(DOWN_PAUSE_S)


TRANSCRIPT = "there is a problem on my street, my name is Jane Roe, call me back on 555 765 4321 "


def seed_requests(db_url: str, count: int) -> None:
    """`count` service requests over the last days: nine in ten from calls (a transcript of the
    menu's longest, 300 characters, and a street address), one in ten from the API (a 4,000
    character description, the API's longest)."""
    from datetime import UTC, datetime, timedelta

    from ivr.calllog.servicerequests import RequestStore

    store = RequestStore(db_url)
    now = datetime.now(UTC)
    try:
        with store.batch():
            for i in range(count):
                at = now - timedelta(minutes=7 * i)
                if i % 10:
                    said = (TRANSCRIPT * 4)[:300]
                    store.open_call_request(f"CAseed{i:026x}", "noise", "en", said, f"{i} Main Street", now=at)
                else:
                    store.requests.create("graffiti", description=(TRANSCRIPT * 50)[:4000], address="1 Elm St", now=at)
    finally:
        store.close()


def drive(
    port: int,
    callers: int,
    duration_s: float,
    think_s: float = 0.0,
    faults: Sequence[Fault] = (),
    api_clients: int = 0,
    *,
    stats: Stats | None = None,
    until: Callable[[], bool] | None = None,
) -> Stats:
    """`callers` simulated callers walking whole calls for `duration_s`, a thread each (as
    `ivr.tools.callers.drive_server` drives a server), and `api_clients` Open311 clients polling the
    public list; `faults` run meanwhile (a walk under way when the time is up is finished).
    `until`, if given, ends the load earlier once it holds (then `duration_s` is a deadline);
    `stats` lets it and the faults watch the load as it runs."""
    stats = stats or Stats()
    stop_at = stats.started + duration_s

    def stop() -> bool:
        return time.monotonic() >= stop_at or (until is not None and until())

    injector = Faults(faults, stats.started)
    injector.start()
    try:
        with ThreadPoolExecutor(max_workers=callers + api_clients, thread_name_prefix="caller") as pool:
            base = f"http://127.0.0.1:{port}"
            everyone = [pool.submit(caller, base, stop, think_s, stats, i) for i in range(callers)]
            everyone += [pool.submit(poller, port, stop_at, stats) for _ in range(api_clients)]
            for one in everyone:
                one.result()  # a bug in a caller is raised here
        stats.elapsed_s = time.monotonic() - stats.started
    finally:
        injector.join()
    return stats


@dataclass
class Run:
    stats: Stats
    elapsed_s: float
    server_cpu_s: float
    client_cpu_s: float


def load(
    server: Server,
    callers: int,
    duration_s: float,
    think_s: float,
    faults: Sequence[Fault] = (),
    api_clients: int = 0,
) -> Run:
    cpu0, client0 = server.cpu_s(), time.process_time()
    stats = drive(server.port, callers, duration_s, think_s, faults, api_clients)
    return Run(stats, stats.elapsed_s, server.cpu_s() - cpu0, time.process_time() - client0)


def quantiles_ms(latencies_s: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms (0 when there are fewer than two values)."""
    if len(latencies_s) < 2:
        return (round(latencies_s[0] * 1000, 2),) * 2 if latencies_s else (0.0, 0.0)
    q = statistics.quantiles(latencies_s, n=100, method="inclusive")
    return round(q[49] * 1000, 2), round(q[98] * 1000, 2)


def summarize(name: str, run: Run) -> dict[str, float | int | str]:
    stats, elapsed_s = run.stats, run.elapsed_s
    lat = sorted(s.latency_s for s in stats.samples if s.answered)
    p50, p99 = quantiles_ms(lat)
    return {
        "server": name,
        "requests": len(lat),
        "requests_per_s": round(len(lat) / elapsed_s, 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": round((lat[-1] if lat else 0.0) * 1000, 2),
        "errors": stats.errors,
        "late": sum(1 for s in stats.samples if not s.answered or s.latency_s >= TWILIO_TIMEOUT_S),
        "calls": len(stats.finished_calls),
        "server_cpu_ms_per_request": round(run.server_cpu_s * 1000 / max(len(lat), 1), 3),
        "client_cpu_ms_per_request": round(run.client_cpu_s * 1000 / max(len(lat), 1), 3),
    }


def calls_lost(db_url: str, finished: list[str]) -> int:
    """Finished walks missing from the log, or logged without their final status."""
    from ivr.calllog.store import CallStore

    store = CallStore(db_url, create=False)
    try:
        logged = {r["call_sid"]: r for r in store.export_rows()}
    finally:
        store.close()
    return sum(
        1
        for sid in finished
        if sid not in logged or logged[sid]["status"] != "completed" or logged[sid]["queue_result"] != "bridged"
    )


# -- outage ----------------------------------------------------------------------------------


class SqliteLock:
    """Another connection (this process, not the app's) holding `BEGIN EXCLUSIVE` on the call
    log: the app's writes wait out their busy timeout and fail, as with a stuck writer."""

    what = "call log locked (BEGIN EXCLUSIVE)"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.held_at = self.released_at = 0.0  # monotonic

    def hold(self) -> None:
        self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.conn.execute("BEGIN EXCLUSIVE")
        self.held_at = time.monotonic()

    def release(self) -> None:
        assert self.conn is not None
        self.conn.execute("COMMIT")
        self.conn.close()
        self.released_at = time.monotonic()


class _PgOutage:
    """The throwaway PostgreSQL server (bench/pgcluster.py's PgCluster) made unavailable by
    ``_begin`` and available again by ``_end``; the outage counts from ``hold`` being asked until
    ``_end`` returned."""

    what = ""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.held_at = self.released_at = 0.0  # monotonic

    def hold(self) -> None:
        self.held_at = time.monotonic()
        self._begin()

    def release(self) -> None:
        self._end()
        self.released_at = time.monotonic()

    def _begin(self) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError


class PgStop(_PgOutage):
    """The PostgreSQL server stopped (`pg_ctl stop -m fast`: connections cut, nothing listening)
    and started again: the app's open connections are dead and new ones are refused. The outage
    counts from the stop being asked until the server accepts connections again (`pg_ctl start -w`
    returned), so the shutdown and the restart are both inside it."""

    what = "PostgreSQL server stopped (pg_ctl stop -m fast)"

    def _begin(self) -> None:
        self.cluster.stop("fast")

    def _end(self) -> None:
        self.cluster.start()


class PgFreeze(_PgOutage):
    """The PostgreSQL server hung: every server process SIGSTOPped (connections stay open, the
    kernel still accepts new ones, nothing answers; no server-side timeout can fire), then
    SIGCONT. The outage counts from the SIGSTOP to the SIGCONT."""

    what = "PostgreSQL server frozen (SIGSTOP, connections open)"

    def _begin(self) -> None:
        self.cluster.freeze()

    def _end(self) -> None:
        self.cluster.thaw()


def load_pgcluster() -> Any:
    """A throwaway cluster of bench.pgcluster (imported here, when asked for: gunicorn loads this
    module as bench.webhook_latency for its fixed app and needs none)."""
    from bench.pgcluster import PgCluster

    return PgCluster()


@dataclass
class Outage:
    held_s: float = 0.0  # since the load started
    released_s: float = 0.0
    replay_s: float | None = None  # end of the outage until journal_pending 0 (None: not in time)


def outage_run(
    server: Server,
    lock: SqliteLock | PgStop | PgFreeze,
    callers: int,
    duration_s: float,
    think_s: float,
    outage_s: float,
    drain_timeout_s: float,
    api_clients: int = 0,
) -> tuple[Run, Outage]:
    """The load with the database unreachable (`lock` held) for `outage_s` in the middle, and the
    replay measured."""
    outage = Outage()
    start_s = max(0.0, (duration_s - outage_s) / 2)

    def release_and_replay() -> None:
        lock.release()
        outage.replay_s = wait_journal_drained(server, drain_timeout_s)

    faults: list[Fault] = [(start_s, lock.hold), (start_s + outage_s, release_and_replay)]
    run = load(server, callers, duration_s, think_s, faults, api_clients)
    started = run.stats.started
    outage.held_s, outage.released_s = lock.held_at - started, lock.released_at - started
    return run, outage


def phase(sent_s: float, latency_s: float, outage: Outage) -> str:
    """`before` the outage (answered before it began), `after` it (sent once it was over), or
    `during` it: waiting at some moment of it, so a webhook the outage held up counts here."""
    if sent_s + latency_s < outage.held_s:
        return "before"
    return "after" if sent_s >= outage.released_s else "during"


def emergency_report(run: Run, outage: Outage, reference: Run) -> dict[str, object]:
    """The emergency path before, during and after the outage, against the no-outage run. A
    webhook not answered counts with the time it waited."""
    ref = [s.latency_s for s in reference.stats.samples if s.step == "emergency" and s.answered]
    ref_p50, ref_p99 = quantiles_ms(ref)
    phases: dict[str, dict[str, float | int]] = {}
    for name in ("before", "during", "after"):
        picked = [
            s for s in run.stats.samples if s.step == "emergency" and phase(s.sent_s, s.latency_s, outage) == name
        ]
        p50, p99 = quantiles_ms([s.latency_s for s in picked])
        phases[name] = {
            "requests": len(picked),
            "p50_ms": p50,
            "p99_ms": p99,
            "p50_vs_no_outage": round(p50 / ref_p50, 2) if ref_p50 else 0.0,
            "p99_vs_no_outage": round(p99 / ref_p99, 2) if ref_p99 else 0.0,
            "not_911": sum(1 for s in picked if not s.answered or s.enqueue != "911"),
            "late": sum(1 for s in picked if not s.answered or s.latency_s >= TWILIO_TIMEOUT_S),
        }
    return {
        "no_outage": {"requests": len(ref), "p50_ms": ref_p50, "p99_ms": ref_p99},
        "phases": phases,
        "not_911": sum(int(p["not_911"]) for p in phases.values()),
    }


def api_report(stats: Stats, outage: Outage | None = None) -> dict[str, object]:
    """What the Open311 clients got (during `outage` if given): answers by status (0 = none),
    latency, size of a 200."""
    picked = [a for a in stats.api if outage is None or phase(a.sent_s, a.latency_s, outage) == "during"]
    ok = [a.size for a in picked if a.status == 200]
    p50, p99 = quantiles_ms([a.latency_s for a in picked if a.status])
    statuses: dict[str, int] = {}
    for a in picked:
        statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
    return {
        "requests": len(picked),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": p50,
        "p99_ms": p99,
        "bytes_per_200": round(statistics.mean(ok)) if ok else 0,
    }


def print_api(label: str, report: dict[str, object]) -> None:
    print(
        f"{label}: {report['requests']} GETs of the public list, answered {report['statuses']}, "
        f"p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, {report['bytes_per_200']:,} bytes a 200"
    )


def print_outage(row: dict[str, object]) -> None:
    emergency = row["emergency"]
    assert isinstance(emergency, dict)
    ref = emergency["no_outage"]
    print(f"\n{row['outage_what']} {row['outage_s']} s, from {row['outage_from_s']} s into the load")
    print(
        f"{'emergency path':<16} {'answers':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 x':>7} {'p99 x':>7} "
        f"{'not 911':>8} {'>15 s':>6}"
    )
    print(
        f"{'no-fault run':<16} {ref['requests']:>8} {ref['p50_ms']:>8} {ref['p99_ms']:>8} {'1':>7} {'1':>7} "
        f"{'-':>8} {'-':>6}"
    )
    for phase, p in emergency["phases"].items():
        print(
            f"{phase + ' outage':<16} {p['requests']:>8} {p['p50_ms']:>8} {p['p99_ms']:>8} "
            f"{p['p50_vs_no_outage']:>7} {p['p99_vs_no_outage']:>7} {p['not_911']:>8} {p['late']:>6}"
        )
    replay = row["replay_s"]
    drained = "not in time" if replay is None else f"{replay:.2f} s after the outage"
    if replay is not None and not row["drained_under_load"]:
        drained += f", once the load had stopped ({row['load_s']} s)"
    print(
        f"journal: {row['events_replayed']} writes replayed, drained {drained}; "
        f"calls {row['calls']}, lost {row['calls_lost']}, errors {row['errors']}, "
        f"webhooks answered past {TWILIO_TIMEOUT_S:g} s or not at all {row['late']}"
    )
    if "api_during" in row:
        print_api("Open311 clients during the outage", row["api_during"])  # type: ignore[arg-type]


def fault_run(
    server: Server,
    lock: SqliteLock | PgStop | PgFreeze,
    db_url: str,
    log: Path,
    args: argparse.Namespace,
    seconds: float,
) -> dict[str, object]:
    """A run with `lock` held for `seconds` mid-load: the outage's figures as one row."""
    think_s = args.think_ms / 1000
    api_clients = args.api_clients if isinstance(lock, PgFreeze) else 0
    try:
        run, outage = outage_run(
            server, lock, args.callers, args.duration, think_s, seconds, args.drain_timeout, api_clients
        )
    finally:
        server.stop()
    row: dict[str, object] = {
        **summarize(f"ivr app, {'freeze' if isinstance(lock, PgFreeze) else 'outage'}", run),
        "calls_lost": calls_lost(db_url, run.stats.finished_calls),
        "outage_what": lock.what,
        "outage_s": round(outage.released_s - outage.held_s, 2),
        "outage_from_s": round(outage.held_s, 2),
        "replay_s": None if outage.replay_s is None else round(outage.replay_s, 3),
        # whether the journal caught up while the callers were still calling
        "drained_under_load": outage.replay_s is not None and outage.released_s + outage.replay_s < run.elapsed_s,
        "load_s": round(run.elapsed_s, 2),
        "events_replayed": replayed_writes(log),
        "run": run,
        "outage": outage,
    }
    if api_clients:
        row["api_during"] = api_report(run.stats, outage)
        row["api"] = api_report(run.stats)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per server")
    parser.add_argument("--callers", type=int, default=50, help="concurrent simulated callers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (more than 1: the gthread worker)"
    )
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="mean pause of a caller between webhooks (0 = closed loop)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the call log: a SQLite file (the outage locks it) or a throwaway PostgreSQL server "
        "from /usr/lib/postgresql/*/bin (the outage stops it and starts it again)",
    )
    parser.add_argument(
        "--outage",
        type=float,
        default=0.0,
        metavar="S",
        help="also a run with the call log unreachable for S seconds mid-load",
    )
    parser.add_argument(
        "--api-clients",
        type=int,
        default=0,
        metavar="K",
        help="also a run with K Open311 clients polling the public list (and K in the --freeze run)",
    )
    parser.add_argument(
        "--api-requests",
        type=int,
        default=1000,
        metavar="N",
        help="service requests in the log of every app run when there are Open311 clients",
    )
    parser.add_argument(
        "--freeze",
        type=float,
        default=0.0,
        metavar="S",
        help="also a run with the PostgreSQL server frozen (SIGSTOP, connections open) for S seconds mid-load",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="longest wait for the journal to drain after the outage",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.freeze and args.database != "postgres":
        parser.error("--freeze needs --database postgres (a frozen server; SQLite has none)")
    think_s = args.think_ms / 1000
    seeded = args.api_requests if args.api_clients or args.freeze else 0

    tmp = Path(tempfile.mkdtemp(prefix="ivr311-bench-"))
    results = []
    fault_rows: list[dict[str, object]] = []
    cluster = load_pgcluster() if args.database == "postgres" else None

    def app_server(name: str) -> tuple[Server, str, Path]:
        """The app on a fresh database (seeded when Open311 clients poll it)."""
        db_url = cluster.create_database() if cluster else f"sqlite:///{tmp / (name + '.sqlite3')}"
        if seeded:
            seed_requests(db_url, seeded)
        port, log = free_port(), tmp / f"{name}.log"
        env = app_env(port, db_url, tmp / f"{name}-journal")
        return Server("app:app", port, env, args.workers, log, args.threads), db_url, log

    try:
        server, db_url, _ = app_server("app")
        try:
            reference = load(server, args.callers, args.duration, think_s)
        finally:
            server.stop()
        app_row = summarize("ivr app", reference)
        app_row["calls_lost"] = calls_lost(db_url, reference.stats.finished_calls)
        results.append(app_row)

        port = free_port()
        fixed = Server(
            "bench.webhook_latency:make_fixed_app()", port, {}, args.workers, tmp / "fixed.log", args.threads
        )
        try:
            run = load(fixed, args.callers, args.duration, think_s)
        finally:
            fixed.stop()
        results.append(summarize("fixed TwiML", run))

        if args.api_clients:
            server, db_url, _ = app_server("api")
            try:
                run = load(server, args.callers, args.duration, think_s, api_clients=args.api_clients)
            finally:
                server.stop()
            api_row = summarize(f"ivr app + {args.api_clients} API", run)
            api_row["calls_lost"] = calls_lost(db_url, run.stats.finished_calls)
            api_row["api"] = api_report(run.stats)
            results.append(api_row)

        if args.freeze:
            server, db_url, log = app_server("freeze")
            fault_rows.append(fault_run(server, PgFreeze(cluster), db_url, log, args, args.freeze))

        if args.outage:
            lock: SqliteLock | PgStop
            if cluster:
                lock = PgStop(cluster)
                server, db_url, log = app_server("outage")
            else:
                server, db_url, log = app_server("outage")
                lock = SqliteLock(Path(db_url.removeprefix("sqlite:///")))
            fault_rows.append(fault_run(server, lock, db_url, log, args, args.outage))
    finally:
        if cluster:
            cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    for row in fault_rows:
        run, outage = row.pop("run"), row.pop("outage")
        assert isinstance(run, Run) and isinstance(outage, Outage)
        row["emergency"] = emergency_report(run, outage, reference)

    app_row, fixed_row = results[:2]
    print(
        f"{args.callers} callers, {args.duration:g} s per server, {args.workers} gunicorn "
        f"workers x {args.threads} threads, think {args.think_ms:g} ms, loopback, "
        f"{'PostgreSQL ' + cluster.bindir.parent.name if cluster else 'SQLite (WAL)'} call log"
    )
    print(
        f"{'server':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7} {'calls':>6} {'lost':>5} {'srv cpu ms/req':>15} {'cli cpu ms/req':>15}"
    )
    for row in results:
        print(
            f"{row['server']:<16} {row['requests_per_s']:>8} {row['p50_ms']:>8} "
            f"{row['p99_ms']:>8} {row['max_ms']:>8} {row['errors']:>7} {row['calls']:>6} "
            f"{row.get('calls_lost', '-'):>5} {row['server_cpu_ms_per_request']:>15} "
            f"{row['client_cpu_ms_per_request']:>15}"
        )
    ratio = float(app_row["requests_per_s"]) / max(float(fixed_row["requests_per_s"]), 1e-9)
    targets = {
        "p99 < 50 ms": float(app_row["p99_ms"]) < 50,
        ">= 500 req/s": float(app_row["requests_per_s"]) >= 500,
        f">= half the fixed endpoint ({ratio:.2f})": ratio >= 0.5,
        "0 calls lost": app_row["calls_lost"] == 0,
        "0 errors": app_row["errors"] == 0,
    }
    if args.api_clients:
        api_row = results[2]
        print_api(f"\n{args.api_clients} Open311 clients", api_row["api"])  # type: ignore[arg-type]
        kept = float(api_row["requests_per_s"]) / max(float(app_row["requests_per_s"]), 1e-9)
        api_row["webhook_throughput_vs_no_api"] = round(kept, 2)
        print(f"webhook throughput with them: {kept:.2f} x the run without")
        targets[f"{args.api_clients} API clients: webhooks keep >= half their throughput ({kept:.2f})"] = kept >= 0.5
    for row in fault_rows:
        print_outage(row)
        emergency = row["emergency"]
        assert isinstance(emergency, dict)
        if row["outage_what"] == PgFreeze.what:
            during = emergency["phases"]["during"]
            ref_p99 = float(emergency["no_outage"]["p99_ms"])
            row["emergency_p99_during_vs_no_fault"] = round(float(during["p99_ms"]) / ref_p99, 2) if ref_p99 else None
            print(
                f"freeze, {args.api_clients} Open311 clients: emergency p99 {during['p99_ms']} ms "
                f"({row['emergency_p99_during_vs_no_fault']} x the no-fault run)"
            )
            targets["freeze: emergency p99 < 1 s"] = float(during["p99_ms"]) < 1000 and during["requests"] > 0
            targets[f"freeze: 0 webhooks past {TWILIO_TIMEOUT_S:g} s"] = row["late"] == 0
            name = "freeze"
        else:
            name = "outage"
        targets[f"{name}: every emergency answer an <Enqueue>911"] = emergency["not_911"] == 0
        targets[f"{name}: 0 calls lost after the replay"] = row["calls_lost"] == 0
        targets[f"{name}: journal drained"] = row["replay_s"] is not None
    for name, ok in targets.items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    if args.json:
        outage_row = next((r for r in fault_rows if r["outage_what"] != PgFreeze.what), None)
        freeze_row = next((r for r in fault_rows if r["outage_what"] == PgFreeze.what), None)
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "results": results,
                    "outage": outage_row,
                    "freeze": freeze_row,
                    "targets": targets,
                },
                indent=2,
            )
        )
    return 1 if args.check and not all(targets.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
