"""`ivr311 dial`: the console phone walks the local app's TwiML from stdin."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ivr.tools.cli import calls, dial


def run_dial(db_url: str, keys: list[str], *args: str, token: str | None = "tok"):
    env = {"TWILIO_AUTH_TOKEN": token, "IVR311_PUBLIC_BASE_URL": None}
    return CliRunner().invoke(dial, ["--database-url", db_url, *args], input="\n".join(keys) + "\n", env=env)


def logged(db_url: str) -> list[dict]:
    result = CliRunner().invoke(calls, ["export", "--database-url", db_url, "--format", "json"])
    return json.loads(result.stdout)


def test_dial_services_by_keys_then_answered(db_url):
    result = run_dial(db_url, ["2", "9", "3", "100 Main Street", "1", "", ""])
    assert result.exit_code == 0, result.output
    assert "potholes" in result.output and "waiting in queue 311" in result.output
    (row,) = logged(db_url)
    assert row["category"] == "pothole" and row["queue_result"] == "bridged"
    assert row["status"] == "completed"


def test_dial_spanish_speech_and_emergency(db_url):
    result = run_dial(db_url, ["9", "emergencia", "h"], token=None)
    assert result.exit_code == 0, result.output
    assert "Le comunicamos con los servicios de emergencia" in result.output
    (row,) = logged(db_url)
    assert (row["queue"], row["language"], row["queue_result"]) == ("911", "es", "hangup")


def test_dial_low_confidence_confirms(db_url):
    result = run_dial(db_url, ["graffiti", "yes", "5 Elm Street", "yes", "h"], "--confidence", "0.3")
    assert "I heard graffiti removal" in result.output
    assert logged(db_url)[0]["category"] == "graffiti"


def test_dial_silence_ends_with_operator_not_hangup(db_url):
    result = run_dial(db_url, ["", "", "", "", "h"])
    assert result.output.count("[silence]") == 4
    assert "Let me connect you to an operator" in result.output
    assert logged(db_url)[0]["category"] == "other"


def test_dial_hang_up_mid_menu(db_url):
    result = run_dial(db_url, ["2"])  # then stdin closes
    assert result.exit_code == 0
    assert "hung up" in result.output
    assert logged(db_url)[0]["status"] == "completed"


def test_agent_line_from_the_console(db_url):
    run_dial(db_url, ["0"])  # a 311 caller, still waiting when stdin closes on hold? no: ended
    result = run_dial(db_url, [], "--agent")
    assert result.exit_code == 0
    assert "No callers are waiting" in result.output


def test_simulated_callers_fill_the_log(db_url):
    from ivr.tools.cli import callers

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
    from ivr.calllog.servicerequests import RequestStore
    from ivr.menu import load_menu

    needs_address = {c.code for c in load_menu().listed if c.address}
    store = RequestStore(db_url, create=False)
    try:
        requests = list(store.requests.iter_all())
    finally:
        store.close()
    located = [q for q in requests if q["service_code"] in needs_address]
    assert located and all(q["address"] == "100 Main Street" for q in located)


def test_simulated_callers_are_reproducible(tmp_path):
    from ivr.tools.cli import callers

    outputs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        CliRunner().invoke(
            callers, ["--count", "15", "--seed", "3", "--start", "2024-01-01T00:00:00Z", "--database-url", url]
        )
        outputs.append([{k: v for k, v in r.items() if k != "caller_hash"} for r in logged(url)])
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
    import csv
    import subprocess
    import sys

    from ivr.tools.cli import callers

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
    import threading

    from werkzeug.serving import make_server

    from ivr.tools.cli import callers
    from tests.ivr.twilio_sim import TOKEN

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
    assert "25 calls" in result.output and "calls lost 0" in result.output
    assert len(logged(db_url)) == 25


def test_a_webhook_not_answered_with_twiml_is_an_ivr_error_naming_it():
    """Over HTTP, whatever goes wrong (refused, a body cut off by a server dying mid-answer, a
    body that is not XML, a URL that is not http) is an IvrError naming the request: what the
    callers and the webhook benchmark count as not answered, never a crash of the walker."""
    import socket
    import threading

    import pytest

    from ivr.errors import IvrError
    from ivr.tools.softphone import HttpTransport, TwilioClient

    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<Response><Say>Th",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 15\r\n\r\n<Response><Say>",
    ]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for answer in answers:
            conn, _ = listener.accept()
            with conn:
                request = b""
                while not request.endswith(b"CallSid=CA1"):  # the whole request, or closing resets
                    request += conn.recv(65536)
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    twilio = TwilioClient(HttpTransport(base, timeout_s=5), "tok", base)
    with pytest.raises(IvrError, match=rf"^POST {base}/voice: IncompleteRead$"):
        twilio.twiml("/voice", {"CallSid": "CA1"})
    with pytest.raises(IvrError, match=r"^POST /voice: not XML \("):
        twilio.twiml("/voice", {"CallSid": "CA1"})
    thread.join(5)
    listener.close()  # nothing listens on the port any more
    with pytest.raises(IvrError, match=rf"^POST {base}/voice: ConnectionRefusedError$"):
        twilio.twiml("/voice", {"CallSid": "CA1"})
    assert len(twilio.client.latencies_s) == 3  # every post is timed, answered or not
    with pytest.raises(IvrError, match="expected http://HOST:PORT or https://HOST"):
        HttpTransport("localhost:5000")
