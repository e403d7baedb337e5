"""The wallboard in headless Chromium (the Debian package, driven by Playwright; no browser is
downloaded): the page shows the log's numbers, follows the log within a refresh, and says DATA
STALE when its data stops coming, then recovers. The app is served by werkzeug in a thread.

Every wait is on a condition with a generous bound (a loaded machine is slow, never wrong);
no sleep decides anything. Without Chromium the test is skipped, saying why (`make test`
installs it: apt-get install -y chromium).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.ivr.outages import HUNG_GUARD_S
from tests.ivr.wallboard.centre import WALL_TOKEN, Centre, hung_board, make_app
from tests.ivr.wallboard.test_data import a_day, write_nowcast

pytestmark = pytest.mark.slow
WAIT_MS = 30_000  # for a condition the page meets within a refresh (1 s here) on a quiet machine


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not found: install the Debian package `chromium` (`make test` does)")


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Centre]]:
    nowcast = tmp_path / "nowcast.json"
    app = make_app(db_url, tmp_path, nowcast_file=nowcast, WALLBOARD_REFRESH_S=1, WALLBOARD_TIMEOUT_S=1)
    centre = Centre(app)
    a_day(centre)
    write_nowcast(nowcast, generated_min_ago=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="wallboard-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", centre
    finally:
        server.shutdown()
        thread.join(HUNG_GUARD_S)
        app.extensions["ivr311.recorder"].close()
        app.extensions["ivr311.wallboard"].gate.close()
        app.extensions["ivr311.store"].close()


def text_is(page: Any, element_id: str, expected: str) -> None:
    page.wait_for_function(
        "([id, text]) => document.getElementById(id).textContent === text", arg=[element_id, expected], timeout=WAIT_MS
    )


def test_the_wallboard_in_chromium(served: tuple[str, Centre], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, centre = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            # the token once in the address: a cookie, and the address is clean again
            page.goto(f"{base}/wallboard?token={WALL_TOKEN}")
            assert page.url == f"{base}/wallboard"

            # the seeded day (tests.ivr.wallboard.test_data.a_day) as numbers on the screen
            text_is(page, "q911-waiting", "1")
            assert page.text_content("#q911-longest") == "0:40"
            assert page.text_content("#q311-waiting") == "1"
            assert page.text_content("#q311-longest") == "0:05"
            assert page.inner_text("#q911-levels").split("\n")[0].split("\t")[0] == "33%"
            assert "1 of 3 MISSED" in page.inner_text("#q911-levels")
            assert page.text_content("#agents-on-calls") == "2"
            roster = "· on duty by the roster at 13:58: 311-desk 3 · call-takers 12"
            assert page.text_content("#agents-roster") == roster
            assert page.locator("#nowcast-rows tr").count() == 9
            first = page.inner_text("#nowcast-rows tr:first-child").split("\t")
            assert first == ["14:00"] + ["93%", "12 s (5 s–20 s)", "1.3 (0.0–3.0)"] * 2
            assert "now-cast from 3 min ago" in page.text_content("#nowcast-message")
            assert page.is_hidden("#stale")
            page.screenshot(path=str(tmp_path / "wallboard.png"))
            # one wall screen, no scrolling: the now-cast's last row is on it
            assert page.evaluate("document.querySelector('#nowcast').getBoundingClientRect().bottom") <= 1080
            assert page.evaluate("document.documentElement.scrollWidth") <= 1920

            # the log changes: the 911 caller waiting is answered, a new 311 caller queues
            centre.later(2)
            centre.answer(centre.waiting_911)
            centre.caller("311")
            text_is(page, "q911-waiting", "0")
            text_is(page, "q311-waiting", "2")
            assert page.text_content("#q911-oncalls") == "2"

            # the log stops answering: the data endpoint answers 503 stale, the page says so
            with hung_board(monkeypatch):
                page.wait_for_selector("#stale", state="visible", timeout=WAIT_MS)
                assert "DATA STALE" in page.text_content("#stale")
                assert "the call log does not answer" in page.text_content("#stale-why")
                assert "stale" in page.eval_on_selector("body", "b => b.className")
                assert page.text_content("#q911-waiting") == "0"  # the last numbers stay, dimmed
                page.screenshot(path=str(tmp_path / "wallboard-stale.png"))
            # and comes back by itself once the log answers again
            page.wait_for_selector("#stale", state="hidden", timeout=WAIT_MS)
        finally:
            browser.close()
    unexpected = [e for e in errors if "status of 503" not in e]
    assert not unexpected, unexpected
