"""The ``ivr311`` command: planner's and analyst's commands, plus those other packages add
through the ``ivr311.commands`` entry-point group (the call-log and phone commands of ``ivr``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

import click

from .core.durations import HOUR_S, format_duration, intervals_in, parse_duration_s
from .core.limits import Where, check_run, cost, workers_for
from .core.scenario import Scenario, load_scenario, load_scenario_document
from .errors import ScenarioError
from .output.tables import (
    format_analysis,
    format_comparison,
    format_summary,
    format_sweep,
)
from .yamlsafe import format_path

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


class IvrGroup(click.Group):
    """A click group that adds the plugin commands of the ``ivr311.commands`` entry points. User
    errors need nothing here: a ``UserError`` (ScenarioError, ivr's IvrError) is a
    ``click.ClickException``, which click's standalone handling prints bare and exits 2 on."""

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
    Every command has --help; file formats are described in README.md.
    """


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

    return scenario.with_overrides(**overrides), where


def start_executor(
    jobs: int | None,
    dask: str | None,
    runs: Sequence[tuple[Scenario, Where]],
    interval_s: float,
    keep_calls: bool = False,
) -> Any:
    """The executor for these runs: Dask when asked, else local processes, no more than there are
    replications to run nor than this machine's memory holds (whatever --jobs says)."""
    from .core.runner import default_jobs, make_executor

    if dask:
        return make_executor(None, dask)
    tasks = sum(s.replications for s, _ in runs)
    worker = max(cost(s, interval_s, keep_calls).worker_bytes for s, _ in runs)
    return make_executor(workers_for(jobs or default_jobs(), tasks, worker))


def _check_report_interval(interval_s: float) -> None:
    if intervals_in(HOUR_S, interval_s) is None:
        raise click.BadParameter("must divide an hour (5m, 15m, 30m, 1h) for the hourly plots", param_hint="--interval")


def _warn_unsettled(scenario: Scenario, summary: dict[str, Any], quiet: bool, label: str = "") -> None:
    """Warnings on stderr when the queue did not settle (see queueing.core.settling)."""
    from .core.settling import unsettled

    if not quiet:
        for note in unsettled(scenario, summary):
            click.echo(f"warning: {label}{note}", err=True)


def progress(total: int, label: str, quiet: bool = False) -> Any:
    """Progress on stderr (done/total, ETA): a bar on a terminal, else a line every few seconds
    (see queueing.output.progress)."""
    from .output.progress import Progress

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


replications_option = click.option(
    "--replications", "-r", type=click.IntRange(min=2), help="Override the file's replications."
)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@large_option
def validate(files: tuple[Path, ...], large: bool) -> None:
    """Check scenario FILES without running them; print one line per problem.

    A file that is ok here simulates: besides the schema, the size of the run `simulate FILE`
    would start (calls per replication, agents, intervals, replications, memory) is checked
    against the limits (see --large). Exit status 0 when every file is valid, 2 otherwise.
    """
    from .core.runner import DEFAULT_INTERVAL_S

    failed = False
    for path in files:
        try:
            scenario, where = load(path)
            check_run([(scenario, where)], interval_s=DEFAULT_INTERVAL_S, large=large)
        except ScenarioError as exc:
            exc.show()  # every bad file is told, and the status is a user error's at the end
            failed = True
            continue
        click.echo(
            f"{path}: ok ({scenario.name}; {len(scenario.classes)} class(es), "
            f"{len(scenario.staffing.pools)} pool(s), horizon {format_duration(scenario.horizon)})"
        )
    if failed:
        sys.exit(ScenarioError.exit_code)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for summary.json and intervals.csv [default: results/<file name>]; created if absent. "
    "Replaced only when the run is complete (Ctrl-C keeps the previous results).",
)
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Override the file's replications.")
@seed_option
@jobs_option
@click.option("--calls", is_flag=True, help="Also write calls.csv, one row per call (large).")
@click.option(
    "--interval", "interval_s", type=Duration(min_s=1.0), default="15m", show_default=True, help=interval_help
)
@click.option("--report", is_flag=True, help="Also write report.html and its plots (wait curves need --calls).")
@dask_option
@large_option
@quiet_option
def simulate(
    file: Path, out_dir: Path | None, replications: int | None, seed: int | None,
    jobs: int | None, calls: bool, interval_s: float, report: bool, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """Simulate the scenario FILE and report waits with 95% confidence intervals.

    Prints a table per class (offered, answered, abandoned, waits, service-level targets) and
    per pool (utilization), with pay rates (the scenario's roster) the cost a day and per
    answered call, and writes the results files (see README, "Results files").
    Same file and seed give byte-identical files, whatever --jobs.

    \b
    Example:
      ivr311 simulate scenarios/baseline.yaml --replications 40 --out results/baseline
    """
    from .core.runner import simulate as run
    from .output.files import moved, results_folder, write_results

    run_ = load(file, replications=replications, seed=seed)
    scenario = run_[0]
    if report:
        _check_report_interval(interval_s)
    check_run([run_], interval_s=interval_s, keep_calls=calls, large=large, local=not dask)
    out = out_dir or Path("results") / file.stem
    n = scenario.replications
    with results_folder(out) as tmp:
        executor = start_executor(jobs, dask, [run_], interval_s, calls)
        try:
            with progress(n, f"{scenario.name}: {n} replications", quiet) as bar:
                result = run(
                    scenario, executor=executor, interval_s=interval_s, keep_calls=calls, on_done=lambda: bar.update(1)
                )
        finally:
            executor.close()
        written = write_results(result, tmp, calls=calls)
        if report:
            from .output.report import write_report

            written.append(write_report(tmp / "report.html", [result], [file.stem], png_dir=tmp))
    if not quiet:
        click.echo(format_summary(scenario, result.summary))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))
    _warn_unsettled(scenario, result.summary, quiet)


