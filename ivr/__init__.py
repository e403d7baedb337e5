"""ivr311's voice half: a Twilio menu that queues callers (911 first) and logs every call.

Knows Flask and twilio, never SimPy or the queueing package (they share file formats only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ivr.errors import IvrError

if TYPE_CHECKING:  # Flask is imported by create_app, so `ivr.cli` stays light for `ivr311`
    from flask import Flask

__all__ = ["IvrError", "create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory. Settings come from `IVR311_*`/`TWILIO_AUTH_TOKEN`; `test_config`
    overrides them (lower-case keys are `ivr.config.Settings` fields, upper-case keys go to
    `app.config`). Raises `IvrError` when the app must not start (no token, bad menu)."""
    from flask import Flask, Response

    from ivr import agent, status, voice
    from ivr.config import default_database_url, settings_from_env
    from ivr.menu import load_menu
    from ivr.store import CallStore, utcnow

    overrides = dict(test_config or {})
    flask_config = {k: v for k, v in overrides.items() if k.isupper()}
    settings_overrides = {k: v for k, v in overrides.items() if not k.isupper()}

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    settings = settings_from_env(overrides=settings_overrides)
    menu = load_menu(settings.menu_path)
    database_url = settings.database_url or default_database_url(app.instance_path)
    store = CallStore(database_url, salt=settings.caller_hash_salt)

    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.config.update(flask_config)
    app.extensions["ivr311.settings"] = settings
    app.extensions["ivr311.menu"] = menu
    app.extensions["ivr311.store"] = store
    app.extensions["ivr311.clock"] = utcnow  # replaced by simulated callers

    app.register_blueprint(voice.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(status.bp)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app
