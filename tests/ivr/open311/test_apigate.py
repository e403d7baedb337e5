"""The Open311 API shares the server with the voice webhooks, and never takes what they need.

In process (the Flask test client, clients in threads): requests past the admission limit, and
database work past the gate's threads, are answered 503 at once with Retry-After, in the spec's
error shape; a database that does not answer in time is a 503 after the bound, and the next
requests are refused at once until it answers again. The API reads on an engine of its own.

Served (gunicorn gthread in a subprocess, as in production) on a real PostgreSQL server that
hangs (every server process SIGSTOPped, connections open): while eight Open311 clients poll
the public list, every emergency call (key 1) is still answered, each within 3 s, with an
<Enqueue>911</Enqueue>; the clients get quick 503s; the API answers again after SIGCONT.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import webhook_latency as bench  # its server, seeding and pollers
from ivr.open311.apigate import ApiGate, NoAnswer
from ivr.tools.softphone import CallWalker, HttpTransport, TwilioClient
from tests.ivr.open311_client import BASE, Open311, body, make_app


@pytest.fixture
def api_app(tmp_path: Path) -> Any:
    app = make_app(
        f"sqlite:///{tmp_path / 'calls.sqlite3'}",
        tmp_path,
        OPEN311_MAX_REQUESTS=1,
        OPEN311_DB_WORKERS=1,
        OPEN311_TIMEOUT_S=0.5,
    )
    app.extensions["ivr311.recorder"].start()
    yield app
    app.extensions["ivr311.store"].close()
    app.extensions["ivr311.open311_gate"].close()


class Held:
    """The API's list query held until `release` (a slow database, under our control)."""

    def __init__(self, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        requests = app.extensions["ivr311.open311_requests"]
        original = requests.query

        def held(**kwargs: Any) -> Any:
            self.entered.set()
            self.gate.wait(30)
            return original(**kwargs)

        monkeypatch.setattr(requests, "query", held)

    def release(self) -> None:
        self.gate.set()


def _unavailable(resp: Any, fmt: str = "json") -> str:
    assert resp.status_code == 503, (resp.status_code, resp.data)
    assert int(resp.headers["Retry-After"]) >= 1
    (error,) = body(resp, fmt)
    assert set(error) == {"code", "description"} and str(error["code"]) == "503"
    return str(error["description"])


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_over_the_limit_is_refused_at_once(api_app, monkeypatch, fmt):
    """One API request at a time (the limit here): a second one, even for the service list,
    is answered 503 "busy" at once instead of waiting for a server thread."""
    held = Held(api_app, monkeypatch)
    first: list[Any] = []
    client = threading.Thread(target=lambda: first.append(api_app.test_client().get(f"{BASE}/requests.json")))
    client.start()
    try:
        assert held.entered.wait(10)
        resp, took = _timed(lambda: api_app.test_client().get(f"{BASE}/services.{fmt}"))
        assert "busy" in _unavailable(resp, fmt)
        assert took < 0.5
    finally:
        held.release()
        client.join(10)
    assert first[0].status_code == 200
    assert api_app.test_client().get(f"{BASE}/services.{fmt}").status_code == 200  # the slot came back


def test_database_work_past_the_gate_threads_is_refused_at_once(api_app, monkeypatch):
    """With more requests admitted than database threads, a request that finds every gate
    thread busy is refused at once rather than queued behind them."""
    api_app.extensions["ivr311.open311_gate"].max_requests = 2
    api_app.extensions["ivr311.open311_gate"]._reset()
    held = Held(api_app, monkeypatch)
    client = threading.Thread(target=lambda: api_app.test_client().get(f"{BASE}/requests.json"))
    client.start()
    try:
        assert held.entered.wait(10)
        resp, took = _timed(lambda: api_app.test_client().get(f"{BASE}/requests.json"))
        assert "busy" in _unavailable(resp)
        assert took < 0.5
    finally:
        held.release()
        client.join(10)


def test_a_database_that_does_not_answer_is_a_503_after_the_bound_then_at_once(api_app, monkeypatch):
    """Past the gate's bound (0.5 s here) the request is answered 503; while the database has
    not answered since, the next ones are 503 at once; once it answers, 200 again."""
    held = Held(api_app, monkeypatch)
    api = Open311(api_app.test_client())
    try:
        resp, took = _timed(lambda: api.get("requests"))
        assert "not answering" in _unavailable(resp)
        assert 0.4 < took < 2.0
        resp, took = _timed(lambda: api.get("requests/1234567890"))
        assert "not answering" in _unavailable(resp) and took < 0.3
    finally:
        held.release()
    deadline = time.monotonic() + 10
    while api.get("requests").status_code != 200:
        assert time.monotonic() < deadline, "the API did not come back"
        time.sleep(0.1)


def test_a_probe_that_finds_the_database_back_meanwhile_is_still_a_503(tmp_path):
    """A refused job starts a probe; if the probe finds the database back before the refusal is
    worded (another thread, a loaded machine), the answer is still NoAnswer, never a TypeError."""
    gate = ApiGate(f"sqlite:///{tmp_path / 'calls.sqlite3'}", timeout_s=0.5)
    try:
        gate._down("held for the test")
        gate._probe = gate._up  # the probe's SELECT 1 answers at once, on this thread
        with pytest.raises(NoAnswer):
            gate.run(lambda: 1)
        assert gate.run(lambda: 1) == 1
    finally:
        gate.close()


def test_the_api_has_an_engine_of_its_own(api_app):
    """Never the call log's engine: the recorder's pool and store thread are the webhooks'."""
    gate = api_app.extensions["ivr311.open311_gate"]
    store = api_app.extensions["ivr311.store"]
    assert gate.engine is not store.engine
    assert api_app.extensions["ivr311.open311_requests"].engine is gate.engine
    assert gate.engine.url == store.engine.url


def test_an_in_memory_database_is_shared_since_no_other_engine_sees_it(tmp_path):
    app = make_app("sqlite://", tmp_path)
    try:
        app.extensions["ivr311.recorder"].start()
        assert app.extensions["ivr311.open311_gate"].engine is app.extensions["ivr311.store"].engine
        number = Open311(app.test_client()).create()
        assert app.extensions["ivr311.store"].requests.get(number) is not None
    finally:
        app.extensions["ivr311.store"].close()


# -- a real server, a real frozen PostgreSQL -------------------------------------------------------


POLLERS = 8
FROZEN_S = 6.0
EMERGENCY_BOUND_S = 3.0


def _emergency_call(base: str, token: str) -> tuple[float, str | None]:
    """A caller pressing 1 at the main menu: seconds for both webhooks, and the queue named."""
    twilio = TwilioClient(HttpTransport(base, timeout_s=20), token, base)
    walker = CallWalker(twilio)
    started = time.monotonic()
    walker.start()
    walker.press("1")
    enqueue = walker.enqueue
    return time.monotonic() - started, enqueue.text if enqueue is not None else None


@pytest.mark.slow
def test_a_frozen_database_and_eight_pollers_never_hold_up_an_emergency_call(postgres_cluster, tmp_path):
    db_url = postgres_cluster.create_database()
    bench.seed_requests(db_url, 200)
    port = bench.free_port()
    env = bench.app_env(port, db_url, tmp_path / "journal")
    server = bench.Server("app:app", port, env, 1, tmp_path / "app.log", threads=4)
    base = f"http://127.0.0.1:{port}"
    stats = bench.Stats()
    stop = threading.Event()
    forever = time.monotonic() + 600
    pollers = [threading.Thread(target=bench.poller, args=(port, forever, stats, stop)) for _ in range(POLLERS)]
    try:
        for poller in pollers:
            poller.start()
        time.sleep(1.0)
        assert any(a.status == 200 for a in stats.api), "the pollers never got the list"
        postgres_cluster.freeze()
        try:
            frozen_at = time.monotonic() - stats.started
            calls = []
            while time.monotonic() - stats.started < frozen_at + FROZEN_S:
                calls.append(_emergency_call(base, bench.TOKEN))
                time.sleep(0.05)
        finally:
            postgres_cluster.thaw()
        thawed_at = time.monotonic() - stats.started
        deadline = time.monotonic() + 20
        while not any(a.status == 200 and a.sent_s > thawed_at for a in stats.api):
            assert time.monotonic() < deadline, "the API did not answer again after the thaw"
            time.sleep(0.2)
    finally:
        stop.set()
        for poller in pollers:
            poller.join(30)
        server.stop()
    print(f"\nemergency calls while frozen: {[round(s, 2) for s, _ in calls]}")
    assert len(calls) >= 2
    assert all(queue == "911" for _, queue in calls), calls
    assert max(s for s, _ in calls) < EMERGENCY_BOUND_S, calls
    during = [a for a in stats.api if frozen_at <= a.sent_s < thawed_at - 3.0]
    assert during, "no Open311 request while the database was frozen"
    assert all(a.status == 503 and a.latency_s < 5.0 for a in during), [(a.status, a.latency_s) for a in during]
