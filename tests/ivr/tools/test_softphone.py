"""`ivr311 dial`: the console phone walks the local app's TwiML from stdin; its HTTP transport
(what `callers --url` and the webhook benchmark post through) names what went wrong."""

from __future__ import annotations

import socket
import threading

import pytest
from click.testing import CliRunner

from ivr.errors import IvrError
from ivr.tools.cli import dial
from ivr.tools.softphone import HttpTransport, TwilioClient
from tests.ivr.call_log import logged


def run_dial(db_url: str, keys: list[str], *args: str, token: str | None = "tok"):
    env = {"TWILIO_AUTH_TOKEN": token, "IVR311_PUBLIC_BASE_URL": None}
    return CliRunner().invoke(dial, ["--database-url", db_url, *args], input="\n".join(keys) + "\n", env=env)


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


def test_a_webhook_not_answered_with_twiml_is_an_ivr_error_naming_it():
    """Over HTTP, whatever goes wrong (refused, a body cut off by a server dying mid-answer, a
    body that is not XML, a URL that is not http) is an IvrError naming the request: what the
    callers and the webhook benchmark count as not answered, never a crash of the walker."""
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
    # Only the answered post is timed (a refused one is no throughput); the two others are failures.
    assert len(twilio.client.latencies_s) == 1
    assert twilio.client.failures == 2
    with pytest.raises(IvrError, match="expected http://HOST:PORT or https://HOST"):
        HttpTransport("localhost:5000")
