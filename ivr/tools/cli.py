"""The voice half's commands; they join the `ivr311` console script through the entry-point
group `ivr311.commands` (pyproject), so the planner's CLI never imports this package.

    ivr311 calls export [--database-url URL] [--since T] [--format csv|json] [--out FILE]
    ivr311 dial [--from NUMBER] [--confidence C] [--agent] [--database-url URL] [--url URL]
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ivr import context
from ivr.errors import IvrError

if TYPE_CHECKING:
    from datetime import datetime

    from ivr.menu import Menu
    from ivr.tools.callers import CallPlan

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be reached or read is the user's to fix, not a bug: the
    SQLAlchemy error becomes an IvrError, `database: <first line of the driver's message>`
    (exit status 2, one line, like every user error)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).splitlines() or [type(cause).__name__])[0]
        raise IvrError(f"database: {first}") from None


def instance_folder() -> Path:
    """The app's instance folder (where its SQLite call log is kept by default)."""
    from flask import Flask

    return Path(Flask("ivr").instance_path)


def default_database_url() -> str:
    """What the app uses: IVR311_DATABASE_URL, else the SQLite file in the instance folder."""
    from ivr.config import ENV_VARS, database_url

    return database_url(os.environ.get(ENV_VARS["database_url"]), instance_folder())


SIMULATED_DATABASE = "simulated-callers.sqlite3"


def simulated_database_url() -> str:
    """Where simulated callers log unless told otherwise: a SQLite file of their own in the
    instance folder, never the app's call log (IVR311_DATABASE_URL is not read)."""
    return f"sqlite:///{instance_folder() / SIMULATED_DATABASE}"


@click.group("calls")
def calls() -> None:
    """The call log written by the voice app."""


@calls.command("export")
@click.option(
    "--database-url", help="SQLAlchemy URL (default: $IVR311_DATABASE_URL, else the app's SQLite file under instance/)."
)
@click.option(
    "--since", "since", metavar="T", help="Only calls started at or after T (ISO 8601, naive = UTC; or 24h, 7d)."
)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Write here instead of standard output."
)
def export(database_url: str | None, since: str | None, fmt: str, out_path: str | None) -> None:
    """Write one row per call: call_sid, caller_hash (keyed HMAC), started_at, language, category,
    queue, menu_attempts, enqueued_at, queue_result, queue_time_s, answered_at, ended_at,
    status, duration_s. Times are UTC ISO 8601 with Z."""
    from sqlalchemy import inspect

    from ivr.calllog.export import parse_since, write_calls
    from ivr.calllog.store import CallStore

    if out_path:
        _check_out_file(out_path)
    url = database_url or default_database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = url.removeprefix("sqlite:///")
        if not os.path.exists(path):
            raise IvrError(f"no call log at {path} (no call has been logged there yet)")
    since_at = parse_since(since) if since else None
    with database_errors():
        store = CallStore(url, create=False)
        try:
            if not inspect(store.engine).has_table("calls"):
                raise IvrError("the database has no call log (table 'calls' is missing)")
            rows = store.export_rows(since_at)
            if out_path:
                try:
                    with open(out_path, "w", encoding="utf-8", newline="") as out:
                        count = write_calls(rows, out, fmt)
                except OSError as exc:
                    raise IvrError(f"--out {out_path}: {exc.strerror or exc}") from None
                click.echo(f"wrote {count} calls to {out_path}", err=True)
            else:
                write_calls(rows, sys.stdout, fmt)
        finally:
            store.close()


def _check_out_file(path: str) -> None:
    """Refuse an --out file that cannot be written, before any work: its folder must exist and be
    a writable folder, and the path must not be a folder."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise IvrError(f"--out {path}: is a folder; give a file name")
    if not parent.is_dir():
        why = "is not a folder" if parent.exists() else "does not exist"
        raise IvrError(f"--out {path}: {parent} {why}")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise IvrError(f"--out {path}: not writable")


def _finite(_ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """click's FloatRange lets nan through (every comparison with nan is false)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number", param=param)
    return value


# A simulated clock stays where dates and the call log's timestamps work.
CLOCK_YEARS = (1970, 2200)


