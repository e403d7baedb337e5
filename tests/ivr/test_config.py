"""The factory's configuration: `IVR311_*` environment variables, the refusals, and `app.py`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ivr import IvrError, create_app
from ivr.config import settings_from_env
from ivr.errors import ConfigError, MenuError
from ivr.menu import DEFAULT_MENU_PATH
from tests.support import REPO


def test_refuses_to_start_without_a_token(monkeypatch, db_url):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("IVR311_VALIDATE_SIGNATURES", raising=False)
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        create_app({"database_url": db_url})
    assert issubclass(ConfigError, IvrError) and issubclass(MenuError, IvrError)


def test_environment_variables(monkeypatch, tmp_path):
    menu = tmp_path / "menu.yaml"
    menu.write_text(DEFAULT_MENU_PATH.read_text().replace("max_reprompts: 3", "max_reprompts: 2"))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("IVR311_PUBLIC_BASE_URL", "https://x.example/")
    monkeypatch.setenv("IVR311_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("IVR311_MENU", str(menu))
    app = create_app()
    settings = app.extensions["ivr311.settings"]
    assert settings.public_base_url == "https://x.example"
    assert app.extensions["ivr311.menu"].max_reprompts == 2
    assert (tmp_path / "env.sqlite3").exists()
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IVR311_VALIDATE_SIGNATURES": "maybe"}, "0 or 1"),
        ({"TWILIO_AUTH_TOKEN": "t", "IVR311_PUBLIC_BASE_URL": "ftp://x"}, "https"),
    ],
)
def test_bad_environment(env, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_env(env)


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("IVR311_DATABASE_URL", raising=False)
    from ivr.tools.cli import default_database_url

    url = default_database_url()
    assert url.startswith("sqlite:///") and url.endswith("instance/ivr311.sqlite3")


def test_app_py_exposes_app():
    code = (
        "import os; os.environ['TWILIO_AUTH_TOKEN']='t';"
        "os.environ['IVR311_DATABASE_URL']='sqlite://';"
        "import app, sys; print(type(app.app).__name__);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('simpy', 'numpy', 'queueing')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # the voice app shares only the safe YAML reader and the user-error exception with the
    # planner: never the model
    assert done.stdout.split("\n")[:2] == ["Flask", "['queueing', 'queueing.errors', 'queueing.yamlsafe']"]


def test_open311_keys_come_from_one_comma_separated_variable():
    env = {"IVR311_OPEN311_API_KEYS": " key-one , key-two,, ", "IVR311_VALIDATE_SIGNATURES": "0"}
    assert settings_from_env(env).open311_api_keys == ("key-one", "key-two")
    assert settings_from_env({"IVR311_VALIDATE_SIGNATURES": "0"}).open311_api_keys == ()


def test_callbacks_are_configured_from_the_environment_and_off_without_an_account():
    env = {"TWILIO_AUTH_TOKEN": "t0ken", "IVR311_CALLBACK_OFFER_AFTER": "420", "IVR311_CALLBACK_RETRIES": "3"}
    settings = settings_from_env(env)
    assert (settings.callback_offer_after_s, settings.callback_retries) == (420.0, 3)
    assert not settings.callbacks_enabled  # no account SID nor number to call from
    env |= {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "IVR311_CALLBACK_FROM": "+15550000311"}
    assert settings_from_env(env).callbacks_enabled
    defaults = settings_from_env({"TWILIO_AUTH_TOKEN": "t0ken"})
    assert (defaults.callback_offer_after_s, defaults.callback_retries, defaults.rest_timeout_s) == (300.0, 2, 5.0)
    with pytest.raises(ConfigError, match="callback_retries"):
        settings_from_env(env | {"IVR311_CALLBACK_RETRIES": "-1"})
