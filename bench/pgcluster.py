"""A throwaway PostgreSQL cluster on a free loopback port, from Debian's server binaries
(/usr/lib/postgresql/*/bin), which can be stopped and started again, or frozen (SIGSTOP) and
thawed: the suite's PostgreSQL fixtures (tests/ivr/conftest.py) and the database outages of
bench/webhook_latency.py.

Not pytest-bound: a failure raises `PgClusterError` (the fixtures turn it into a test failure).
As root, initdb and postgres run as the `postgres` user (they refuse to run as root)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


class PgClusterError(RuntimeError):
    """The binaries are missing, or initdb / pg_ctl failed (the message holds the server log)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A throwaway PostgreSQL cluster on a free local port, which a caller may stop and start."""

    def __init__(self) -> None:
        initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdbs:
            raise PgClusterError(
                "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                "install Debian's postgresql package (`make test` does it)"
            )
        self.bindir = Path(initdbs[-1]).parent
        self.base = Path(tempfile.mkdtemp(prefix="ivr311-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            shutil.chown(self.base, user="postgres", group="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.base / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        try:
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            )
            self.start()
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log_path = self.base / "server.log"
            log = log_path.read_text() if log_path.exists() else ""
            raise PgClusterError(f"{args[0]} failed: {done.stderr}{done.stdout}{log}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
            capture_output=True,
            timeout=60,
        )

    def pids(self) -> list[int]:
        """The server's processes: the postmaster (first line of postmaster.pid) and its
        children (Linux /proc)."""
        root = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == root:
                children.append(int(stat.parent.name))
        return [root, *children]

    def freeze(self) -> None:
        """A hung server, not a stopped one: SIGSTOP to every server process. Connections stay
        open and the kernel still accepts new ones, but nothing answers, so no server-side
        timeout (statement_timeout, lock_timeout) ever fires. `thaw` undoes it; call it in a
        `finally`. The postmaster stops first, so no child is forked after the listing."""
        os.kill(self.pids()[0], signal.SIGSTOP)
        for pid in self.pids()[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT to every server process (harmless on a server that is not frozen)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "ivr_" + uuid.uuid4().hex[:12]
        dsn = self.url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def remove(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # a frozen server would never stop
            self.thaw()
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
