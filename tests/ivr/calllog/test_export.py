"""`calls export` (CSV/JSON, documented columns, UTC with Z, salted caller hash only) and the
whole call path through the app on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest
from click.testing import CliRunner

from ivr import create_app
from ivr.calllog.schema import EXPORT_COLUMNS
from ivr.tools.cli import calls
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import CALLER, TOKEN, Call, TwilioSim
from tests.support import REPO

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def documented_columns() -> list[str]:
    """The columns docs/file-formats.md gives the export ("Call-log export"), in its table's order."""
    text = (REPO / "docs" / "file-formats.md").read_text(encoding="utf-8")
    section = text.split("\n## Call-log export\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.M)


def full_call(twilio: TwilioSim, keys: list[str], caller: str = CALLER) -> Call:
    call = Call(twilio, caller=caller)
    call.start()
    for key in keys:
        call.press(key)
    if call.enqueue is None:  # a service that needs a location: the street address first
        call.speak("100 Main Street", 0.9)
        call.press("1")
    assert call.enqueue is not None
    queue = call.enqueue.text
    twilio.twiml(f"/voice/wait?lang=en&queue={queue}", call.params(QueuePosition="1"))
    twilio.twiml("/voice/bridge", call.params(QueueTime="14"))
    twilio.twiml(f"/voice/queue-result?lang=en&queue={queue}", call.params(QueueResult="bridged", QueueTime="14"))
    twilio.post("/status", call.params(CallStatus="completed", CallDuration="95", SequenceNumber="4"))
    return call


def export(db_url: str, *args: str):
    result = CliRunner().invoke(calls, ["export", "--database-url", db_url, *args])
    return result


def test_export_csv_columns_and_values(twilio, db_url):
    a = full_call(twilio, ["2", "9", "3"])  # pothole
    b = full_call(twilio, ["1"], caller="+15550101999")
    result = export(db_url)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(EXPORT_COLUMNS) == documented_columns()
    by_sid = {r["call_sid"]: r for r in rows}
    pothole, emergency = by_sid[a.sid], by_sid[b.sid]
    assert (pothole["queue"], pothole["category"], pothole["language"]) == ("311", "pothole", "en")
    assert pothole["menu_attempts"] == "5"  # 2, 9, 3, the address, yes
    assert (pothole["queue_result"], pothole["queue_time_s"]) == ("bridged", "14")
    assert (pothole["status"], pothole["duration_s"]) == ("completed", "95")
    assert (emergency["queue"], emergency["category"]) == ("911", "")
    for row in rows:
        for col in ("started_at", "enqueued_at", "answered_at", "ended_at"):
            assert ISO_Z.match(row[col]), row[col]
        assert re.fullmatch(r"[0-9a-f]{32}", row["caller_hash"])
    assert pothole["caller_hash"] != emergency["caller_hash"]
    assert "5558675309" not in result.stdout and "5550101999" not in result.stdout


def test_export_json(twilio, db_url):
    full_call(twilio, ["0"])
    result = export(db_url, "--format", "json")
    assert result.exit_code == 0
    (row,) = json.loads(result.stdout)
    assert list(row) == list(EXPORT_COLUMNS)
    assert row["category"] == "other" and row["menu_attempts"] == 1
    assert row["duration_s"] == 95 and ISO_Z.match(row["started_at"])
    assert CALLER not in result.stdout


def test_export_empty_log_and_since(twilio, db_url, tmp_path):
    full_call(twilio, ["1"])
    result = export(db_url, "--since", "2999-01-01T00:00:00Z", "--format", "json")
    assert json.loads(result.stdout) == []
    result = export(db_url, "--since", "1h", "--out", str(tmp_path / "calls.csv"))
    assert result.exit_code == 0
    assert len((tmp_path / "calls.csv").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since"),
        (["--database-url", "nonsense://x"], "database"),
        (["--since", "999999999d"], "--since '999999999d': reaches back before the year 1"),
        (["--out", "/proc/no-such-folder/x.csv"], "--out /proc/no-such-folder/x.csv:"),
    ],
)
def test_export_errors_are_one_line_exit_2(db_url, args, message, twilio):
    full_call(twilio, ["1"])
    result = CliRunner().invoke(calls, ["export", "--database-url", db_url, *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_export_missing_sqlite_file(tmp_path):
    result = export(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert result.exit_code == 2 and "no call log" in result.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_raw_caller_number_never_logged(twilio, caplog):
    with caplog.at_level(logging.DEBUG):
        full_call(twilio, ["2", "1"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "enqueued" in text
    assert "5558675309" not in text


def test_store_holds_no_raw_number(twilio, store):
    call = full_call(twilio, ["0"])
    with store.engine.connect() as conn:
        dump = "\n".join(conn.connection.iterdump())
    assert call.sid in dump
    assert "5558675309" not in dump


def test_whole_call_on_postgresql(postgres_url, tmp_path):
    app = create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": "https://ivr311.example.test",
            "database_url": postgres_url,
            "caller_hash_key": "k" * 32,
            "journal_dir": tmp_path / "journal",
            "store_budget_ms": GENEROUS_BUDGET_MS,
        }
    )
    twilio = TwilioSim(app.test_client())
    first = full_call(twilio, ["0"])
    second = Call(twilio)
    second.start()
    second.press("1")
    assert twilio.twiml("/agent", {"CallSid": "CAagent"}).find("Dial/Queue").text == "911"
    result = export(postgres_url, "--format", "json")
    rows = {r["call_sid"]: r for r in json.loads(result.stdout)}
    assert rows[first.sid]["status"] == "completed" and rows[second.sid]["queue"] == "911"
    assert ISO_Z.match(rows[first.sid]["ended_at"])
    app.extensions["ivr311.store"].close()


def test_export_out_under_a_file_is_refused_before_reading(db_url, tmp_path, twilio):
    """``--out FILE/x.csv``: the folder is a file; one line, before the log is read."""
    full_call(twilio, ["1"])
    blocker = tmp_path / "calls.db"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(calls, ["export", "--database-url", db_url, "--out", str(blocker / "x.csv")])
    assert result.exit_code == 2
    assert result.stderr == f"--out {blocker / 'x.csv'}: {blocker} is not a folder\n"
