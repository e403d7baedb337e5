"""/wallboard/data with the Flask test client: who may see it, the numbers it gives for a day
of calls made through the webhooks, the now-cast file, and a log that hangs or falls behind
(answered `{"stale": true}` within the bound, never a hang)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr.errors import ConfigError
from ivr.wallboard import access
from tests.ivr.outages import HUNG_GUARD_S, sqlite_locked
from tests.ivr.wallboard.centre import AUTH, START, WALL_TOKEN, Centre, hung_board, make_app
from tests.support import REPO

BASELINE = REPO / "scenarios" / "baseline.yaml"


@pytest.fixture
def build(db_url: str, tmp_path: Path) -> Any:
    made: list[Flask] = []

    def make(**extra: Any) -> Flask:
        app = make_app(db_url, tmp_path, **extra)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["ivr311.recorder"].close()
        app.extensions["ivr311.wallboard"].gate.close()
        app.extensions["ivr311.store"].close()


def data(app: Flask, **headers: str) -> tuple[int, dict[str, Any]]:
    answer = app.test_client().get("/wallboard/data", headers={**AUTH, **headers})
    return answer.status_code, answer.get_json()


# -- who may see it ------------------------------------------------------------------------------


def test_no_token_configured_means_no_wallboard(build: Any) -> None:
    client = build(wallboard_token=None).test_client()
    for path in ("/wallboard", "/wallboard/data", "/wallboard/static/wallboard.js", f"/wallboard?token={WALL_TOKEN}"):
        assert client.get(path, headers=AUTH).status_code == 404, path


def test_a_wrong_or_missing_token_is_refused(build: Any) -> None:
    client = build().test_client()
    for path in ("/wallboard", "/wallboard/data", "/wallboard/static/wallboard.js"):
        assert client.get(path).status_code == 403, path
        assert client.get(path, headers={"Authorization": "Bearer " + WALL_TOKEN[:-1] + "x"}).status_code == 403
        assert client.get(path, headers={"Authorization": WALL_TOKEN}).status_code == 403  # not a bearer
        assert client.get(path + "?token=nope").status_code == 403
        assert client.get(path, headers={"Authorization": "Bearer " + WALL_TOKEN}).status_code == 200, path
    client.set_cookie(access.COOKIE, WALL_TOKEN, path="/wallboard")  # the token itself is not the cookie
    assert client.get("/wallboard/data").status_code == 403
    client.set_cookie(access.COOKIE, access.cookie_value("another-token-of-16-chars"), path="/wallboard")
    assert client.get("/wallboard/data").status_code == 403


def test_the_token_in_the_address_once_sets_a_cookie_and_leaves_the_address(build: Any) -> None:
    """Over https (here behind a proxy that terminates TLS) the cookie is Secure; over plain
    http (a screen on the centre's network) it cannot be, or the browser would drop it."""
    client = build().test_client()
    first = client.get(f"/wallboard?token={WALL_TOKEN}", headers={"X-Forwarded-Proto": "https"})
    assert first.status_code == 303 and first.headers["Location"] == "/wallboard"
    cookie = first.headers["Set-Cookie"]
    assert WALL_TOKEN not in cookie
    for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/wallboard"):
        assert attribute in cookie, cookie
    plain = client.get(f"/wallboard?token={WALL_TOKEN}").headers["Set-Cookie"]
    assert "Secure" not in plain and "HttpOnly" in plain
    page = client.get("/wallboard")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert b"/wallboard/static/wallboard.js" in page.data and b"<script>" not in page.data
    assert client.get("/wallboard/static/wallboard.js").status_code == 200
    assert client.get("/wallboard/data").status_code == 200


def test_settings_that_cannot_serve_are_refused_at_start(build: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wallboard_token"):
        build(wallboard_token="short")
    with pytest.raises(ConfigError, match="IVR311_WALLBOARD_TIMEZONE='Mars/Olympus'"):
        build(wallboard_timezone="Mars/Olympus")
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\ntargets:\n  "911":\n    - {within: soon, share: 0.9}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        build(wallboard_scenario=bad)
    assert str(refused.value) == (
        f"IVR311_WALLBOARD_SCENARIO: {bad}:4: targets.911.0.within: must be a duration like 15s or 1m, got 'soon'"
    )
    with pytest.raises(ConfigError, match="missing.yaml: no such file"):
        build(wallboard_scenario=tmp_path / "missing.yaml")


# -- the numbers ---------------------------------------------------------------------------------


def a_day(centre: Centre) -> None:
    """Yesterday one slow 911 call; today, from 14:00, three 911 and three 311 callers:

    t (s)  911                                  311
    0      A queued                             D queued
    10     A answered (10 s); B queued
    28     B answered (18 s)
    30     C queued
    40                                          E queued
    45                                          D hangs up in the queue (45 s)
    50     A ends
    60     C's hold music                       E answered (20 s)
    65                                          F queued
    70     (read: C has waited 40 s, F 5 s; B and E are in conversation)
    """
    centre.now = START - timedelta(days=1)
    old = centre.caller("911")
    centre.later(100)
    centre.answer(old)
    centre.end(old)
    centre.now = START
    a, d = centre.caller("911"), centre.caller("311")
    centre.later(10)
    centre.answer(a)
    b = centre.caller("911")
    centre.later(18)
    centre.answer(b)
    centre.later(2)
    c = centre.caller("911")
    centre.later(10)
    e = centre.caller("311")
    centre.later(5)
    centre.hang_up_in_queue(d)
    centre.later(5)
    centre.end(a)
    centre.later(10)
    centre.hold_music(c)
    centre.answer(e)
    centre.later(5)
    centre.caller("311")
    centre.later(5)
    centre.waiting_911 = c


def test_the_numbers_of_a_seeded_day(build: Any) -> None:
    """Per queue: waiting now and the longest wait, today's service level per target of the
    baseline scenario (a caller still waiting past the target counts against it, one still
    within it not yet), and the calls in conversation."""
    app = build(wallboard_scenario=BASELINE)
    centre = Centre(app)
    a_day(centre)
    status, board = data(app)
    assert status == 200 and board["stale"] is False
    assert board["targets_from"] == "baseline.yaml"
    assert board["now"] == "2026-05-04T14:01:10+00:00" and board["day_start"] == "2026-05-04T00:00:00+00:00"
    q911, q311 = board["queues"]
    assert q911 == {
        "queue": "911",
        "waiting": 1,
        "longest_wait_s": 40,
        "offered": 3,
        "answered": 2,
        "on_calls": 1,
        "service_levels": [
            {"within_s": 15.0, "target": 0.9, "answered_within": 1, "offered": 3, "share": 1 / 3, "met": False},
            {"within_s": 20.0, "target": 0.95, "answered_within": 2, "offered": 3, "share": 2 / 3, "met": False},
        ],
    }
    assert q311 == {
        "queue": "311",
        "waiting": 1,
        "longest_wait_s": 5,
        "offered": 3,
        "answered": 1,
        "on_calls": 1,
        "service_levels": [
            {"within_s": 30.0, "target": 0.8, "answered_within": 1, "offered": 2, "share": 0.5, "met": False},
        ],
    }
    assert board["agents"]["on_duty"] is None and board["agents"]["on_calls"] == 2


def test_targets_of_a_scenario_with_unquoted_class_names(build: Any, tmp_path: Path) -> None:
    """`911:` unquoted is a number to YAML; the class is still 911. 311 has no targets there: the
    default."""
    scenario = tmp_path / "centre.yaml"
    scenario.write_text("name: centre\ntargets:\n  911: [{within: 1m, share: 0.5}]\n", encoding="utf-8")
    _, board = data(build(wallboard_scenario=scenario))
    assert board["targets_from"] == "centre.yaml"
    assert [(s["within_s"], s["target"]) for q in board["queues"] for s in q["service_levels"]] == [
        (60.0, 0.5),
        (60.0, 0.8),
    ]


def test_defaults_and_a_day_in_another_time_zone(build: Any) -> None:
    """Without a scenario: 90% in 15 s for 911, 80% in 60 s for 311. In Chicago, 14:01 UTC is
    09:01, and the day began at 05:00 UTC: yesterday's call at 14:00 UTC is not today's."""
    app = build(wallboard_timezone="America/Chicago")
    centre = Centre(app)
    a_day(centre)
    _, board = data(app)
    assert board["targets_from"] == "default" and board["day_start"] == "2026-05-04T05:00:00+00:00"
    q911, q311 = board["queues"]
    assert [(s["within_s"], s["target"], s["answered_within"], s["offered"]) for s in q911["service_levels"]] == [
        (15.0, 0.9, 1, 3)
    ]
    # F has waited 5 s of 60: not counted yet; E answered in 20 s; D hung up
    assert [(s["within_s"], s["target"], s["answered_within"], s["offered"]) for s in q311["service_levels"]] == [
        (60.0, 0.8, 1, 2)
    ]


def test_a_caller_not_heard_from_stops_waiting(build: Any) -> None:
    """The agent line's rule: a caller whose hold music Twilio stopped fetching (75 s with the
    default menu) no longer waits; they still count against today's service level."""
    app = build()
    centre = Centre(app)
    centre.caller("911")
    centre.later(60)
    assert data(app)[1]["queues"][0]["waiting"] == 1
    centre.later(30)
    q911 = data(app)[1]["queues"][0]
    assert q911["waiting"] == 0 and q911["longest_wait_s"] is None
    assert q911["service_levels"][0]["offered"] == 1 and q911["service_levels"][0]["share"] == 0


# -- the now-cast --------------------------------------------------------------------------------


def write_nowcast(path: Path, generated_min_ago: float) -> None:
    """Intervals of 15 minutes from 13:30 to 16:45, both classes."""
    intervals = [
        {
            "start": (START + timedelta(minutes=15 * k)).isoformat(),
            "class": name,
            "p_target_met": 0.93,
            "wait_mean_s": 12.0,
            "wait_lo_s": 5.0,
            "wait_hi_s": 20.0,
            "queue_mean": 1.25,
            "queue_lo": 0,
            "queue_hi": 3,
        }
        for k in range(-2, 12)
        for name in ("911", "311")
    ]
    generated = START + timedelta(seconds=70) - timedelta(minutes=generated_min_ago)
    cast = {
        "generated_at": generated.isoformat(),
        "at": generated.isoformat(),
        "interval_s": 900,
        "state": {"on_duty": {"call-takers": 12, "311-desk": 3}},
        "intervals": intervals,
    }
    path.write_text(json.dumps(cast), encoding="utf-8")


def test_the_nowcast_of_the_next_two_hours(build: Any, tmp_path: Path) -> None:
    path = tmp_path / "nowcast.json"
    app = build(nowcast_file=path)
    centre = Centre(app)
    centre.later(70)  # 14:01:10
    assert data(app)[1]["nowcast"]["message"] == "no now-cast (no file yet)"
    write_nowcast(path, generated_min_ago=3)
    cast = data(app)[1]["nowcast"]
    assert cast["status"] == "ok" and cast["age_s"] == 180
    starts = sorted({i["start"] for i in cast["intervals"]})
    # the interval running now (14:00) up to the last starting within two hours (16:00)
    assert starts[0] == "2026-05-04T14:00:00+00:00" and starts[-1] == "2026-05-04T16:00:00+00:00"
    assert len(starts) == 9 and len(cast["intervals"]) == 18
    assert cast["intervals"][0] == {
        "start": "2026-05-04T14:00:00+00:00",
        "class": "311",
        "p_target_met": 0.93,
        "wait_mean_s": 12.0,
        "wait_lo_s": 5.0,
        "wait_hi_s": 20.0,
        "queue_mean": 1.25,
        "queue_lo": 0.0,
        "queue_hi": 3.0,
    }
    assert cast["on_duty"] == {"at": "2026-05-04T13:58:10+00:00", "pools": {"call-takers": 12, "311-desk": 3}}
    write_nowcast(path, generated_min_ago=40)
    cast = data(app)[1]["nowcast"]
    assert cast["status"] == "stale" and cast["message"] == "now-cast 40 minutes old"
    naive = {"start": "2026-05-04T14:00:00", "class": "911", "p_target_met": None}  # UTC, as everywhere
    path.write_text(json.dumps({"generated_at": "2026-05-04T13:58:10", "intervals": [naive]}), encoding="utf-8")
    cast = data(app)[1]["nowcast"]
    assert cast["status"] == "ok" and cast["age_s"] == 180 and cast["on_duty"] is None
    assert cast["intervals"][0]["start"] == "2026-05-04T14:00:00+00:00" and cast["intervals"][0]["wait_mean_s"] is None
    path.write_text('{"generated_at": "yesterday"}', encoding="utf-8")
    cast = data(app)[1]["nowcast"]
    assert cast["status"] == "invalid" and cast["intervals"] == []


def test_no_nowcast_file_configured(build: Any) -> None:
    cast = data(build())[1]["nowcast"]
    assert cast["status"] == "missing" and "IVR311_NOWCAST_FILE" in cast["message"]


# -- a log that does not answer ------------------------------------------------------------------


def test_a_hung_log_is_stale_within_the_bound(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wallboard's read never returns (a database that took the connection and never
    answers): the answer is `{"stale": true}` after the bound, the next one at once; once the
    database answers again, so does the board."""
    app = build(WALLBOARD_TIMEOUT_S=0.5)
    with hung_board(monkeypatch):
        started = time.monotonic()
        status, board = data(app)
        first_s = time.monotonic() - started
        assert status == 503 and board["stale"] is True and board["reason"] == "the call log does not answer"
        started = time.monotonic()
        assert data(app)[0] == 503
        again_s = time.monotonic() - started
    # the bound is 0.5 s; a loaded machine may add seconds, a hang would be HUNG_GUARD_S
    assert first_s < 10 and again_s < 10, (first_s, again_s)
    deadline = time.monotonic() + HUNG_GUARD_S
    while data(app)[0] != 200:  # the gate's probe sees the database answer again
        assert time.monotonic() < deadline, "the wallboard did not answer again"
        time.sleep(0.2)


def test_screens_past_the_admission_limit_get_the_last_answer_or_a_quick_stale(
    build: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One data request at a time here, and it hangs: another screen is answered at once, with
    the last answer while it is recent, else stale (never queued behind the first)."""
    app = build(WALLBOARD_MAX_REQUESTS=1, WALLBOARD_TIMEOUT_S=HUNG_GUARD_S)
    Centre(app).caller("911")
    status, last = data(app)
    assert status == 200
    with hung_board(monkeypatch) as entered:
        first = threading.Thread(target=data, args=(app,))
        first.start()
        assert entered.wait(HUNG_GUARD_S)
        assert data(app) == (200, last)
        app.extensions["ivr311.wallboard"].last = None  # no recent answer to give
        status, board = data(app)
        assert status == 503 and board["reason"] == "the wallboard is busy: too many screens ask at once"
    first.join(HUNG_GUARD_S)
    assert data(app) == (200, last)


@pytest.mark.store_budget_ms(50)
def test_a_locked_log_is_stale_while_writes_wait_in_the_journal(build: Any, db_url: str) -> None:
    """Another process holds the database's write lock: the webhooks' writes go to the journal,
    so the log is behind the calls and the board says so (quickly); once the lock is gone and
    the journal replayed, the board shows the call."""
    app = build(store_budget_ms=50)
    app.extensions["ivr311.recorder"].start()
    centre = Centre(app)
    assert data(app)[0] == 200
    with sqlite_locked(db_url):
        centre.caller("911")
        started = time.monotonic()
        status, board = data(app)
        assert time.monotonic() - started < 10
        assert status == 503
        assert board == {"stale": True, "reason": "the call log is behind: writes wait in the journal"}
    deadline = time.monotonic() + HUNG_GUARD_S
    while (answer := data(app))[0] != 200:
        assert time.monotonic() < deadline, "the journal was not replayed"
        time.sleep(0.2)
    assert answer[1]["queues"][0]["waiting"] == 1