@main.command(name="analytic")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--simulate",
    "also_simulate",
    is_flag=True,
    help="Also simulate the scenario and print the simulated values (95% CI) beside the formulas.",
)
@jobs_option
@large_option
def analytic_cmd(file: Path, also_simulate: bool, jobs: int | None, large: bool) -> None:
    """Textbook answers for the scenario FILE: Erlang C, Cobham's priority M/M/c, Erlang A.

    They apply to stationary scenarios only (constant rates and staffing, exponential handle
    times, one pool per class); otherwise this says which assumption fails and exits 0.
    With --simulate, the simulation's estimates are printed beside them: a quick check of
    both the model and your intuition.
    """
    from .theory.steady_state import analyze

    run_ = load(file)
    scenario = run_[0]
    analysis = analyze(scenario)
    if not analysis.fits:
        click.echo(f"{file}: the formulas do not apply:")
        for problem in analysis.problems:
            click.echo(f"  - {problem}")
        click.echo("Simulate it instead: ivr311 simulate " + str(file))
        return
    summary = None
    if also_simulate:
        from .core.runner import DEFAULT_INTERVAL_S, run_scenarios

        check_run([run_], interval_s=DEFAULT_INTERVAL_S, large=large)
        executor = start_executor(jobs, None, [run_], DEFAULT_INTERVAL_S)
        try:
            summary = run_scenarios([scenario], executor)[0].summary
        finally:
            executor.close()

    click.echo(format_analysis(analysis, summary))


