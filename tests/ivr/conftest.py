"""Fixtures for the voice app: `app`, `client`, a Twilio simulator that signs requests exactly as
Twilio does, and a throwaway PostgreSQL cluster (`postgres_url`)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from ivr_twilio_sim import CALLER, PUBLIC_BASE, TOKEN, Call, TwilioSim

from ivr import create_app
from ivr.store import CallStore


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A real SQLite file (WAL mode) per test."""
    return f"sqlite:///{tmp_path / 'calls.sqlite3'}"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": db_url,
            "caller_hash_key": "pepper-for-tests-0123456789",
            "journal_dir": tmp_path / "journal",
            "TESTING": True,
        }
    )
    yield app
    app.extensions["ivr311.store"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def store(app: Flask) -> CallStore:
    return app.extensions["ivr311.store"]  # type: ignore[no-any-return]


@pytest.fixture
def twilio(client: FlaskClient) -> TwilioSim:
    return TwilioSim(client)


@pytest.fixture
def new_call(twilio: TwilioSim) -> Any:
    def make(sid: str | None = None, caller: str = CALLER) -> Call:
        return Call(twilio, sid, caller)

    return make


# -- PostgreSQL ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A throwaway PostgreSQL cluster on a free local port, which a test may stop and start."""

    def __init__(self) -> None:
        initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdbs:
            pytest.fail(
                "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
                "install Debian's postgresql package (`make test` does it)",
                pytrace=False,
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

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log_path = self.base / "server.log"
            log = log_path.read_text() if log_path.exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stderr}{done.stdout}{log}", pytrace=False)

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

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = "ivr_" + uuid.uuid4().hex[:12]
        dsn = self.url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PgCluster]:
    """One throwaway cluster for the session (never stopped by a test)."""
    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_server(postgres_cluster: PgCluster) -> str:
    """The session cluster's URL prefix (append /dbname)."""
    return postgres_cluster.url


@pytest.fixture
def postgres_url(postgres_cluster: PgCluster) -> str:
    """A fresh, empty database on the throwaway server for one test."""
    return postgres_cluster.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store on a real SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))
