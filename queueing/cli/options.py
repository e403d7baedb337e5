"""What the commands share: option types and options, loading a scenario with where each field
came from, progress and warnings on stderr."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..core.durations import HOUR_S, format_duration, intervals_in, parse_duration_s
from ..core.limits import Where
from ..core.scenario import Scenario
from ..core.scenario_file import load_scenario_document, with_overrides
from ..yamlsafe import format_path

if TYPE_CHECKING:
    from ..core.runner import SimulationResult

F = TypeVar("F", bound=Callable[..., Any])


class Duration(click.ParamType):
    """A command-line duration with units (15m, 1h30m) or seconds, at least ``min_s``; gives seconds."""

    name = "duration"

    def __init__(self, min_s: float = 0.0) -> None:
        self.min_s = min_s

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration_s(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail("must be a duration > 0", param, ctx)
        if seconds < self.min_s:
            self.fail(f"must be at least {format_duration(self.min_s)}", param, ctx)
        return seconds


def load(file: Path, **overrides: Any) -> tuple[Scenario, Where]:
    """The scenario of ``file`` with command-line overrides (None: keep the file's), and where each
    field came from for later messages: ``file:line: field``, or ``--replications`` when overridden."""
    scenario, doc = load_scenario_document(file)
    given = {k for k, v in overrides.items() if v is not None}

    def where(path: tuple[str | int, ...]) -> str:
        if path and path[0] in given:
            return f"--{path[0]}"
        return f"{doc.source}:{doc.line_of(path)}: {format_path(path)}"

    return with_overrides(scenario, **overrides), where


def check_report_interval(interval_s: float) -> None:
    if intervals_in(HOUR_S, interval_s) is None:
        raise click.BadParameter("must divide an hour (5m, 15m, 30m, 1h) for the hourly plots", param_hint="--interval")


def warn_unsettled(result: SimulationResult, quiet: bool, label: str = "") -> None:
    """Warnings on stderr when the queue did not settle, saying what it did (see queueing.core.settling)."""
    from ..core.settling import queue_course, unsettled

    if not quiet:
        queues = queue_course([r.intervals for r in result.replications])
        for note in unsettled(result.scenario, result.summary, queues):
            click.echo(f"warning: {label}{note}", err=True)


def progress(total: int, label: str, quiet: bool = False) -> Any:
    """Progress on stderr (done/total, ETA): a bar on a terminal, else a line every few seconds
    (see queueing.output.progress)."""
    from ..output.progress import Progress

    return Progress(total, label, quiet)


jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None,
    help="Local processes [default: all cores; never more than the replications to run]; results do not depend on it.",
)  # fmt: skip
large_option = click.option(
    "--large", is_flag=True,
    help="Lift the soft limits on the size of a run (10 million calls per replication, 100 million in all, "
         "10,000 agents, 100,000 intervals, 1,000 replications: what a 2-core laptop does in minutes). "
         "For big machines or a Dask cluster; limits past which the run would crash (memory) stay.",
)  # fmt: skip
interval_help = "Length of the intervals in intervals.csv (15m, 1h...); at least 1s, at most 100,000 per replication."
seed_option = click.option("--seed", type=click.IntRange(min=0), help="Override the file's root seed.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
dask_option = click.option(
    "--dask", metavar="tcp://HOST:PORT", default=None,
    help="Run on this Dask scheduler instead of local processes (same results). Checked first: an address "
         "that does not parse or a scheduler not reached within 3 s stops the command at once.",
)  # fmt: skip


def confidence_option(help_text: str) -> Callable[[F], F]:
    """``--confidence``, as staff judges a target met in an interval; ``help_text`` says where."""
    return click.option(
        "--confidence", type=click.FloatRange(0.5, 1, max_open=True), default=0.9, show_default=True,
        help=help_text + " 0.5 asks only that the mean does.",
    )  # fmt: skip


def replications_option(least: int) -> Callable[[F], F]:
    """``--replications``, at least ``least`` (2 where the search judges by a confidence bound)."""
    return click.option(
        "--replications", "-r", type=click.IntRange(min=least), help="Override the file's replications."
    )


def stacked(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several click decorators as one, applied as if written in this order (the order of --help)."""

    def apply(f: F) -> F:
        for decorate in reversed(decorators):
            f = decorate(f)
        return f

    return apply


file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
run_options = stacked(dask_option, large_option, quiet_option)


def replicate_options(least: int) -> Callable[[F], F]:
    """``--replications`` (at least ``least``), ``--seed`` and ``--jobs``: how many runs, from which
    seed, on how many processes."""
    return stacked(replications_option(least), seed_option, jobs_option)


"""Where a command runs, how large it may be, and how much it says: the last options of every
command that simulates."""


def out_option(help_text: str, default: Path | None = None) -> Callable[[F], F]:
    """``--out DIR`` (a folder, ``out_dir``); a ``default`` is shown in --help."""
    shown: dict[str, Any] = {} if default is None else {"default": default, "show_default": True}
    return click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help=help_text, **shown)


def interval_option(min_s: float, default: str, help_text: str) -> Callable[[F], F]:
    """``--interval`` (a duration of at least ``min_s``, ``interval_s`` in seconds)."""
    return click.option(
        "--interval", "interval_s", type=Duration(min_s=min_s), default=default, show_default=True, help=help_text
    )
