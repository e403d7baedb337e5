"""One user error for the whole console script: a ``queueing.errors.UserError`` (ScenarioError in
the planner's half, IvrError in the voice half) is printed alone on stderr, one line per problem,
no ``Error:`` prefix, exit status 2; click's own usage errors and real bugs are left as they were.

Every command is driven through ``ivr311`` (the click group the console script runs), so the
voice half's commands come in through the ``ivr311.commands`` entry points as they do for users.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from queueing.cli import main
from queueing.errors import ScenarioError, UserError
from tests.support import REPO

MENU = REPO / "ivr" / "menu.yaml"


def ivr311(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def refused(result: Result, *lines: str) -> None:
    """Exit 2, stderr exactly these lines, nothing on stdout."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr == "".join(f"{line}\n" for line in lines)
    assert result.stdout == ""


def bad_menu(tmp_path: Path) -> tuple[Path, int]:
    """The shipped menu with max_reprompts -1, and the line that says so."""
    text = MENU.read_text(encoding="utf-8")
    assert "max_reprompts: 3 " in text
    path = tmp_path / "menu.yaml"
    path.write_text(text.replace("max_reprompts: 3 ", "max_reprompts: -1 ", 1), encoding="utf-8")
    return path, text[: text.index("max_reprompts: 3 ")].count("\n") + 1


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ivr_error_is_the_one_user_error() -> None:
    from ivr.errors import ConfigError, IvrError, MenuError

    assert issubclass(ScenarioError, UserError) and issubclass(IvrError, UserError)
    assert issubclass(ConfigError, UserError) and issubclass(MenuError, UserError)
    assert UserError("x").exit_code == ScenarioError("x").exit_code == IvrError("x").exit_code == 2


def bad_horizon(write_scenario, name: str = "bad.yaml") -> tuple[Path, str]:
    """A scenario whose horizon is -5m, and the one line that says so."""
    bad = write_scenario(name=name, horizon="-5m")
    line = bad.read_text(encoding="utf-8").splitlines().index("horizon: -5m") + 1
    return bad, f"{bad}:{line}: horizon: must be a duration > 0"


def test_a_bad_scenario_is_one_bare_line(write_scenario) -> None:
    bad, expected = bad_horizon(write_scenario)
    refused(ivr311("simulate", str(bad), "-q"), expected)


def test_validate_tells_every_bad_file_then_exits_2(write_scenario, tmp_path: Path) -> None:
    good = write_scenario(name="good.yaml")
    bad, expected = bad_horizon(write_scenario)
    missing = tmp_path / "missing.yaml"
    result = ivr311("validate", str(bad), str(good), str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"{expected}\n{missing}: no such file\n"
    assert result.stdout.startswith(f"{good}: ok (") and len(result.stdout.splitlines()) == 1


def test_a_bad_menu_is_one_bare_line(tmp_path: Path) -> None:
    """The menu is read by `callers --url` (before any request) and by `dial` (the local app)."""
    menu, line = bad_menu(tmp_path)
    expected = f"{menu}:{line}: max_reprompts: Input should be greater than or equal to 0"
    env = {"IVR311_MENU": str(menu), "TWILIO_AUTH_TOKEN": ""}
    refused(ivr311("callers", "--url", f"http://127.0.0.1:{closed_port()}", env=env), expected)
    db = tmp_path / "calls.db"
    refused(ivr311("dial", "--database-url", f"sqlite:///{db}", env=env), expected)
    assert not db.exists()


def test_a_bad_setting_is_one_bare_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'calls.db'}"
    refused(
        ivr311("dial", "--database-url", db, env={"IVR311_VALIDATE_SIGNATURES": "maybe"}),
        "IVR311_VALIDATE_SIGNATURES='maybe': expected 0 or 1",
    )


def test_an_unreachable_database_is_one_bare_line(tmp_path: Path) -> None:
    """The driver's first line after `database:`; calibrate (which runs the export in a separate
    process) names its own option before it."""
    port = closed_port()
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/calls"
    reason = f'connection failed: connection to server at "127.0.0.1", port {port} failed: Connection refused'
    refused(ivr311("calls", "export", "--database-url", url), f"database: {reason}")
    refused(ivr311("requests", "list", "--database-url", url), f"database: {reason}")
    not_a_database = tmp_path / "calls.db"
    not_a_database.write_text("these are not the calls you are looking for\n" * 200)
    sqlite = f"sqlite:///{not_a_database}"
    refused(ivr311("calls", "export", "--database-url", sqlite), "database: file is not a database")
    out = tmp_path / "calibrated.yaml"
    base = REPO / "scenarios" / "baseline.yaml"
    refused(
        ivr311("calibrate", "--database-url", url, "--base", str(base), "--out", str(out)),
        f"--database-url: database: {reason}",
    )
    assert not out.exists()


def test_an_ivr_mistake_is_one_bare_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    refused(
        ivr311("calls", "export", "--database-url", f"sqlite:///{missing}"),
        f"no call log at {missing} (no call has been logged there yet)",
    )
    refused(
        ivr311("callers", "--url", "ftp://example.org"),
        "--url 'ftp://example.org': expected http://HOST:PORT or https://HOST",
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["simulate", "--bogus"], "Error: No such option '--bogus'"),
        (["calls", "export", "--format", "xml"], "Error: Invalid value for '--format': 'xml' is not one of"),
        (["compare", str(REPO / "scenarios" / "textbook.yaml")], "Error: give at least two scenario files"),
    ],
)
def test_usage_errors_are_clicks_own(args: list[str], says: str) -> None:
    """A mistake on the command line keeps click's usage message (usage line, `Error:`), exit 2."""
    result = ivr311(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: ")
    assert says in result.stderr


def test_help_still_exits_0() -> None:
    result = ivr311("--help")
    assert result.exit_code == 0 and "calls" in result.stdout and "simulate" in result.stdout
    assert result.stderr == ""


def test_a_bug_is_not_a_user_error(monkeypatch: pytest.MonkeyPatch, write_scenario, tmp_path: Path) -> None:
    """Anything but a UserError escapes click's handling (a traceback for the user), in both halves."""
    import ivr.calllog.export
    import queueing.cli.simulation

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(queueing.cli.simulation, "check_run", broken)
    result = ivr311("validate", str(write_scenario()))
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)

    monkeypatch.setattr(ivr.calllog.export, "parse_since", broken)
    result = ivr311("calls", "export", "--since", "1h", "--database-url", "sqlite://")
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)
