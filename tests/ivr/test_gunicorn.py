"""The production server (`make serve`: gunicorn with ivr/gunicorn_conf.py), tested as served.

Slow clients: connections that send a request head one byte a second must not delay an
emergency answer (with the old sync workers, key-1 answers waited past Twilio's 15 s), and the
server cuts them after the read deadline. Start-up mistakes: one line, status 2, no traceback,
from the real command line of the Makefile.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import webhook_latency as bench  # free port, app environment
from ivr import create_app
from ivr.errors import IvrError
from ivr.gunicorn_worker import READ_S
from ivr.tools.softphone import CallWalker, HttpTransport, TwilioClient
from tests.support import REPO

SLOW_CLIENTS = 24
EMERGENCY_ANSWERS = 10
TWILIO_TIMEOUT_S = 15.0
ANSWER_WITHIN_S = 5.0  # each key-1 answer, on a loaded machine; it was past 15 s with sync workers
SLOW_HEAD = b"POST /voice HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
SLOW_HEAD += b"X-Slow: " + b"z" * 2000


def serve_command() -> list[str]:
    """The `serve` recipe of the Makefile, as it runs (so the test serves what `make serve` does)."""
    recipe = re.search(r"^serve:.*\n\t(.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert recipe, "no serve target in the Makefile"
    return shlex.split(recipe.group(1).replace("$(BIN)", str(Path(sys.executable).parent)))


@contextlib.contextmanager
def served(
    tmp_path: Path, command: list[str] | None = None, **env: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The app served by `command` (default: the Makefile's) on a free loopback port, with a
    fresh SQLite call log and `env`; the whole process group is killed on the way out."""
    port = bench.free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command or serve_command(),
            cwd=REPO,
            env=server_env(tmp_path, port) | env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            assert proc.poll() is None, "server exited:\n" + log.read_text()
            assert time.monotonic() < deadline, "server did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield port, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def server_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The environment of a server on loopback `port` (signatures checked, call log in `tmp_path`)."""
    db_url = f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    return {**os.environ, **bench.app_env(port, db_url, tmp_path / "journal"), "IVR311_BIND": f"127.0.0.1:{port}"}


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class SlowClients(threading.Thread):
    """`n` connections, each sending a request head that never ends, one byte a second; keeps
    when the server closed each (None while open)."""

    def __init__(self, port: int, n: int) -> None:
        super().__init__(daemon=True)
        self.started = time.monotonic()
        self.socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
        self.closed_after_s: list[float | None] = [None] * n
        self.stop = threading.Event()

    def run(self) -> None:
        sent = 0
        while not self.stop.is_set() and None in self.closed_after_s and sent < len(SLOW_HEAD):
            for i, sock in enumerate(self.socks):
                if self.closed_after_s[i] is None and not self._send(sock, SLOW_HEAD[sent : sent + 1]):
                    self.closed_after_s[i] = time.monotonic() - self.started
            sent += 1
            self.stop.wait(1.0)

    @staticmethod
    def _send(sock: socket.socket, byte: bytes) -> bool:
        """Send one byte; False once the server has closed (end of file or reset)."""
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            try:
                if sel.select(0) and sock.recv(4096) == b"":
                    return False
                sock.sendall(byte)
            except OSError:
                return False
        return True

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        for sock in self.socks:
            sock.close()


def emergency_latencies(port: int, count: int) -> list[tuple[float, str | None]]:
    """Up to `count` signed key-1 answers to the main menu, one after the other: (seconds, the
    queue enqueued in, None if not answered within Twilio's 15 s); stops at the first late one."""
    base = f"http://127.0.0.1:{port}"
    twilio = TwilioClient(HttpTransport(base, timeout_s=TWILIO_TIMEOUT_S), bench.TOKEN, base)
    found: list[tuple[float, str | None]] = []
    while len(found) < count and all(s <= ANSWER_WITHIN_S for s, _ in found):
        walker = CallWalker(twilio)
        started = time.perf_counter()
        try:
            walker.request("/voice/menu?lang=en&n=1&a=0", Digits="1")
        except IvrError:
            walker.doc = None
        enqueue = walker.enqueue if walker.doc is not None else None
        found.append((time.perf_counter() - started, enqueue.text if enqueue is not None else None))
    return found


