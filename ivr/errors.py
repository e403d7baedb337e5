"""The one exception family of the voice app. `IvrError` is a `queueing.errors.UserError` (the
one user-error exception of `ivr311`, shared like the YAML reader: click only, nothing of the
model), so a command that raises it prints its message alone on stderr and exits with status 2."""

from __future__ import annotations

from queueing.errors import UserError


class IvrError(UserError):
    """Base of every error the voice app raises on purpose (bad config, bad menu, bad input)."""


class ConfigError(IvrError):
    """The environment or test config cannot make a working app."""


class MenuError(IvrError):
    """The menu file is invalid; the message starts with `path:LINE:`."""


class TwimlError(IvrError):
    """A TwiML document breaks one of the app's rules (e.g. a <Dial> to a number)."""
