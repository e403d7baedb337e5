"""`ivr311 requests list|show|close|open`: staff change a request's status; Open311 clients see
it (status, status_notes, updated_datetime); mistakes are one line and exit status 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing.cli import main as ivr311
from tests.ivr.open311_client import Open311, body, make_app


@pytest.fixture
def setup(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    app = make_app(url, tmp_path)
    app.extensions["ivr311.recorder"].start()
    table = app.extensions["ivr311.store"].requests
    old = table.create(
        "graffiti", address="5 Elm St", description="tag on the wall", now=datetime.now(UTC) - timedelta(days=2)
    )
    new = app.extensions["ivr311.store"].open_call_request(
        "CA" + "7" * 32, "pothole", "es", "hay un bache enorme", "Calle Ñandú 5"
    )
    yield app, url, old, new
    app.extensions["ivr311.store"].close()


def run(*args: str):
    return CliRunner().invoke(ivr311, list(args))


def test_list_newest_first_and_filters(setup):
    _, url, old, new = setup
    result = run("requests", "list", "--database-url", url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert new in lines[1] and "Calle Ñandú 5 / hay un bache enorme" in lines[1]
    assert old in lines[2]
    only = run("requests", "list", "--service", "graffiti", "--json", "--database-url", url)
    (row,) = [json.loads(line) for line in only.output.splitlines() if line.startswith("{")]
    assert row["service_request_id"] == old and row["requested_at"].endswith("Z")


def test_show_never_has_the_call(setup):
    _, url, _, new = setup
    result = run("requests", "show", new, "--database-url", url)
    assert result.exit_code == 0
    assert "service_code: pothole" in result.output and "source: phone" in result.output
    assert "CA777" not in result.output and "call_sid" not in result.output


def test_close_then_open_is_what_open311_clients_see(setup):
    app, url, old, _ = setup
    api = Open311(app.test_client())
    (before,) = body(api.get(f"requests/{old}"), "json")
    result = run("requests", "close", old, "--notes", "Painted over. ¡Gracias!", "--database-url", url)
    assert result.exit_code == 0 and f"request {old} is closed" in result.output
    (after,) = body(api.get(f"requests/{old}", "xml"), "xml")
    assert after["status"] == "closed" and after["status_notes"] == "Painted over. ¡Gracias!"
    assert after["updated_datetime"] > before["updated_datetime"]
    assert [r["service_request_id"] for r in body(api.get("requests", status="closed"), "json")] == [old]
    result = run("requests", "open", old, "--database-url", url)
    assert result.exit_code == 0
    (again,) = body(api.get(f"requests/{old}"), "json")
    assert again["status"] == "open" and again["status_notes"] == "Painted over. ¡Gracias!"


@pytest.mark.parametrize(
    "args, message",
    [
        (["close", "1234567890"], "no service request 1234567890"),
        (["show", "nope"], "no service request nope"),
        (["close", "{new}", "--notes", "x" * 4001], "--notes: at most 4,000 characters"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(setup, args, message):
    _, url, _, new = setup
    result = run("requests", *[a.replace("{new}", new) for a in args], "--database-url", url)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [message]


def test_no_database_file(tmp_path):
    result = run("requests", "list", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 2 and result.output.startswith("no call log at")
