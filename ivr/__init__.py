"""ivr311's voice half: a Twilio menu that queues callers (911 first) and logs every call; the
calls' service requests are published through Open311 GeoReport v2.

Knows Flask and twilio, never SimPy or the queueing package (they share file formats only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ivr.errors import IvrError

if TYPE_CHECKING:  # Flask is imported by create_app, so `ivr.tools.cli` stays light for `ivr311`
    from flask import Flask

    from ivr.calllog.callerhash import CallerHasher
    from ivr.calllog.sealing import NumberSeal
    from ivr.calllog.servicerequests import RequestStore
    from ivr.config import Settings
    from ivr.menu import Menu

__all__ = ["IvrError", "check_start", "create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory. Settings come from `IVR311_*`/`TWILIO_AUTH_TOKEN`; `test_config`
    overrides them (lower-case keys are `ivr.config.Settings` fields, upper-case keys go to
    `app.config`). Raises `IvrError` when the app must not start (no token, bad menu)."""
    from flask import Flask, Response, jsonify

    from ivr import context
    from ivr.callflow import agent, dialer, status, voice
    from ivr.calllog.journal import Journal
    from ivr.calllog.recorder import Recorder
    from ivr.calllog.store import utcnow
    from ivr.config import default_journal_dir, wait_stale_s
    from ivr.open311 import api as open311
    from ivr.wallboard import page as wallboard

    overrides = dict(test_config or {})
    flask_config = {k: v for k, v in overrides.items() if k.isupper()}
    settings_overrides = {k: v for k, v in overrides.items() if not k.isupper()}

    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    settings, menu, store, hasher, seal = _start(app.instance_path, settings_overrides)
    journal = Journal(settings.journal_dir or default_journal_dir(app.instance_path, store.url))
    recorder = Recorder(store, journal, budget_s=settings.store_budget_ms / 1000)
    recorder.start()

    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.config.update(flask_config)
    context.install(
        app,
        settings=settings,
        menu=menu,
        store=store,
        recorder=recorder,
        hasher=hasher,
        wait_stale_s=wait_stale_s(settings, menu.hold_pause_s),
        clock=utcnow,  # replaced by simulated callers
        seal=seal,
    )
    dialer.install(app, dialer.for_settings(settings))  # callbacks' REST calls (tests: a stand-in)

    app.register_blueprint(voice.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(status.bp)
    open311.init_app(app)  # /open311/v2: the categories as services, calls' service requests
    wallboard.init_app(app)  # /wallboard: the wall screen's page, behind its token
    app.after_request(_nosniff)

    @app.get("/healthz")
    def healthz() -> Response:
        """200 whenever the app routes calls; the body says whether the call log keeps up."""
        return jsonify(recorder.health())

    return app


def check_start() -> None:
    """Raise `IvrError` where `create_app()` would (settings, menu, database URL, caller-hash
    key), without building the app or connecting to the database: the production server's
    master runs it once, before it starts any worker (`ivr.gunicorn_conf`)."""
    from flask import Flask

    _start(Flask(__name__, instance_relative_config=True).instance_path, {})[2].close()


def _start(
    instance_path: str, settings_overrides: Mapping[str, Any]
) -> tuple[Settings, Menu, RequestStore, CallerHasher, NumberSeal | None]:
    """What the app is made of, each part checked; nothing here connects to the database: the
    app starts, and routes callers, while it is down."""
    from ivr.calllog.callerhash import load_hasher
    from ivr.calllog.sealing import load_seal
    from ivr.calllog.servicerequests import RequestStore
    from ivr.config import database_url, settings_from_env
    from ivr.menu import load_menu
    from ivr.wallboard.page import wallboard_setup

    settings = settings_from_env(overrides=settings_overrides)
    menu = load_menu(settings.menu_path)
    wallboard_setup(settings)
    url = database_url(settings.database_url, instance_path)
    store = RequestStore(url, create=False, timeout_s=settings.store_budget_ms / 1000 * 0.8)
    hasher = load_hasher(settings.caller_hash_key, settings.caller_hash_key_file, instance_path, url)
    seal = None  # a callback key only where callbacks are placed
    if settings.callbacks_enabled:
        seal = load_seal(settings.callback_key, settings.callback_key_file, instance_path, url)
    return settings, menu, store, hasher, seal


def _nosniff(response: Any) -> Any:
    """Every answer is what its Content-Type says, never sniffed into something else (a JSON or
    XML body holding what a caller or client typed must not run as a page)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