def _labels(files: Sequence[Path]) -> list[str]:
    """Short unique names for scenario files: their stems, numbered when two share one."""
    labels: list[str] = []
    for f in files:
        label, n = f.stem, 2
        while label in labels:
            label, n = f"{f.stem}-{n}", n + 1
        labels.append(label)
    return labels


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results/compare"),
    show_default=True,
    help="Folder for comparison.csv, report.html and each scenario's results.",
)
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(min=2),
    help="Replications for every scenario [default: the first file's].",
)
@click.option("--seed", type=click.IntRange(min=0), help="Root seed for every scenario [default: the first file's].")
@jobs_option
@click.option(
    "--interval",
    "interval_s",
    type=Duration(min_s=1.0),
    default="15m",
    show_default=True,
    help="Length of the intervals in each intervals.csv; must divide an hour.",
)
@confidence_option(
    "In the sentence of what each plan buys: an hour meets a target when the one-sided lower bound at "
    "this confidence (over replications) of its service level reaches it, as staff judges;"
)
@dask_option
@large_option
@quiet_option
def compare(
    files: tuple[Path, ...], out_dir: Path, replications: int | None, seed: int | None, jobs: int | None,
    interval_s: float, confidence: float, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """Compare scenarios FILES (two or more) against the first, with common random numbers.

    All run with the same seed and replications, so replication r of each sees the same callers
    and the differences B - A are paired: their 95% intervals are narrow for the computing
    time. With pay rates (the scenario's roster), cost a day and per answered call are among the
    metrics. Then one sentence per scenario says what it buys and costs against the first:
    agent-hours a day, money, and in how many hours of the day each target is met.
    Writes DIR/comparison.csv (metric, class, pool, scenario_a, scenario_b, a_value,
    b_value, diff, diff_ci_low, diff_ci_high, significant), DIR/report.html (one self-contained
    page: wait-time CDFs, service level by hour against each target, queue and agents over the
    day, abandonment by hour, the differences, a verdict per target) and DIR/<scenario>/ with
    each scenario's results files, and the report's plots as PNG files.

    \b
    Example:
      ivr311 compare scenarios/dedicated-pools.yaml scenarios/shared-pool.yaml --out results/pooling
    """
    from .core.runner import run_scenarios, total_tasks
    from .output.comparison import plan_sentence
    from .output.files import results_folder, write_csv, write_results
    from .output.report import write_report
    from .planning.compare import COMPARISON_COLUMNS, comparable, comparison_rows

    if len(files) < 2:
        raise click.UsageError("give at least two scenario files: the first is the one the others are compared to")
    _check_report_interval(interval_s)
    first = load_scenario(files[0])
    seed = first.seed if seed is None else seed
    reps = replications or first.replications
    if reps < 2:
        raise click.UsageError("a paired comparison needs at least 2 replications (--replications)")
    runs = [load(f, seed=seed, replications=reps) for f in files]
    scenarios = [s for s, _ in runs]
    comparable(scenarios, [str(f) for f in files])
    check_run(runs, interval_s=interval_s, keep_calls=True, large=large, local=not dask)
    labels = _labels(files)
    with results_folder(out_dir) as tmp:
        executor = start_executor(jobs, dask, runs, interval_s, keep_calls=True)
        try:
            with progress(total_tasks(scenarios), f"comparing {len(scenarios)} scenarios", quiet) as bar:
                results = run_scenarios(
                    scenarios, executor, interval_s=interval_s, keep_calls=True, on_done=lambda: bar.update(1)
                )
        finally:
            executor.close()
        for label, result in zip(labels, results, strict=True):
            write_results(result, tmp / label)
        rows = comparison_rows(results, labels)
        write_csv(tmp / "comparison.csv", COMPARISON_COLUMNS, ([r[c] for c in COMPARISON_COLUMNS] for r in rows))
        sentences = [
            plan_sentence(results[0], res, labels[0], label, confidence)
            for res, label in zip(results[1:], labels[1:], strict=True)
        ]
        write_report(
            tmp / "report.html", results, labels, rows, title="Comparison: " + " vs ".join(labels), png_dir=tmp,
            plan_sentences=sentences,
        )  # fmt: skip
    if not quiet:
        click.echo(format_comparison(rows))
        click.echo("")
        click.echo("\n".join(sentences))
        click.echo(
            f"(an hour meets a target, as staff judges it, when the one-sided {confidence:.0%} lower confidence "
            "bound over replications of the service level of the calls arriving in it reaches the target)"
        )
        click.echo(
            f"wrote {out_dir / 'comparison.csv'}, {out_dir / 'report.html'}, and each scenario's results "
            f"under {out_dir}/"
        )
    for label, result in zip(labels, results, strict=True):
        _warn_unsettled(result.scenario, result.summary, quiet, f"{label}: ")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="PATH=VALUES",
    help="A scenario field and its values: 6..14, 6..14..2 or a,b,c. Once or twice (a grid).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for sweep.csv and sweep.png [default: results/<file name>-sweep].",
)
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Override the file's replications.")
@seed_option
@jobs_option
@dask_option
@large_option
@quiet_option
def sweep(
    file: Path, sets: tuple[str, ...], out_dir: Path | None, replications: int | None, seed: int | None,
    jobs: int | None, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """Simulate the scenario FILE over a grid of one or two fields (same seed at every point).

    PATH is dotted keys as in the YAML; list items by name or index. Setting a pool's agents
    replaces its shifts with that constant head-count.

    \b
    Examples:
      ivr311 sweep scenarios/textbook.yaml --set staffing.pools.call-takers.agents=10..14
      ivr311 sweep scenarios/textbook.yaml --set staffing.pools.call-takers.agents=10..14 \\
                   --set classes.311.arrivals.rate_per_hour=80,96,112
    """
    from .core.runner import DEFAULT_INTERVAL_S, run_scenarios, total_tasks
    from .output.files import results_folder, write_csv
    from .output.sweep_plot import plot_sweep
    from .planning.sweep import grid, parse_setting, resolved_path, sweep_columns, sweep_rows

    if len(sets) > 2:
        raise click.UsageError("--set at most twice (a one- or two-dimensional grid)")
    settings = [parse_setting(s) for s in sets]
    base, where = load(file, replications=replications, seed=seed)
    if len(settings) == 2 and len({resolved_path(base.to_data(), s) for s in settings}) == 1:
        raise click.BadParameter(
            f"{sets[0]!r} and {sets[1]!r} set the same field; give all its values in one --set",
            param_hint="--set",
        )
    points = grid(base, settings)
    runs = [(p.scenario, _point_where(where, settings, p.values)) for p in points]
    check_run(runs, interval_s=DEFAULT_INTERVAL_S, large=large, local=not dask)
    out = out_dir or Path("results") / f"{file.stem}-sweep"
    with results_folder(out) as tmp:
        executor = start_executor(jobs, dask, runs, DEFAULT_INTERVAL_S)
        try:
            scenarios = [p.scenario for p in points]
            with progress(total_tasks(scenarios), f"sweep: {len(points)} points", quiet) as bar:
                results = run_scenarios(scenarios, executor, on_done=lambda: bar.update(1))
        finally:
            executor.close()
        rows = sweep_rows(settings, points, results)
        columns = sweep_columns(settings)
        write_csv(tmp / "sweep.csv", columns, ([r[c] for c in columns] for r in rows))
        (tmp / "sweep.png").write_bytes(plot_sweep(settings, rows, f"{base.name}: sweep"))
    if not quiet:
        click.echo(format_sweep(settings, points, results))
        click.echo(f"wrote {out / 'sweep.csv'}, {out / 'sweep.png'}")
    for point, result in zip(points, results, strict=True):
        label = ", ".join(f"{s.name}={v}" for s, v in zip(settings, point.values, strict=True))
        _warn_unsettled(point.scenario, result.summary, quiet, f"at {label}: ")


def _point_where(where: Where, settings: Sequence[Any], values: Sequence[Any]) -> Where:
    """Where a field of a sweep point came from: the --set that gives it, else the file."""

    def point_where(path: tuple[str | int, ...]) -> str:
        for setting, value in zip(settings, values, strict=True):
            if tuple(map(str, path)) == setting.path[: len(path)]:
                return f"--set {setting.name}={value}"
        return where(path)

    return point_where


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for staffing.yaml, .csv and .json [default: results/<file name>-staff].",
)
@click.option(
    "--interval",
    "interval_s",
    type=Duration(min_s=60.0),
    default="1h",
    show_default=True,
    help="Staffing interval; must divide a day (30m, 1h, 2h...); at least 1m.",
)
@confidence_option(
    "A target counts as met in an interval when the one-sided lower bound at this confidence "
    "(over replications) reaches it;"
)
@replications_option
@seed_option
@jobs_option
@dask_option
@large_option
@quiet_option
def staff(
    file: Path, out_dir: Path | None, interval_s: float, confidence: float, replications: int | None,
    seed: int | None, jobs: int | None, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """The fewest agents per interval and pool so that every target is met in every interval.

    Starts from Erlang C / Erlang A / priority M/M/c per interval, then simulates the real day
    (priorities, abandonment, queues carried from one interval to the next), adding agents where
    a target fails and removing those it can do without. Writes DIR/staffing.yaml (the whole
    scenario with the staffing found as shifts: simulate it), DIR/staffing.csv (interval, pool,
    agents, erlang_agents), DIR/staffing.json (agent_hours, erlang_agent_hours, targets_met) and
    DIR/staffing.png (agents by interval and pool against the Erlang answer).

    \b
    Example:
      ivr311 staff scenarios/baseline.yaml --interval 1h --out results/staff
      ivr311 simulate results/staff/staffing.yaml --seed 99     # check it on callers it never saw
    """
    from .output.files import results_folder
    from .output.staffing import format_staffing_result, write_staffing
    from .planning.staff import find_staffing, intervals_per_day

    base, where = load(file, replications=replications, seed=seed)
    intervals_per_day(interval_s)
    check_run([(base, where)], interval_s=interval_s, large=large, local=not dask)
    out = out_dir or Path("results") / f"{file.stem}-staff"
    with results_folder(out) as tmp:
        result = _search(
            "staff",
            lambda executor, on_progress, bar: find_staffing(
                base, executor, interval_s=interval_s, confidence=confidence, on_progress=on_progress, progress=bar
            ),
            [(base, where)], interval_s, jobs, dask, quiet,
        )  # fmt: skip
        write_staffing(tmp, result, base, command=f"ivr311 staff {file}", confidence=confidence)
    if not quiet:
        click.echo(format_staffing_result(result, base))
        click.echo(
            f"wrote {out / 'staffing.yaml'}, {out / 'staffing.csv'}, {out / 'staffing.json'}, staffing.png "
            f"({result.simulations} simulations, {result.calls_simulated:,} calls)"
        )


def _search(
    label: str,
    search: Callable[[Any, Callable[[str], None] | None, Any], R],
    runs: list[tuple[Scenario, Where]],
    interval_s: float,
    jobs: int | None,
    dask: str | None,
    quiet: bool,
) -> R:
    """Run a simulation search (staff, roster) on its own executor: each round's message and one
    progress over all replications on stderr (both silent with ``quiet``)."""
    executor = start_executor(jobs, dask, runs, interval_s)
    try:
        with progress(0, f"{label}: replications", quiet) as bar:
            return search(executor, None if quiet else (lambda m: click.echo(m, err=True)), bar)
    finally:
        executor.close()


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for roster.yaml, roster-present.yaml, .csv, .json and .png [default: results/<file name>-roster]; "
    "replaced only when the roster is complete.",
)
@confidence_option(
    "As for staff: a target is met in an interval when its one-sided lower bound at this confidence "
    "over replications reaches it;"
)
@replications_option
@seed_option
@jobs_option
@dask_option
@large_option
@quiet_option
def roster(
    file: Path, out_dir: Path | None, confidence: float, replications: int | None, seed: int | None,
    jobs: int | None, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """The cheapest roster of workable shifts, with breaks, that meets every target in every interval.

    FILE needs a `roster:` section (README, "Planner's third step"), for example:

    \b
      roster:
        interval: 30m                    # planning interval
        start_every: 30m                 # shifts start on this grid
        shift_lengths: [8h30m, 10h30m]   # paid lengths, breaks included
        breaks: [{length: 30m, earliest: 3h, latest: 5h}]   # after the shift's start
        shrinkage: 0.12                  # share of rostered agents away
        pools:
          call-takers: {cost_per_hour: 42.0, min_agents: 4}
          311-desk: {cost_per_hour: 33.0}

    \b
    Three steps, progress on stderr:
    1. the head-count each interval needs on duty, as `ivr311 staff` finds it (by simulation);
    2. after shrinkage, the cheapest shifts covering it: an exact integer program over every
       start x length x break placement (HiGHS);
    3. the roster simulated (agents present after shrinkage, breaks, overtime), shifts added
       where a target still fails.

    Prints the roster as a table to post on the wall (per pool: start-end, breaks, agents,
    paid hours, cost a day; totals, the lower bound no roster can go below, FTE, targets met)
    and writes DIR/roster.yaml (the whole scenario with the roster as shifts: simulate it),
    DIR/roster-present.yaml (the same with the agents who come after shrinkage: what was checked),
    DIR/roster.csv (pool, start, end, breaks, agents, cost_per_day), DIR/roster.json (totals,
    per pool, lower bound) and DIR/roster.png (shifts over the day, coverage against need).

    \b
    Example:
      ivr311 roster scenarios/baseline.yaml --jobs 2 --out results/roster
      ivr311 simulate results/roster/roster-present.yaml --seed 4242   # as checked, new callers
    """
    from .output.files import moved, results_folder
    from .output.roster import format_roster, write_roster
    from .planning.roster import build_roster, roster_rules

    base, where = load(file, replications=replications, seed=seed)
    rules = roster_rules(base)
    check_run([(base, where)], interval_s=rules.interval, large=large, local=not dask)
    out = out_dir or Path("results") / f"{file.stem}-roster"
    given = [
        ("--replications", replications),
        ("--seed", seed),
        ("--confidence", None if confidence == 0.9 else confidence),
    ]
    command = " ".join(["ivr311 roster", str(file), *(f"{k} {v}" for k, v in given if v is not None)])
    with results_folder(out) as tmp:
        result = _search(
            "roster",
            lambda executor, on_progress, bar: build_roster(
                base, executor, confidence=confidence, on_progress=on_progress, progress=bar
            ),
            [(base, where)], rules.interval, jobs, dask, quiet,
        )  # fmt: skip
        written = write_roster(result, tmp, command=command)
    if not quiet:
        click.echo(format_roster(result))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))


