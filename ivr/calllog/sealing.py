"""The sealed copy of a caller's number that a callback needs: Fernet (AES-128-CBC + HMAC-SHA256,
from `cryptography`) under a key kept outside the database, as the caller-hash key is.

The log keeps a caller as their hash (`ivr.calllog.callerhash`); a caller who asks to be called
back must also be reachable, so their number is kept sealed beside the hash until the callback
is done, then dropped (`CallStore.record_callback_status`). A copy of the database alone opens
no number. The key is a second one, not the hash key: whoever holds the hash key can test
candidate numbers, whoever holds this one can read the few numbers still waiting for a callback.

The key comes from `IVR311_CALLBACK_KEY` (at least 16 characters), or from a key file:
`IVR311_CALLBACK_KEY_FILE`, else `instance/callback.key`, made once with 32 random bytes and
mode 0600 beside the SQLite file. With PostgreSQL the app refuses to start unless the key (or
its file) is set explicitly: every server must open what another sealed. A new key only loses
the callbacks still waiting (their numbers no longer open, and they are recorded as failed), so
unlike the hash key a new key file may be made beside an existing log.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import make_url

from ivr.calllog.callerhash import MIN_KEY_CHARS, read_or_create_key_file, warn_if_open
from ivr.errors import ConfigError

KEY_FILE_NAME = "callback.key"
_CONTEXT = b"ivr311 callback number seal v1\x00"  # keeps this key's use apart from any other


class NumberSeal:
    """`seal(number)` -> an opaque token for the log; `open(token)` -> the number, or None when
    the token was sealed under another key or tampered with."""

    def __init__(self, key: bytes, source: str = "the callback key") -> None:
        if len(key.decode("utf-8", "replace")) < MIN_KEY_CHARS:
            raise ConfigError(f"{source}: the callback key must have at least {MIN_KEY_CHARS} characters")
        # Fernet wants 32 url-safe base64 bytes; any configured text is stretched to them
        derived = hashlib.sha256(_CONTEXT + key).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("utf-8")).decode("ascii")

    def open(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            return None


def load_seal(key: str | None, key_file: Path | None, instance_path: str | Path, database_url: str) -> NumberSeal:
    """The seal of this deployment; see the module docstring for where the key comes from."""
    if key:
        return NumberSeal(key.encode(), "IVR311_CALLBACK_KEY")
    if key_file is None and make_url(database_url).get_backend_name() == "postgresql":
        raise ConfigError(
            "with PostgreSQL, set IVR311_CALLBACK_KEY or IVR311_CALLBACK_KEY_FILE: the callback "
            "key must be the same on every server and is never kept in the database"
        )
    path = key_file or Path(instance_path) / KEY_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    seal = NumberSeal(read_or_create_key_file(path, "callback"), str(path))
    warn_if_open(path, "callback")
    return seal
