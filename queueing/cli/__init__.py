"""The ``ivr311`` command: a click group holding the planner's and analyst's commands, by family
(``simulation``, ``analysis``, ``staffing``, ``calibration``; what they share in ``options``),
plus those other packages add through the ``ivr311.commands`` entry-point group (the call-log
and phone commands of ``ivr``). Nothing of queueing imports this package: it wires the layers.

The group is lazy: a command's module is imported when that command runs (``validate`` reads
scenarios without numpy, SimPy or matplotlib), and ``ivr311 --help`` lists every command from
``COMMANDS`` below without importing any of them (a test holds each line to its command's help).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from importlib import import_module
from typing import Any, NamedTuple

import click


class Lazy(NamedTuple):
    """Where a command is (``module`` in this package, its ``attribute``) and the first sentence of
    its help, which ``ivr311 --help`` shows (shortened to the terminal as click shortens it)."""

    module: str
    attribute: str
    first_sentence: str


COMMANDS = {
    "analytic": Lazy(
        "simulation", "analytic_cmd",
        "Textbook answers for the scenario FILE: Erlang C, Cobham's priority M/M/c, Erlang A.",
    ),
    "calibrate": Lazy(
        "calibration", "calibrate",
        "Estimate a scenario from the call log LOG (CSV or JSON, as `ivr311 calls export` writes).",
    ),
    "compare": Lazy(
        "analysis", "compare",
        "Compare scenarios FILES (two or more) against the first, with common random numbers.",
    ),
    "nowcast": Lazy(
        "calibration", "nowcast",
        "Simulate the next hours from the centre as it stands: callers waiting and calls in progress "
        "from the call log, agents on duty by the scenario's roster, the rest of the day re-forecast "
        "from today's calls.",
    ),
    "roster": Lazy(
        "staffing", "roster",
        "The cheapest roster of workable shifts, with breaks, that meets every target in every interval.",
    ),
    "simulate": Lazy(
        "simulation", "simulate", "Simulate the scenario FILE and report waits with 95% confidence intervals."
    ),
    "staff": Lazy(
        "staffing", "staff",
        "The fewest agents per interval and pool so that every target is met in every window it is "
        "measured over (its `over`: every interval by default, every hour, each day's busy hour, each "
        "day or each week).",
    ),
    "sweep": Lazy(
        "analysis", "sweep", "Simulate the scenario FILE over a grid of one or two fields (same seed at every point)."
    ),
    "validate": Lazy(
        "simulation", "validate", "Check scenario FILES without running them; print one line per problem."
    ),
}  # fmt: skip


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
    """A click group of the lazy ``COMMANDS`` plus the plugin commands of the ``ivr311.commands``
    entry points. User errors need nothing here: a ``UserError`` (ScenarioError, ivr's IvrError)
    is a ``click.ClickException``, which click's standalone handling prints bare and exits 2 on.

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

    @cached_property
    def _plugins(self) -> dict[str, click.Command]:
        """The entry points' commands, looked up once (their modules import click and little else)."""
        from importlib.metadata import entry_points  # its import costs as much as the rest of --help

        return {ep.name: ep.load() for ep in entry_points(group="ivr311.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS) | set(self._plugins))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            lazy = COMMANDS[cmd_name]
            self.add_command(getattr(import_module(f".{lazy.module}", __name__), lazy.attribute), cmd_name)
        return super().get_command(ctx, cmd_name) or self._plugins.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, with the lazy ones not yet imported shown by their first
        sentence, shortened by click's own rule: the same lines, without importing them."""
        shown = [(name, self._listed(ctx, name)) for name in self.list_commands(ctx)]
        commands = [(name, cmd) for name, cmd in shown if cmd is not None and not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])

    def _listed(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            return click.Command(name, help=COMMANDS[name].first_sentence)
        return self.get_command(ctx, name)


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
