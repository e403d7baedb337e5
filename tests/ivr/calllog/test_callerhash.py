"""The caller-hash key lives outside the database: a copy of the database gives back no number."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from ivr import create_app
from ivr.calllog.callerhash import KEY_FILE_NAME, CallerHasher, load_hasher
from ivr.calllog.store import CallStore
from ivr.config import settings_from_env
from ivr.errors import ConfigError
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import PUBLIC_BASE, TOKEN, Call, TwilioSim

AREA = "+1555867"  # the callers below are all in +1 555 867-xxxx
SQLITE_IN_MEMORY = "sqlite://"
POSTGRES = "postgresql+psycopg://ivr@db.example/ivr311"  # never connected to


def app_with_key_file(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": db_url,
            "caller_hash_key_file": tmp_path / "keys" / "k",
            "journal_dir": tmp_path / "journal",
            "store_budget_ms": GENEROUS_BUDGET_MS,
        }
    )


def every_text_value(db_url: str) -> set[str]:
    """Every string and every table/column name in the database, as an attacker with a copy
    would read it."""
    store = CallStore(db_url, create=False)
    meta = MetaData()
    meta.reflect(store.engine)
    found: set[str] = set()
    with store.engine.connect() as conn:
        for table in meta.sorted_tables:
            found.add(table.name)
            for row in conn.execute(select(table)):
                found.update(str(v) for v in row if v is not None)
    store.close()
    return found


def test_key_file_is_made_once_with_mode_0600(tmp_path, db_url):
    app = app_with_key_file(tmp_path, db_url)
    key_file = tmp_path / "keys" / "k"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = app.extensions["ivr311.hasher"].hash("+15558675309")
    again = app_with_key_file(tmp_path, db_url).extensions["ivr311.hasher"].hash("+15558675309")
    assert first == again and len(first) == 32
    assert key_file.read_text().strip() not in every_text_value(db_url)


def test_default_key_file_sits_beside_not_inside_the_database(tmp_path):
    hasher = load_hasher(None, None, tmp_path / "instance", SQLITE_IN_MEMORY)
    assert (tmp_path / "instance" / KEY_FILE_NAME).exists()
    assert hasher.hash("+15551234567") != hashlib.sha256(b"+15551234567").hexdigest()[:32]


def test_a_database_copy_gives_back_no_number(tmp_path, db_url):
    """The dictionary attack, tried: with the database alone, hash every number of the area
    under every key the database could hold (each of its strings) and plain SHA-256. A key kept
    in the database would give every number back; with the key outside it, none comes back."""
    app = app_with_key_file(tmp_path, db_url)
    twilio = TwilioSim(app.test_client())
    numbers = [f"{AREA}{n:04d}" for n in (17, 309, 4242, 9999)]
    for number in numbers:
        Call(twilio, caller=number).start()
    store = CallStore(db_url, create=False)
    stored = {r["caller_hash"] for r in store.export_rows()}
    store.close()
    assert len(stored) == len(numbers)
    candidates = [f"{AREA}{n:04d}".encode() for n in range(10_000)]
    keys = [v.encode() for v in every_text_value(db_url)] + [b""]
    recovered = set()
    for key in keys:
        for number in candidates:
            if hmac.new(key, number, hashlib.sha256).hexdigest()[:32] in stored:
                recovered.add(number)
    recovered |= {n for n in candidates if hashlib.sha256(n).hexdigest()[:32] in stored}
    assert recovered == set()
    # while the key file gives all of them back: the test would see a leak
    real = CallerHasher((tmp_path / "keys" / "k").read_text().strip().encode())
    assert {real.hash(n.decode()) for n in candidates} >= stored


def test_postgresql_needs_the_key_configured(tmp_path):
    with pytest.raises(ConfigError, match="IVR311_CALLER_HASH_KEY"):
        load_hasher(None, None, tmp_path, POSTGRES)
    assert load_hasher("k" * 16, None, tmp_path, POSTGRES).hash("+1") is not None
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_the_old_salt_variable_is_refused_with_a_pointer():
    env = {"IVR311_CALLER_HASH_SALT": "pepper", "IVR311_VALIDATE_SIGNATURES": "0"}
    with pytest.raises(ConfigError, match="IVR311_CALLER_HASH_KEY"):
        settings_from_env(env)


def test_short_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least 16"):
        load_hasher("short", None, tmp_path, SQLITE_IN_MEMORY)
    (tmp_path / "weak").write_text("abc\n")
    with pytest.raises(ConfigError, match="at least 16"):
        load_hasher(None, tmp_path / "weak", tmp_path, SQLITE_IN_MEMORY)


def test_a_lost_key_file_is_refused_when_the_call_log_exists(tmp_path, db_url):
    """Without this, a new key was made silently and every caller logged before could no
    longer be linked to a new call of theirs."""
    app = app_with_key_file(tmp_path, db_url)
    Call(TwilioSim(app.test_client())).start()
    app.extensions["ivr311.store"].close()
    key_file = tmp_path / "keys" / "k"
    key_file.unlink()
    with pytest.raises(ConfigError) as refused:
        app_with_key_file(tmp_path, db_url)
    message = refused.value.format_message()
    assert f"caller-hash key file {key_file} is missing" in message
    assert "restore the key file" in message and "IVR311_CALLER_HASH_KEY" in message
    assert "\n" not in message
    assert not key_file.exists()


def test_a_key_file_is_made_where_no_call_log_can_exist_yet(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    empty.touch()  # e.g. made by a tool that failed before writing anything
    for url in (f"sqlite:///{tmp_path / 'absent.sqlite3'}", f"sqlite:///{empty}", SQLITE_IN_MEMORY):
        key_file = tmp_path / "k"
        assert load_hasher(None, key_file, tmp_path, url).hash("+1") is not None
        assert key_file.exists()
        key_file.unlink()


def test_a_missing_key_file_is_refused_with_postgresql(tmp_path):
    """The database is not read at start-up (the app starts while it is down), so whether it
    holds calls is unknown: the key file is made once, by the command the message gives."""
    key_file = tmp_path / "k"
    with pytest.raises(ConfigError, match="umask 077") as refused:
        load_hasher(None, key_file, tmp_path, POSTGRES)
    assert "postgresql call log may already hold calls" in refused.value.format_message()
    assert not key_file.exists()
    key_file.write_text("made-by-the-operator-0123456789\n")
    key_file.chmod(0o600)
    assert load_hasher(None, key_file, tmp_path, POSTGRES).hash("+1") is not None


def test_a_key_file_others_may_read_is_warned_about_once(tmp_path, caplog):
    key_file = tmp_path / "k"
    key_file.write_text("shared-with-everyone-0123456789\n")
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.callerhash"):
        load_hasher(None, key_file, tmp_path, SQLITE_IN_MEMORY)
        load_hasher(None, key_file, tmp_path, SQLITE_IN_MEMORY)
    warnings = [r.getMessage() for r in caplog.records if r.name == "ivr.calllog.callerhash"]
    assert len(warnings) == 1
    assert "mode 0644" in warnings[0] and f"chmod 600 {key_file}" in warnings[0]


def test_a_private_key_file_is_not_warned_about(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.callerhash"):
        load_hasher(None, tmp_path / "made", tmp_path, SQLITE_IN_MEMORY)
    assert not [r for r in caplog.records if r.name == "ivr.calllog.callerhash"]