def _simulated_start(text: str) -> datetime:
    """--start as a UTC time, within CLOCK_YEARS."""
    from ivr.calllog.export import parse_since

    when = parse_since(text)
    if not CLOCK_YEARS[0] <= when.year < CLOCK_YEARS[1]:
        raise IvrError(f"--start {text!r}: must be between {CLOCK_YEARS[0]} and {CLOCK_YEARS[1]}")
    return when


@contextlib.contextmanager
def _local_app(database_url: str | None, *, signed: bool = False, simulated: bool = False) -> Iterator[Any]:
    """The voice app in this process (console phone, simulated callers), without the start-up
    warnings meant for a server on the network; its call log is closed on the way out.
    ``signed``: check signatures (the console phone signs when TWILIO_AUTH_TOKEN is set).
    ``simulated``: callers that are not people: their own database unless `database_url` says
    otherwise, with a journal of its own, and the service requests they open marked simulated
    (never on the public API)."""
    import logging

    from ivr import create_app
    from ivr.config import default_journal_dir
    from ivr.open311 import api as open311

    config: dict[str, object] = {} if signed else {"validate_signatures": False}
    if simulated:
        if not database_url:
            database_url = simulated_database_url()
            click.echo(
                f"simulated callers log to {database_url}, a database of their own (not the app's "
                "call log; --database-url to choose)",
                err=True,
            )
        # never IVR311_JOURNAL_DIR: that journal is replayed into the app's own database
        config["journal_dir"] = default_journal_dir(instance_folder(), database_url)
    if database_url:
        config["database_url"] = database_url
    config_log = logging.getLogger("ivr.config")
    level = config_log.level
    config_log.setLevel(logging.ERROR)
    try:
        app = create_app(config)
    finally:
        config_log.setLevel(level)
    context.store(app).requests.simulated = simulated
    try:
        yield app
    finally:
        context.store(app).close()
        open311.gate(app).close()


# Every option of `dial` and `callers` that has a default shows it in --help.
SHOW_DEFAULTS = {"show_default": True}


def _app_or_server(*, database_help: str, url_help: str) -> Callable[[F], F]:
    """What `dial` and `callers` call: the app in this process, logging to --database-url, or
    the running server at --url (the two options, in this order, with each command's help)."""

    def options(command: F) -> F:
        command = click.option("--url", metavar="URL", help=url_help)(command)
        return click.option("--database-url", help=database_help)(command)

    return options


@click.command("dial", context_settings=SHOW_DEFAULTS)
@click.option("--from", "caller", default="+15555550100", help="The caller's number (only its keyed hash is logged).")
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1),
    default=0.9,
    help="Confidence sent with words you type (below 0.6 the menu asks to confirm).",
)
@click.option("--agent", is_flag=True, help="Be a call-taker: dial the agent line instead.")
@_app_or_server(
    database_help="Log to this database instead of the app's.",
    url_help="Call the running server at URL (its public base URL) instead of the app in this process; "
    "requests are signed with $TWILIO_AUTH_TOKEN.",
)
def dial(caller: str, confidence: float, agent: bool, database_url: str | None, url: str | None) -> None:
    """Call the voice menu from the console: type keys (2, 9, *, 0) or words, Enter = silence.

    The local app runs in this process (no server, no Twilio); the call is logged like a real
    one. Requests are signed when TWILIO_AUTH_TOKEN is set."""
    from ivr.tools.softphone import Softphone, TwilioClient, read_stdin

    if url and database_url:
        raise IvrError("--database-url is the server's business with --url")
    token = os.environ.get("TWILIO_AUTH_TOKEN") or None
    with contextlib.ExitStack() as stack:
        twilio = TwilioClient.over_http(url, token) if url else None
        app = None if url else stack.enter_context(_local_app(database_url, signed=token is not None))
        phone = Softphone(app, twilio=twilio, caller=caller, confidence=confidence, read=read_stdin, write=click.echo)
        if agent:
            phone.agent()
        else:
            phone.call()


