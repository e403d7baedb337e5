"""The one user-error exception of ``ivr311``, and the ``queueing`` package's own kind of it.

:class:`UserError` is what every command raises for a problem the user can fix (a bad scenario
file, a bad option value, a bad menu, an unreachable database): click's standalone handling
prints its message alone on stderr, ``file:line: field: reason``, one line per problem, with no
``Error:`` prefix, and exits with status 2. Anything else is a bug and keeps its traceback.

``ivr/`` derives its ``IvrError`` from :class:`UserError` (its one import of this module), so
this module imports click and the standard library only: no SimPy, numpy or pydantic, nor any
other module of the package (a test checks ``sys.modules``).
"""

from __future__ import annotations

from typing import IO, Any

import click


class UserError(click.ClickException):
    """A problem the user can fix; the message says where and what (``file:line: field: reason``).
    Exit status 2; printed bare on stderr (one line per problem)."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), file=file, err=True)


class ScenarioError(UserError):
    """A scenario (or a command-line override of one) is not usable, with a message fit for users."""
