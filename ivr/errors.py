"""The one exception family of the voice app; the CLI turns it into one line and exit 2."""

from __future__ import annotations


class IvrError(Exception):
    """Base of every error the voice app raises on purpose (bad config, bad menu, bad input)."""


class ConfigError(IvrError):
    """The environment or test config cannot make a working app."""


class MenuError(IvrError):
    """The menu file is invalid; the message starts with `path:LINE:`."""


class TwimlError(IvrError):
    """A TwiML document breaks one of the app's rules (e.g. a <Dial> to a number)."""