@main.command()
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--database-url", metavar="URL",
              help="Read the log from the voice app's database instead of a file (exported first with "
                   "`ivr311 calls export`, in a separate process).")  # fmt: skip
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The scenario file to write (YAML).")  # fmt: skip
@click.option("--base", "base_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario giving staffing, targets, priorities, horizon, seed and replications, and any number "
                   "the log has too few calls for.")  # fmt: skip
@click.option("--interval", "interval_s", type=Duration(min_s=HOUR_S), default="1h", show_default=True,
              help="Arrival profile pooled over blocks of this length (whole hours dividing a day).")  # fmt: skip
@click.option("--since", help="Only calls started at or after this UTC time (2024-05-01 or 2024-05-01T08:00:00Z).")
@click.option("--until", help="Only calls started before this UTC time.")
@quiet_option
def calibrate(
    log: Path | None, database_url: str | None, out_file: Path, base_file: Path | None, interval_s: float,
    since: str | None, until: str | None, quiet: bool,
) -> None:  # fmt: skip
    """Estimate a scenario from the call log LOG (CSV or JSON, as `ivr311 calls export` writes).

    Per class: arrivals by hour of day, category mix, menu time, handle time (per category
    with enough calls) and patience (right-censored: answered callers only show that their
    patience exceeded their wait), each with a 95% interval and its provenance in the file's
    comments. Staffing and targets come from --base. A number the log has too few calls for is
    named on stderr and taken from --base. Exit status 2 on a malformed log (file:line: column).

    \b
    Example:
      ivr311 calls export --format csv --out calls.csv
      ivr311 calibrate calls.csv --base scenarios/baseline.yaml --out scenarios/calibrated.yaml
      ivr311 simulate scenarios/calibrated.yaml
    """
    from .core.scenario import parse_scenario
    from .output.calibration import calibration_yaml, summary_lines, warning_lines
    from .planning.calibrate import calibrate as run
    from .planning.calllog import parse_time_s, read_call_log

    if base_file is None:
        raise ScenarioError(
            "calibrate needs --base SCENARIO for staffing and targets (the log does not say who answered)"
        )
    base, where = load(base_file)
    since_s = parse_time_s(since, "--since") if since else None
    until_s = parse_time_s(until, "--until") if until else None
    if since_s is not None and until_s is not None and until_s <= since_s:
        raise ScenarioError(f"--until {until!r} is not after --since {since!r}")
    if (log is None) == (database_url is None):
        raise ScenarioError("calibrate needs a LOG file or --database-url URL (one of them)")
    with contextlib.ExitStack() as stack:
        if database_url is not None:
            log = exported_call_log(database_url, Path(stack.enter_context(tempfile.TemporaryDirectory())))
        assert log is not None
        source = database_url if database_url is not None else str(log)
        command = " ".join(["ivr311 calibrate", source, "--base", str(base_file)])
        result = run(read_call_log(log), base, base_source=str(base_file), interval_s=interval_s,
                     since_s=since_s, until_s=until_s)  # fmt: skip
    text = calibration_yaml(result, base, base_source=str(base_file), command=command)
    scenario = parse_scenario(text, "calibrated scenario")
    check_run([(scenario, lambda path: f"{out_file}: {format_path(path)}")], interval_s=900.0)
    for line in warning_lines(result, str(base_file)):
        click.echo(line, err=True)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    if not quiet:
        click.echo(summary_lines(result))
        click.echo(f"wrote {out_file}")


def exported_call_log(database_url: str, folder: Path) -> Path:
    """`ivr311 calls export` of the database at `database_url` into `folder`, run as a separate
    process: the planner's package reads the voice app's log as a file, never through its code."""
    out = folder / "calls.csv"
    cmd = [sys.executable, "-c", "from queueing.cli import main; main()", "calls", "export",
           "--database-url", database_url, "--out", str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["the export failed"])[-1]
        raise ScenarioError(f"--database-url: {last}")
    return out


if __name__ == "__main__":  # pragma: no cover
    main()
