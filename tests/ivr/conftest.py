"""Fixtures for the voice app: `app`, `client`, a Twilio simulator that signs requests exactly as
Twilio does, and a throwaway PostgreSQL cluster (`postgres_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bench import pgcluster
from ivr import create_app
from ivr.calllog.store import CallStore
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import CALLER, PUBLIC_BASE, TOKEN, Call, TwilioSim


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A real SQLite file (WAL mode) per test."""
    return f"sqlite:///{tmp_path / 'calls.sqlite3'}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "store_budget_ms(ms): the `app` fixture's store budget, for a test of the bound itself "
        "(the fault injected, so no race with the clock); others get a generous one",
    )


@pytest.fixture
def make_app(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Build the voice app on `db_url` with the tests' settings and `overrides` (one app a
    test); closed after the test. Its store budget is generous (`GENEROUS_BUDGET_MS`), so a
    test of what the log holds reads it right after the webhooks on a loaded machine too; a
    test of the bound sets a tight one with `@pytest.mark.store_budget_ms(ms)`."""
    marker = request.node.get_closest_marker("store_budget_ms")
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(
            create_app(
                {
                    "twilio_auth_token": TOKEN,
                    "public_base_url": PUBLIC_BASE,
                    "database_url": db_url,
                    "caller_hash_key": "pepper-for-tests-0123456789",
                    "journal_dir": tmp_path / "journal",
                    "store_budget_ms": marker.args[0] if marker else GENEROUS_BUDGET_MS,
                    "TESTING": True,
                    **overrides,
                }
            )
        )
        return made[-1]

    yield make
    for app in made:
        app.extensions["ivr311.recorder"].close()  # no thread of this app logs into a later test
        app.extensions["ivr311.store"].close()


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The voice app on `db_url` (`make_app` with the tests' settings)."""
    return make_app()  # type: ignore[no-any-return]


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


_pg = pgcluster  # the bench's outage stops and starts the same kind of cluster


class PgCluster(_pg.PgCluster):
    """bench.pgcluster's throwaway cluster, whose failures (no binaries, initdb or pg_ctl
    failing) fail the test with the server's log instead of raising."""

    def __init__(self) -> None:
        try:
            super().__init__()
        except _pg.PgClusterError as exc:
            pytest.fail(str(exc), pytrace=False)

    def start(self) -> None:
        try:
            super().start()
        except _pg.PgClusterError as exc:
            pytest.fail(str(exc), pytrace=False)


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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`any_db_url` for an app a module shares: one database per backend and module."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('module-db') / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_cluster").create_database())
