"""Configuration of the voice app: `IVR311_*` environment variables, overridable by tests."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ivr.errors import ConfigError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Settings(BaseModel):
    """Everything the app reads from its environment, validated once at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    twilio_auth_token: str | None = None
    public_base_url: str | None = None  # e.g. https://abc.trycloudflare.com (what Twilio calls)
    database_url: str | None = None  # None = sqlite file under the instance folder
    menu_path: Path | None = None  # None = ivr/menu.yaml
    validate_signatures: bool = True
    caller_hash_key: str | None = None  # None = the key file (see ivr.calllog.callerhash)
    caller_hash_key_file: Path | None = None  # None = instance/caller-hash.key (not with PostgreSQL)
    journal_dir: Path | None = None  # None = instance/journal-<hash of the database URL>
    store_budget_ms: int = Field(default=500, ge=10, le=5000)  # longest a webhook waits on the log
    wait_stale_s: float | None = Field(default=None, gt=0)  # None = 3 hold-music loops
    open311_api_keys: tuple[str, ...] = ()  # keys that may POST Open311 requests
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, gt=0)
    wallboard_token: str | None = Field(default=None, min_length=16)  # None = no /wallboard
    wallboard_scenario: Path | None = None  # its targets; None = 90% in 15 s (911), 80% in 60 s (311)
    wallboard_timezone: str = "UTC"  # where "today" starts (an IANA name)
    nowcast_file: Path | None = None  # what `ivr311 nowcast` writes, shown on the wallboard
    # callbacks (virtual hold): offered once a 311 caller's expected wait passes this, placed
    # through Twilio's REST API from `callback_from` when the account SID is set (else never offered)
    callback_offer_after_s: float = Field(default=300.0, gt=0)
    callback_retries: int = Field(default=2, ge=0, le=10)  # after the first attempt
    callback_retry_after_s: float = Field(default=120.0, ge=0)
    twilio_account_sid: str | None = None
    callback_from: str | None = None  # the Twilio number callbacks are placed from (E.164)
    callback_key: str | None = None  # None = the key file (see ivr.calllog.sealing)
    callback_key_file: Path | None = None  # None = instance/callback.key (not with PostgreSQL)
    rest_timeout_s: float = Field(default=5.0, gt=0, le=14)  # a REST call within a webhook's 15 s

    @property
    def callbacks_enabled(self) -> bool:
        """Callbacks are offered only when they can be placed."""
        return bool(self.twilio_account_sid and self.callback_from and self.twilio_auth_token)

    @field_validator("open311_api_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """`IVR311_OPEN311_API_KEYS=key1,key2`: blanks around and between keys ignored."""
        items = value.split(",") if isinstance(value, str) else value
        return tuple(k.strip() for k in items if k.strip())


ENV_VARS = {
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "public_base_url": "IVR311_PUBLIC_BASE_URL",
    "database_url": "IVR311_DATABASE_URL",
    "menu_path": "IVR311_MENU",
    "validate_signatures": "IVR311_VALIDATE_SIGNATURES",
    "caller_hash_key": "IVR311_CALLER_HASH_KEY",
    "caller_hash_key_file": "IVR311_CALLER_HASH_KEY_FILE",
    "journal_dir": "IVR311_JOURNAL_DIR",
    "store_budget_ms": "IVR311_STORE_BUDGET_MS",
    "wait_stale_s": "IVR311_WAIT_STALE_S",
    "open311_api_keys": "IVR311_OPEN311_API_KEYS",
    "wallboard_token": "IVR311_WALLBOARD_TOKEN",
    "wallboard_scenario": "IVR311_WALLBOARD_SCENARIO",
    "wallboard_timezone": "IVR311_WALLBOARD_TIMEZONE",
    "nowcast_file": "IVR311_NOWCAST_FILE",
    "callback_offer_after_s": "IVR311_CALLBACK_OFFER_AFTER",
    "callback_retries": "IVR311_CALLBACK_RETRIES",
    "callback_retry_after_s": "IVR311_CALLBACK_RETRY_AFTER",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "callback_from": "IVR311_CALLBACK_FROM",
    "callback_key": "IVR311_CALLBACK_KEY",
    "callback_key_file": "IVR311_CALLBACK_KEY_FILE",
    "rest_timeout_s": "IVR311_REST_TIMEOUT_S",
}
RETIRED_VARS = {
    "IVR311_CALLER_HASH_SALT": "the caller-hash key no longer lives in the database: set "
    "IVR311_CALLER_HASH_KEY (or IVR311_CALLER_HASH_KEY_FILE) instead",
}


def settings_from_env(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build settings from the environment, then apply `overrides` (the factory's test_config)."""
    env = os.environ if environ is None else environ
    for var, why in RETIRED_VARS.items():
        if env.get(var, "").strip():
            raise ConfigError(f"{var} is no longer read: {why}")
    values: dict[str, Any] = {}
    for field, var in ENV_VARS.items():
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            continue
        if field == "validate_signatures":
            flag = raw.strip().lower()
            if flag not in _TRUE | _FALSE:
                raise ConfigError(f"{var}={raw!r}: expected 0 or 1")
            values[field] = flag in _TRUE
        else:
            values[field] = raw.strip()
    values.update(overrides or {})
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"config {where}: {err['msg']}") from None
    if settings.public_base_url is not None:
        base = settings.public_base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError(f"IVR311_PUBLIC_BASE_URL={settings.public_base_url!r}: must start with https://")
        settings = settings.model_copy(update={"public_base_url": base})
    check_security(settings)
    return settings


def check_security(settings: Settings) -> None:
    """Refuse to run an unauthenticated webhook unless explicitly told to, and say so loudly."""
    if settings.validate_signatures and not settings.twilio_auth_token:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: the app refuses to start without it "
            "(set IVR311_VALIDATE_SIGNATURES=0 only for local experiments)"
        )
    if not settings.validate_signatures:
        log.warning(
            "!!! IVR311_VALIDATE_SIGNATURES=0: Twilio signatures are NOT checked; anyone who "
            "can reach this server can forge calls. Never run this way on a public URL. !!!"
        )
    elif settings.public_base_url is None:
        log.warning(
            "IVR311_PUBLIC_BASE_URL is not set: signatures are checked against the URL this "
            "server sees, which fails behind tunnels and proxies that change scheme or host"
        )


def default_database_url(instance_path: str | Path) -> str:
    path = Path(instance_path) / "ivr311.sqlite3"
    return f"sqlite:///{path}"


def database_url(configured: str | None, instance_path: str | Path) -> str:
    """The call log's URL: the configured one, else the SQLite file under the instance folder.
    The one rule for the app and for the command line."""
    configured = (configured or "").strip()
    return configured or default_database_url(instance_path)


def default_journal_dir(instance_path: str | Path, database_url: str) -> Path:
    """One journal folder per database, so that a journal is never replayed into another one."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    return Path(instance_path) / f"journal-{digest}"


HOLD_LOOP_ALLOWANCE_S = 10  # the position announcement before each hold pause, at most
STALE_LOOPS = 3


def wait_stale_s(settings: Settings, hold_pause_s: int) -> float:
    """How long after its last heartbeat a caller stops counting as waiting: the configured
    value, else 3 missed loops of the hold music (announcement + pause)."""
    if settings.wait_stale_s is not None:
        return settings.wait_stale_s
    return float(STALE_LOOPS * (hold_pause_s + HOLD_LOOP_ALLOWANCE_S))