@click.command("callers", context_settings=SHOW_DEFAULTS)
@click.option("--count", type=click.IntRange(1, 1_000_000), default=200, help="How many calls.")
@click.option(
    "--rate-per-hour", type=click.FloatRange(0.001, 1e6), default=60.0, callback=_finite, help="Poisson arrival rate."
)
@click.option(
    "--scenario",
    "scenario",
    type=click.Path(exists=True, dir_okay=False),
    help="Callers drawn from this scenario by the planner's model (`ivr311 simulate --calls`, run "
    "in a separate process): arrivals, classes, categories, time in the menu, waits, hang-ups and "
    "handle times are the model's. Replaces --count and --rate-per-hour.",
)
@click.option(
    "--model-calls",
    "model_calls",
    type=click.Path(exists=True, file_okay=False),
    help="Like --scenario, from a results folder `ivr311 simulate --calls` already wrote.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=1,
    help="With --scenario: replications laid end to end (N days of a one-day scenario).",
)
@click.option("--seed", type=int, default=311)
@click.option(
    "--start",
    metavar="T",
    help="Simulated time of the first call's clock (ISO 8601, "
    "naive = UTC; default: so that the last call arrives about now).",
)
@_app_or_server(
    database_help="Log to this database (default: instance/simulated-callers.sqlite3, never the app's call log).",
    url_help="Drive the running server at URL (its public base URL) instead of the app in this process: "
    "requests signed with $TWILIO_AUTH_TOKEN, calls walked whole without waiting out their times; "
    "prints requests/s, latency percentiles and calls lost.",
)
@click.option("--concurrency", type=click.IntRange(1, 1000), default=20, help="With --url: calls in progress at once.")
def callers(
    count: int,
    rate_per_hour: float,
    scenario: str | None,
    model_calls: str | None,
    days: int,
    seed: int,
    start: str | None,
    database_url: str | None,
    url: str | None,
    concurrency: int,
) -> None:
    """Simulated callers: walk calls through the local voice app at simulated times and log them
    like real ones (try `calls export` and the planner's `calibrate` without a phone). Either
    Poisson callers (--count, --rate-per-hour) or the calls of a scenario as the model simulates
    them (--scenario, --days). Same seed, same calls. They log to a database of their own
    (instance/simulated-callers.sqlite3 unless --database-url), and the service requests they
    open are marked simulated: the public Open311 API never shows them.

    \b
    Example, a week of the baseline through the real menu:
      ivr311 callers --scenario scenarios/baseline.yaml --days 7 --database-url sqlite:///week.db"""
    from datetime import UTC, datetime, timedelta

    from ivr.calllog.export import format_time

    if scenario and model_calls:
        raise IvrError("give --scenario or --model-calls, not both")
    first = _simulated_start(start) if start else None
    if url:

        def plans(menu: Menu, start: datetime) -> list[CallPlan]:
            from ivr.tools.callers import model_call_plans, poisson_plans

            if scenario or model_calls:
                with _model_calls(scenario, model_calls, days, seed) as (rows, horizon_s, _):
                    return list(model_call_plans(rows, menu, start=start, horizon_s=horizon_s, seed=seed))
            return list(poisson_plans(menu, count=count, rate_per_hour=rate_per_hour, seed=seed, start=start))

        _drive(url, concurrency, plans)
        return
    if scenario or model_calls:
        from ivr.tools.callers import replay_model_calls

        with (
            _model_calls(scenario, model_calls, days, seed) as (rows, horizon_s, replications),
            _local_app(database_url, simulated=True) as app,
        ):
            span_s = horizon_s * replications
            first = first or datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=span_s)
            done = replay_model_calls(app, rows, start=first, horizon_s=horizon_s, seed=seed)
        click.echo(
            f"logged {done} calls of the model ({replications} x {horizon_s / 3600:g} h from "
            f"{format_time(first)}) in {context.store(app).url}",
            err=True,
        )
        return
    from ivr.tools.callers import simulate_callers

    span = timedelta(hours=count / rate_per_hour)  # about when the last call arrives
    earliest, latest = (datetime(year, 1, 1, tzinfo=UTC) for year in CLOCK_YEARS)
    if first is None and span < latest - earliest:
        first = datetime.now(UTC).replace(microsecond=0) - span
    if first is None or not earliest <= first <= latest - span:
        raise IvrError(
            f"--count {count} at --rate-per-hour {rate_per_hour:g} spans {span.days:,} days: the calls must "
            f"arrive between {CLOCK_YEARS[0]} and {CLOCK_YEARS[1]} (fewer calls, a higher rate, or --start)"
        )
    with _local_app(database_url, simulated=True) as app:
        last = simulate_callers(app, count=count, rate_per_hour=rate_per_hour, seed=seed, start=first)
    click.echo(
        f"logged {count} simulated calls from {format_time(first)} to "
        f"{format_time(last)} (last arrival) in {context.store(app).url}",
        err=True,
    )


