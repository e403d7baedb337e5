"""ivr311's voice half: a Twilio menu that queues callers (911 first) and logs every call; the
calls' service requests are published through Open311 GeoReport v2.

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
    from flask import Flask, Response, jsonify

    from ivr import agent, open311, status, voice
    from ivr.callerhash import load_hasher
    from ivr.config import database_url as resolve_database_url
    from ivr.config import default_journal_dir, settings_from_env, wait_stale_s
    from ivr.journal import Journal
    from ivr.menu import load_menu
    from ivr.recorder import Recorder
    from ivr.servicerequests import RequestStore
    from ivr.store import utcnow

    overrides = dict(test_config or {})
    flask_config = {k: v for k, v in overrides.items() if k.isupper()}
    settings_overrides = {k: v for k, v in overrides.items() if not k.isupper()}

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    settings = settings_from_env(overrides=settings_overrides)
    menu = load_menu(settings.menu_path)
    database_url = resolve_database_url(settings.database_url, app.instance_path)
    # Nothing here may need the database: the app starts, and routes callers, while it is down.
    store = RequestStore(database_url, create=False, timeout_s=settings.store_budget_ms / 1000 * 0.8)
    hasher = load_hasher(
        settings.caller_hash_key,
        settings.caller_hash_key_file,
        app.instance_path,
        postgres=store.engine.dialect.name == "postgresql",
    )
    journal = Journal(settings.journal_dir or default_journal_dir(app.instance_path, database_url))
    recorder = Recorder(store, journal, budget_s=settings.store_budget_ms / 1000)
    recorder.start()

    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.config.update(flask_config)
    app.extensions["ivr311.settings"] = settings
    app.extensions["ivr311.menu"] = menu
    app.extensions["ivr311.store"] = store
    app.extensions["ivr311.recorder"] = recorder
    app.extensions["ivr311.hasher"] = hasher
    app.extensions["ivr311.wait_stale_s"] = wait_stale_s(settings, menu.hold_pause_s)
    app.extensions["ivr311.clock"] = utcnow  # replaced by simulated callers

    app.register_blueprint(voice.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(status.bp)
    open311.init_app(app)  # /open311/v2: the categories as services, calls' service requests
    app.after_request(_nosniff)

    @app.get("/healthz")
    def healthz() -> Response:
        """200 whenever the app routes calls; the body says whether the call log keeps up."""
        return jsonify(recorder.health())

    return app


def _nosniff(response: Any) -> Any:
    """Every answer is what its Content-Type says, never sniffed into something else (a JSON or
    XML body holding what a caller or client typed must not run as a page)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
