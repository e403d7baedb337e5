"""The ``ivr311`` command: a click group holding the planner's and analyst's commands, by family
(``simulation``, ``analysis``, ``staffing``, ``calibration``; what they share in ``options``),
plus those other packages add through the ``ivr311.commands`` entry-point group (the call-log
and phone commands of ``ivr``). Nothing of queueing imports this package: it wires the layers.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import Any

import click

from .analysis import compare, sweep
from .calibration import calibrate, nowcast
from .simulation import analytic_cmd, simulate, validate
from .staffing import roster, staff


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) received: raised in the main thread like Ctrl-C's KeyboardInterrupt,
    so the same clean-up runs (workers stopped, the partial ``--out`` removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, _frame: Any) -> None:
    raise Stopped(signum)


@contextmanager
def _signals_stop_the_command() -> Iterator[None]:
    """SIGTERM and SIGHUP stop a command as Ctrl-C does, instead of killing this process on the
    spot (which would leave its worker processes running and a partial folder behind)."""
    stops = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    before = {}
    try:
        for signum in stops:
            before[signum] = signal.signal(signum, _raise_stopped)
    except ValueError:  # not the main thread (a test runner's thread): leave signals alone
        pass
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


class IvrGroup(click.Group):
    """A click group that adds the plugin commands of the ``ivr311.commands`` entry points. User
    errors need nothing here: a ``UserError`` (ScenarioError, ivr's IvrError) is a
    ``click.ClickException``, which click's standalone handling prints bare and exits 2 on.

    Ctrl-C, SIGTERM and SIGHUP stop a command with one line on stderr and the shell's status
    for the signal (130 for Ctrl-C, 143 for SIGTERM), no traceback; what a command was writing
    is cleaned up on the way out (``output.files.results_folder``)."""

    def invoke(self, ctx: click.Context) -> Any:
        with _signals_stop_the_command():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as exc:
                signum = exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)
                name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
                click.echo(f"ivr311: stopped by {name}", err=True)
                ctx.exit(128 + signum)

    def _plugins(self) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for ep in entry_points(group="ivr311.commands"):
            found[ep.name] = ep.load()
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugins().get(cmd_name)


@click.group(cls=IvrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ivr311")
def main() -> None:
    """Plan and run a shared 911/311 call centre.

    \b
    Planners:  ivr311 validate scenarios/*.yaml
               ivr311 simulate scenarios/baseline.yaml --out results/baseline
               ivr311 staff scenarios/baseline.yaml --interval 1h
               ivr311 analytic scenarios/textbook.yaml --simulate
    Analysts:  ivr311 compare scenarios/dedicated-pools.yaml scenarios/shared-pool.yaml
               ivr311 sweep scenarios/textbook.yaml --set staffing.pools.call-takers.agents=10..14
    Call log:  ivr311 dial; ivr311 calls export --format csv
               ivr311 calibrate calls.csv --base scenarios/baseline.yaml --out calibrated.yaml
    Intraday:  ivr311 nowcast --database-url sqlite:///instance/calls.db --scenario scenarios/baseline.yaml
    Every command has --help; file formats are in docs/file-formats.md.
    """


for command in (validate, simulate, analytic_cmd, compare, sweep, staff, roster, calibrate, nowcast):
    main.add_command(command)
