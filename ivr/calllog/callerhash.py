"""Caller numbers never reach the call log: only HMAC-SHA256(key, number), keyed outside it.

The key comes from `IVR311_CALLER_HASH_KEY` (at least 16 characters), or from a key file:
`IVR311_CALLER_HASH_KEY_FILE`, else `instance/caller-hash.key`, made once with 32 random bytes
and mode 0600 beside (never inside) the SQLite file. A copy of the database alone gives back no
number: without the key, trying every number of an area code is no longer a dictionary attack.
With PostgreSQL the app refuses to start unless the key (or its file) is configured explicitly,
so that every server of a deployment hashes the same number the same way.

A key file is made only where no call log can exist yet: a new key hashes every caller
differently from the calls logged before, and nothing could link them again. A missing key file
is refused when the SQLite database file exists and is not empty (a file check: the database is
not read at start-up, so that the app starts while it is down), and always with another database,
whose calls cannot be known without a query (make the key once, with the command the message
gives). A key file other users may read (mode & 0o077) is used, with one warning per process and
the chmod to run.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ivr.errors import ConfigError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "caller-hash.key"
MIN_KEY_CHARS = 16
HASH_HEX_DIGITS = 32


class CallerHasher:
    """`hash(number)`: 32 hex digits of HMAC-SHA256 under the deployment's key."""

    def __init__(self, key: bytes, source: str = "the caller-hash key") -> None:
        if len(key.decode("utf-8", "replace")) < MIN_KEY_CHARS:
            raise ConfigError(f"{source}: the caller-hash key must have at least {MIN_KEY_CHARS} characters")
        self._key = key

    def hash(self, number: str | None) -> str | None:
        if not number:
            return None
        digest = hmac.new(self._key, number.encode("utf-8", "replace"), hashlib.sha256)
        return digest.hexdigest()[:HASH_HEX_DIGITS]


def read_or_create_key_file(path: Path, kind: str = "caller-hash") -> bytes:
    """The key in `path`, creating it (32 random bytes as hex, mode 0600) if absent (its length is
    checked by `CallerHasher`); `kind` names the key in messages."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create the {kind} key file {path}: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {kind} key file {path}: {exc}") from None


# made with mode 0600 from the start (the umask), as the app makes its own
NEW_KEY_COMMAND = "(umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' > {path})"

_warned_open: set[Path] = set()  # key files warned about in this process (or in its gunicorn master)


def load_hasher(key: str | None, key_file: Path | None, instance_path: str | Path, database_url: str) -> CallerHasher:
    """The hasher of this deployment; see the module docstring for where the key comes from."""
    if key:
        return CallerHasher(key.encode(), "IVR311_CALLER_HASH_KEY")
    url = make_url(database_url)
    if key_file is None and url.get_backend_name() == "postgresql":
        raise ConfigError(
            "with PostgreSQL, set IVR311_CALLER_HASH_KEY or IVR311_CALLER_HASH_KEY_FILE: the "
            "caller-hash key must be the same on every server and is never kept in the database"
        )
    path = key_file or Path(instance_path) / KEY_FILE_NAME
    if not path.exists():
        refuse_new_key_beside_a_log(path, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    hasher = CallerHasher(read_or_create_key_file(path), str(path))
    warn_if_open(path)
    return hasher


def existing_log(url: URL) -> str | None:
    """Why a call log may already exist at `url`, judged without reading the database (the app
    starts while it is down); None when there can be none."""
    if url.get_backend_name() != "sqlite":
        return f"the {url.get_backend_name()} call log may already hold calls (it is not read at start-up)"
    if url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database)
    if database.is_file() and database.stat().st_size > 0:
        return f"the call log {database} already exists"
    return None


def refuse_new_key_beside_a_log(path: Path, url: URL) -> None:
    """Raise if making a key file at `path` could orphan the caller hashes of a call log."""
    why = existing_log(url)
    if why is None:
        return
    raise ConfigError(
        f"caller-hash key file {path} is missing and {why}: restore the key file (or set "
        "IVR311_CALLER_HASH_KEY to its key), else the calls already logged can no longer be "
        "linked to their callers; to start new caller hashes on purpose, make a new key: "
        + NEW_KEY_COMMAND.format(path=path)
    )


def warn_if_open(path: Path, kind: str = "caller-hash") -> None:
    """One warning per key file and process when other users may read the key."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and path not in _warned_open:
        _warned_open.add(path)
        log.warning(
            "%s key file %s is open to other users (mode %04o): whoever reads it can "
            "recover caller numbers from the call log; run: chmod 600 %s",
            kind,
            path,
            mode,
            path,
        )
