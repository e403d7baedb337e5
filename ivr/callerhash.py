"""Caller numbers never reach the call log: only HMAC-SHA256(key, number), keyed outside it.

The key comes from `IVR311_CALLER_HASH_KEY` (at least 16 characters), or from a key file:
`IVR311_CALLER_HASH_KEY_FILE`, else `instance/caller-hash.key`, made once with 32 random bytes
and mode 0600 beside (never inside) the SQLite file. A copy of the database alone gives back no
number: without the key, trying every number of an area code is no longer a dictionary attack.
With PostgreSQL the app refuses to start unless the key (or its file) is configured explicitly,
so that every server of a deployment hashes the same number the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ivr.errors import ConfigError

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


def read_or_create_key_file(path: Path) -> bytes:
    """The key in `path`, creating it (32 random bytes as hex, mode 0600) if absent (its length is
    checked by `CallerHasher`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create the caller-hash key file {path}: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the caller-hash key file {path}: {exc}") from None


def load_hasher(key: str | None, key_file: Path | None, instance_path: str | Path, *, postgres: bool) -> CallerHasher:
    """The hasher of this deployment; see the module docstring for where the key comes from."""
    if key:
        return CallerHasher(key.encode(), "IVR311_CALLER_HASH_KEY")
    if key_file is None and postgres:
        raise ConfigError(
            "with PostgreSQL, set IVR311_CALLER_HASH_KEY or IVR311_CALLER_HASH_KEY_FILE: the "
            "caller-hash key must be the same on every server and is never kept in the database"
        )
    path = key_file or Path(instance_path) / KEY_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return CallerHasher(read_or_create_key_file(path), str(path))
