"""The one base exception of the ``queueing`` package.

The CLI turns a :class:`ScenarioError` into one line on stderr and exit status 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario (or a command-line override of one) is not usable, with a message fit for users."""