def _drive(url: str, concurrency: int, plans_for: Callable[[Menu, datetime], list[CallPlan]]) -> None:
    """`callers --url`: the same callers (``plans_for`` the menu, starting now) against a running
    server, measured."""
    from datetime import UTC, datetime

    from ivr.menu import load_menu
    from ivr.tools.callers import drive_server

    if not url.startswith(("http://", "https://")):
        raise IvrError(f"--url {url!r}: expected http://HOST:PORT or https://HOST")
    menu = load_menu(os.environ.get("IVR311_MENU") or None)
    token = os.environ.get("TWILIO_AUTH_TOKEN") or None
    _check_server(url)
    plans = plans_for(menu, datetime.now(UTC))
    with click.progressbar(length=len(plans), label="calls", file=sys.stderr, hidden=not sys.stderr.isatty()) as bar:
        run = drive_server(url, token, plans, concurrency, progress=lambda n: bar.update(n - bar.pos))
    failed = f", {run.failed_posts} got no answer" if run.failed_posts else ""
    if run.latencies_s:
        click.echo(
            f"{run.calls} calls, {len(run.latencies_s)} webhooks answered{failed} in {run.elapsed_s:.1f} s: "
            f"{run.requests_per_s:.0f} answered/s, latency p50 {run.quantile_ms(0.5):.1f} ms, "
            f"p99 {run.quantile_ms(0.99):.1f} ms; calls lost {len(run.lost)}"
        )
    else:
        click.echo(f"{run.calls} calls, no webhook answered{failed}; calls lost {len(run.lost)}")
    for line in run.lost[:5]:
        click.echo(f"  lost: {line}", err=True)
    if run.lost:
        sys.exit(1)


def _check_server(url: str, timeout_s: float = 5.0) -> None:
    """Refuse --url at once when nothing answers there, rather than after walking every call
    into a refused connection. Any HTTP answer to ``GET /healthz`` will do (even an error page:
    a server is there; signatures and the menu are checked by the calls themselves)."""
    from http.client import HTTPConnection, HTTPException, HTTPSConnection
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    conn = connection(parts.netloc, timeout=timeout_s)
    try:
        conn.request("GET", parts.path.rstrip("/") + "/healthz")
        conn.getresponse().read()
    except (OSError, HTTPException) as exc:
        reason = (
            "no answer" if isinstance(exc, TimeoutError) else (getattr(exc, "strerror", None) or type(exc).__name__)
        )
        raise IvrError(f"--url {url}: no server answers there ({reason} within {timeout_s:g} s)") from None
    finally:
        conn.close()


@contextlib.contextmanager
def _model_calls(
    scenario: str | None, results: str | None, days: int, seed: int
) -> Iterator[tuple[Iterator[dict[str, str]], float, int]]:
    """The model's calls (rows of calls.csv), the horizon of one replication (s) and how many
    replications: from a results folder, or from running the model on `scenario` in a separate
    process (the voice app shares files with the planner's model, not imports)."""
    import csv
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="ivr311-callers-") as tmp:
        folder = Path(results) if results else Path(tmp) / "model"
        if scenario:
            cmd = [
                sys.executable,
                "-c",
                "from queueing.cli import main; main()",
                "simulate",
                scenario,
                "--calls",
                "--replications",
                str(days),
                "--seed",
                str(seed),
                "--out",
                str(folder),
                "-q",
            ]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise IvrError((done.stderr.strip().splitlines() or ["the model failed"])[-1])
        try:
            meta = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["meta"]
            horizon_s, replications = float(meta["horizon_s"]), int(meta["replications"])
            calls_file = (folder / "calls.csv").open(newline="", encoding="utf-8")
        except (OSError, KeyError, ValueError) as exc:
            raise IvrError(f"{folder}: not a results folder with calls.csv and summary.json ({exc})") from None
        with calls_file:
            yield csv.DictReader(calls_file), horizon_s, replications