@pytest.mark.slow
def test_slow_clients_hold_no_emergency_answer_and_are_cut(tmp_path: Path) -> None:
    with served(tmp_path) as (port, _):
        slow = SlowClients(port, SLOW_CLIENTS)
        slow.start()
        try:
            time.sleep(2.5)  # every slow connection has sent bytes: each is being read
            answers = emergency_latencies(port, EMERGENCY_ANSWERS)
            slow.join(READ_S + 10)
        finally:
            slow.close()
    late = [round(s, 1) for s, _ in answers if s > ANSWER_WITHIN_S]
    assert not late, f"key-1 answers past {ANSWER_WITHIN_S} s with {SLOW_CLIENTS} slow clients: {late}"
    assert [queue for _, queue in answers] == ["911"] * EMERGENCY_ANSWERS
    cut = [s for s in slow.closed_after_s if s is not None]
    assert len(cut) == SLOW_CLIENTS, f"{SLOW_CLIENTS - len(cut)} slow clients still held after {READ_S + 10} s"
    assert max(cut) < READ_S + 6, f"slow clients cut after {max(cut):.1f} s (deadline {READ_S} s)"


def start_up_mistakes(tmp_path: Path) -> dict[str, dict[str, str]]:
    """Environments the app refuses, by name: changes to a working server's environment."""
    broken_menu = tmp_path / "menu.yaml"
    broken_menu.write_text("languages: [en\n")
    log_without_key = tmp_path / "old-log.sqlite3"
    log_without_key.write_bytes(b"SQLite format 3\x00" + bytes(4080))  # a call log, as a file check sees it
    return {
        "no token": {"TWILIO_AUTH_TOKEN": ""},
        "broken menu": {"IVR311_MENU": str(broken_menu)},
        "lost key file": {
            "IVR311_CALLER_HASH_KEY": "",
            "IVR311_CALLER_HASH_KEY_FILE": str(tmp_path / "lost.key"),
            "IVR311_DATABASE_URL": f"sqlite:///{log_without_key}",
        },
    }


@pytest.mark.parametrize("mistake", ["no token", "broken menu", "lost key file"])
def test_a_start_up_mistake_is_one_line_and_status_2(tmp_path: Path, mistake: str) -> None:
    env = server_env(tmp_path, bench.free_port()) | start_up_mistakes(tmp_path)[mistake]
    # what create_app says, with the same environment
    with pytest.raises(IvrError) as refused, pytest.MonkeyPatch.context() as mp:
        for var, value in env.items():
            mp.setenv(var, value)
        create_app()
    done = subprocess.run(serve_command(), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.splitlines() == [refused.value.format_message()]
    assert done.returncode == 2


@pytest.mark.slow
def test_workers_that_cannot_load_the_app_say_why_in_one_line(tmp_path: Path) -> None:
    """The menu broken while the server runs, then a reload (SIGHUP): the new workers refuse
    it; the server stops with gunicorn's "app failed to load" status, with the menu's one line
    and without a traceback (gunicorn's own, when two workers fail at once, included)."""
    menu = tmp_path / "menu.yaml"
    menu.write_text((REPO / "ivr" / "menu.yaml").read_text())
    with served(tmp_path, IVR311_MENU=str(menu)) as (_, proc):
        menu.write_text("languages: [en\n")
        proc.send_signal(signal.SIGHUP)
        status = proc.wait(60)
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if line.startswith(f"{menu}:")]) == 1
    assert "App failed to load" in log
    assert status == 4  # gunicorn's APP_LOAD_ERROR
