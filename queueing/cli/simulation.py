"""Running one scenario: ``validate``, ``simulate`` and ``analytic`` (the textbook formulas)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.durations import format_duration
from ..core.limits import DEFAULT_INTERVAL_S, check_run
from ..errors import ScenarioError
from .options import (
    check_report_interval,
    file_argument,
    interval_help,
    interval_option,
    jobs_option,
    large_option,
    load,
    out_option,
    progress,
    replicate_options,
    run_options,
    warn_unsettled,
)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@large_option
def validate(files: tuple[Path, ...], large: bool) -> None:
    """Check scenario FILES without running them; print one line per problem.

    A file that is ok here simulates: besides the schema, the size of the run `simulate FILE`
    would start (calls per replication, agents, intervals, replications, memory) is checked
    against the limits (see --large). Exit status 0 when every file is valid, 2 otherwise.
    """
    from ..planning.roster_size import check_roster_size

    failed = False
    for path in files:
        try:
            scenario, where = load(path)
            check_run([(scenario, where)], interval_s=DEFAULT_INTERVAL_S, large=large)
            check_roster_size(scenario, where, large=large)  # roster rules: `roster` runs too
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


@click.command()
@file_argument
@out_option(
    "Folder for summary.json and intervals.csv [default: results/<file name>]; created if absent. "
    "Replaced only when the run is complete (Ctrl-C keeps the previous results)."
)
@replicate_options(1)
@click.option("--calls", is_flag=True, help="Also write calls.csv, one row per call (large).")
@interval_option(1.0, "15m", interval_help)
@click.option("--report", is_flag=True, help="Also write report.html and its plots (wait curves need --calls).")
@run_options
def simulate(
    file: Path, out_dir: Path | None, replications: int | None, seed: int | None,
    jobs: int | None, calls: bool, interval_s: float, report: bool, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """Simulate the scenario FILE and report waits with 95% confidence intervals.

    Prints a table per class (offered, answered, abandoned, waits, service-level targets) and
    per pool (utilization), with pay rates (the scenario's roster) the cost a day and per
    answered call, and writes the results files (see docs/file-formats.md).
    Same file and seed give byte-identical files, whatever --jobs.

    \b
    Example:
      ivr311 simulate scenarios/baseline.yaml --replications 40 --out results/baseline
    """
    from ..core.runner import simulate as run
    from ..output.files import default_folder, moved, results_folder, write_results
    from ..output.tables import format_summary

    run_ = load(file, replications=replications, seed=seed)
    scenario = run_[0]
    if report:
        check_report_interval(interval_s)
    check_run([run_], interval_s=interval_s, keep_calls=calls, large=large, local=not dask)
    out = out_dir or default_folder("simulate", file)
    n = scenario.replications
    with results_folder(out, "simulate", [file]) as tmp:
        with progress(n, f"{scenario.name}: {n} replications", quiet) as bar:
            result = run(
                scenario, jobs=jobs, dask=dask, interval_s=interval_s, keep_calls=calls, large=large, on_done=bar.update
            )
        written = write_results(result, tmp, calls=calls)
        if report:
            from ..output.report import write_report

            written.append(write_report(tmp / "report.html", [result], [file.stem], png_dir=tmp))
    if not quiet:
        click.echo(format_summary(scenario, result.summary))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))
    warn_unsettled(result, quiet)


@click.command(name="analytic")
@file_argument
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
    from ..output.tables import format_analysis
    from ..theory.steady_state import analyze

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
        from ..core.runner import simulate as run

        check_run([run_], interval_s=DEFAULT_INTERVAL_S, large=large)
        summary = run(scenario, jobs=jobs, large=large).summary

    click.echo(format_analysis(analysis, summary))
