"""`ivr311 callers`: simulated callers walk the real menu and fill a call log (Poisson callers,
or the model's calls with --scenario / --model-calls), reproducibly, in process or against a
running server.

They never touch the live call log: they log to a database of their own unless told otherwise,
say where on stderr, keep a journal of their own, and the service requests they open are marked
simulated, which the public Open311 list never shows."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

import ivr.tools.cli
from ivr.calllog.engine import make_engine
from ivr.calllog.servicerequests import RequestStore, ServiceRequests
from ivr.menu import load_menu
from ivr.tools.cli import callers
from tests.ivr.call_log import logged
from tests.ivr.open311_client import Open311, body, make_app
from tests.ivr.twilio_sim import TOKEN


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's own call log and journal, as its environment names them; the instance folder
    in tmp_path (not the repository's)."""
    path = tmp_path / "live.sqlite3"
    monkeypatch.setenv("IVR311_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("IVR311_JOURNAL_DIR", str(tmp_path / "live-journal"))
    monkeypatch.setenv("IVR311_CALLER_HASH_KEY", "simulated-callers-test-key-0123")
    monkeypatch.setattr(ivr.tools.cli, "instance_folder", lambda: tmp_path / "instance")
    return path


def model_results(folder: Path) -> Path:
    """A results folder as `simulate --calls` writes it: a few 311 calls in listed categories."""
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"meta": {"horizon_s": 3600, "replications": 1}}))
    columns = "replication call_id class category arrival_s queued_s answered_s ended_s wait_s pool agent outcome"
    with (folder / "calls.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns.split())
        for i, category in enumerate(["noise", "rodents", "noise", "other"]):
            at = 60.0 * i
            writer.writerow([0, i, "311", category, at, at + 20, at + 50, at + 200, 30, "desk", 1, "answered"])
    return folder


@pytest.mark.parametrize("mode", ["poisson", "model"])
def test_simulated_callers_log_apart_and_their_requests_are_not_public(live, tmp_path, mode):
    args = ["--count", "25", "--rate-per-hour", "300", "--seed", "4"]
    if mode == "model":
        args = ["--model-calls", str(model_results(tmp_path / "model")), "--seed", "4"]
    result = CliRunner().invoke(callers, args)
    assert result.exit_code == 0, result.output
    own = tmp_path / "instance" / "simulated-callers.sqlite3"
    assert f"simulated callers log to sqlite:///{own}" in result.stderr
    assert not live.exists(), "the live call log was written"
    assert not (tmp_path / "live-journal").exists(), "the live journal was written"
    engine = make_engine(f"sqlite:///{own}")
    try:
        made = ServiceRequests(engine).query(limit=10_000)
    finally:
        engine.dispose()
    assert made and all(r["simulated"] for r in made)
    app: Any = make_app(f"sqlite:///{own}", tmp_path)
    try:
        api = Open311(app.test_client())
        assert body(api.get("requests", start_date="2000-01-01T00:00:00Z"), "json") == []
        assert api.get(f"requests/{made[0]['service_request_id']}").status_code == 404
    finally:
        app.extensions["ivr311.store"].close()
        app.extensions["ivr311.open311_gate"].close()


def test_an_explicit_database_is_used_and_still_marked(live, tmp_path):
    chosen = f"sqlite:///{tmp_path / 'chosen.sqlite3'}"
    result = CliRunner().invoke(callers, ["--count", "10", "--rate-per-hour", "300", "--database-url", chosen])
    assert result.exit_code == 0, result.output
    assert "a database of their own" not in result.stderr and chosen in result.stderr
    engine = make_engine(chosen)
    try:
        made = ServiceRequests(engine).query(limit=10_000)
        assert made and all(r["simulated"] for r in made)
        assert ServiceRequests(engine).query(public=True) == []
    finally:
        engine.dispose()
    assert not live.exists()


def test_simulated_callers_fill_the_log(db_url):

    args = [
        "--count",
        "60",
        "--rate-per-hour",
        "120",
        "--seed",
        "7",
        "--start",
        "2024-05-14T08:00:00Z",
        "--database-url",
        db_url,
    ]
    result = CliRunner().invoke(callers, args)
    assert result.exit_code == 0, result.output
    rows = logged(db_url)
    assert len(rows) == 60
    assert {r["queue"] for r in rows} == {"911", "311"}
    assert {r["language"] for r in rows} == {"en", "es"}
    assert {r["queue_result"] for r in rows} <= {"bridged", "hangup"}
    assert all(r["status"] == "completed" and r["duration_s"] is not None for r in rows)
    assert rows[0]["started_at"].startswith("2024-05-14T08:")
    assert rows[-1]["started_at"] > rows[0]["started_at"]
    categories = {r["category"] for r in rows if r["queue"] == "311"}
    assert len(categories) > 5
    for r in rows:  # queue time is simulated time between entering and leaving the queue
        assert r["queue_time_s"] is not None and r["queue_time_s"] >= 0
    # services with a location got the street address, said by the simulated caller

    needs_address = {c.code for c in load_menu().listed if c.address}
    store = RequestStore(db_url, create=False)
    try:
        requests = list(store.requests.iter_all())
    finally:
        store.close()
    located = [q for q in requests if q["service_code"] in needs_address]
    assert located and all(q["address"] == "100 Main Street" for q in located)


def test_simulated_callers_are_reproducible(tmp_path):

    outputs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        CliRunner().invoke(
            callers, ["--count", "15", "--seed", "3", "--start", "2024-01-01T00:00:00Z", "--database-url", url]
        )
        # the expected wait announced on hold is read from the log within the store budget, so
        # on a loaded machine it may be left unsaid in one run and not the other
        unrepeatable = {"caller_hash", "announced_wait_s", "announced_at"}
        outputs.append([{k: v for k, v in r.items() if k not in unrepeatable} for r in logged(url)])
    assert outputs[0] == outputs[1]


MODEL_SCENARIO = """
name: two hours of a small centre
seed: 5
horizon: 2h
warmup: 0s
replications: 1
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 20}
    handle_time: {dist: exponential, mean: 3m}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 40}
    ivr_time: {dist: uniform, low: 20s, high: 40s}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 2m}
    categories:
      pothole: {share: 0.5}
      noise: {share: 0.3}
      not_in_the_menu: {share: 0.2}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 3}
targets:
  "911": [{within: 15s, share: 0.9}]
"""


def test_callers_from_a_scenario_log_what_the_model_simulated(tmp_path):
    """`callers --scenario`: the model's calls walked through the real menu. The log holds the
    model's calls, class by class, with its answered/hung-up outcome and its waits."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(MODEL_SCENARIO)
    model = tmp_path / "model"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from queueing.cli import main; main()",
            "simulate",
            str(scenario),
            "--calls",
            "--seed",
            "9",
            "--out",
            str(model),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with (model / "calls.csv").open() as f:
        simulated = list(csv.DictReader(f))
    db_url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    args = ["--scenario", str(scenario), "--seed", "9", "--start", "2026-11-01T08:00:00Z", "--database-url", db_url]
    result = CliRunner().invoke(callers, args)
    assert result.exit_code == 0, result.output
    rows = logged(db_url)
    assert len(rows) == len(simulated) > 100
    by_class = {q: sum(1 for r in simulated if r["class"] == q) for q in ("911", "311")}
    assert {q: sum(1 for r in rows if r["queue"] == q) for q in ("911", "311")} == by_class
    hung_up = sum(1 for r in simulated if r["outcome"] != "answered")
    assert sum(1 for r in rows if r["queue_result"] == "hangup") == hung_up > 0
    assert sorted(int(float(r["wait_s"])) for r in simulated) == sorted(r["queue_time_s"] for r in rows)
    categories = {r["category"] for r in rows if r["queue"] == "311"}
    assert categories == {"pothole", "noise", "other"}  # a category the menu lacks: the operator
    assert rows[0]["started_at"].startswith("2026-11-01T08:")


def test_callers_drive_a_running_server_and_lose_no_call(app, db_url, monkeypatch):
    """`callers --url`: signed webhooks over HTTP to a running server (here a threaded werkzeug
    server around the test app), walked concurrently; it reports throughput and calls lost."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # the app checks signatures against its public URL: sign what the server will see as that
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    app.extensions["ivr311.settings"] = app.extensions["ivr311.settings"].model_copy(
        update={"public_base_url": f"http://127.0.0.1:{server.server_port}"}
    )
    try:
        args = ["--url", f"http://127.0.0.1:{server.server_port}", "--count", "25", "--concurrency", "5"]
        result = CliRunner().invoke(callers, args)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert "25 calls" in result.output and "calls lost 0" in result.output and "answered/s" in result.output
    assert "got no answer" not in result.output
    assert len(logged(db_url)) == 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate-per-hour", "nan"], "nan is not a finite number"),
        (["--start", "9999-12-31T23:59:59Z"], "--start '9999-12-31T23:59:59Z': must be between 1970 and 2200"),
        (["--rate-per-hour", "0.001", "--count", "1000000"], "spans 41,666,666 days"),
        (["--start", "2199-12-31", "--rate-per-hour", "1"], "the calls must arrive between 1970 and 2200"),
    ],
)
def test_callers_check_their_options_before_any_call(tmp_path, args, message):
    db = tmp_path / "calls.sqlite3"
    result = CliRunner().invoke(callers, [*args, "--database-url", f"sqlite:///{db}"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not db.exists()  # refused before the app (and its call log) was made


def test_callers_url_with_nobody_there_is_refused_at_once(monkeypatch):
    """A dead --url used to walk every call into a refused connection, then report the failures
    as throughput ("3647 requests/s" with every call lost)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    result = CliRunner().invoke(callers, ["--url", f"http://127.0.0.1:{port}", "--count", "5"])
    assert result.exit_code == 2
    assert result.stderr == f"--url http://127.0.0.1:{port}: no server answers there (Connection refused within 5 s)\n"
    assert "requests/s" not in result.output and "answered/s" not in result.output
