"""Scenarios against each other: ``compare`` (paired, common random numbers) and ``sweep`` (a grid
over one or two fields)."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.limits import check_run
from ..core.scenario_file import load_scenario
from ..output.tables import (
    format_comparison,
    format_sweep,
)
from .options import (
    check_report_interval,
    file_argument,
    interval_option,
    jobs_option,
    load,
    out_option,
    progress,
    replicate_options,
    run_options,
    warn_unsettled,
)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@out_option("Folder for comparison.csv, report.html and each scenario's results.", default=Path("results/compare"))
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(min=2),
    help="Replications for every scenario [default: the first file's].",
)
@click.option("--seed", type=click.IntRange(min=0), help="Root seed for every scenario [default: the first file's].")
@jobs_option
@interval_option(1.0, "15m", "Length of the intervals in each intervals.csv; must divide an hour.")
@run_options
def compare(
    files: tuple[Path, ...], out_dir: Path, replications: int | None, seed: int | None, jobs: int | None,
    interval_s: float, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """Compare scenarios FILES (two or more) against the first, with common random numbers.

    All run with the same seed and replications, so replication r of each sees the same callers
    and the differences B - A are paired: their 95% intervals are narrow for the computing
    time. With pay rates (the scenario's roster), cost a day and per answered call are among the
    metrics. Then one sentence per scenario says what it buys and costs against the first:
    agent-hours a day, money, and in how many of its windows (intervals, hours, days...) each
    target is met, as summary.json's `met` and the report's verdicts count them.
    Writes DIR/comparison.csv (metric, class, pool, scenario_a, scenario_b, a_value,
    b_value, diff, diff_ci_low, diff_ci_high, significant), DIR/report.html (one self-contained
    page: wait-time CDFs, service level by hour against each target, queue and agents over the
    day, abandonment by hour, the differences, a verdict per target) and DIR/<scenario>/ with
    each scenario's results files, and the report's plots as PNG files.

    \b
    Example:
      ivr311 compare scenarios/dedicated-pools.yaml scenarios/shared-pool.yaml --out results/pooling
    """
    from ..core.runner import total_tasks
    from ..output.comparison import plan_sentence
    from ..output.files import results_folder, write_csv, write_results
    from ..output.report import write_report
    from ..planning.compare import comparable, unique_labels
    from ..planning.compare import compare as run

    if len(files) < 2:
        raise click.UsageError("give at least two scenario files: the first is the one the others are compared to")
    check_report_interval(interval_s)
    first = load_scenario(files[0])
    seed = first.seed if seed is None else seed
    reps = replications or first.replications
    if reps < 2:
        raise click.UsageError("a paired comparison needs at least 2 replications (--replications)")
    runs = [load(f, seed=seed, replications=reps) for f in files]
    scenarios = [s for s, _ in runs]
    comparable(scenarios, [str(f) for f in files])
    check_run(runs, interval_s=interval_s, keep_calls=True, large=large, local=not dask)
    labels = unique_labels([f.stem for f in files])
    with results_folder(out_dir, "compare", files) as tmp:
        with progress(total_tasks(scenarios), f"comparing {len(scenarios)} scenarios", quiet) as bar:
            comparison = run(
                scenarios, labels, jobs=jobs, interval_s=interval_s, dask=dask, large=large, on_done=bar.update,
            )  # fmt: skip
        results, rows = comparison.results, comparison.rows
        for label, result in zip(labels, results, strict=True):
            write_results(result, tmp / label)
        write_csv(tmp / "comparison.csv", comparison.table.columns, comparison.table.rows())
        sentences = [
            plan_sentence(results[0], res, labels[0], label) for res, label in zip(results[1:], labels[1:], strict=True)
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
            "(a window meets a target when the mean over replications of the service level of the calls "
            "arriving in it reaches the target)"
        )
        click.echo(
            f"wrote {out_dir / 'comparison.csv'}, {out_dir / 'report.html'}, and each scenario's results "
            f"under {out_dir}/"
        )
    for label, result in zip(labels, results, strict=True):
        warn_unsettled(result, quiet, f"{label}: ")


@click.command()
@file_argument
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    metavar="PATH=VALUES",
    help="A scenario field and its values: 6..14, 6..14..2 or a,b,c. Once or twice (a grid).",
)
@out_option("Folder for sweep.csv and sweep.png [default: results/<file name>-sweep].")
@replicate_options(1)
@run_options
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
    from ..core.runner import DEFAULT_INTERVAL_S, total_tasks
    from ..output.files import default_folder, results_folder, write_csv
    from ..output.sweep_plot import plot_sweep
    from ..planning.sweep import grid, parse_setting, point_where, resolved_path
    from ..planning.sweep import sweep as run

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
    runs = [(p.scenario, point_where(where, settings, p.values)) for p in points]
    check_run(runs, interval_s=DEFAULT_INTERVAL_S, large=large, local=not dask)
    out = out_dir or default_folder("sweep", file, "-sweep")
    with results_folder(out, "sweep", [file]) as tmp:
        with progress(total_tasks(p.scenario for p in points), f"sweep: {len(points)} points", quiet) as bar:
            swept = run(base, settings, jobs=jobs, dask=dask, large=large, on_done=bar.update)
        results = swept.results
        write_csv(tmp / "sweep.csv", swept.table.columns, swept.table.rows())
        (tmp / "sweep.png").write_bytes(plot_sweep(settings, swept.rows, f"{base.name}: sweep"))
    if not quiet:
        click.echo(format_sweep(settings, points, results))
        click.echo(f"wrote {out / 'sweep.csv'}, {out / 'sweep.png'}")
    for point, result in zip(points, results, strict=True):
        label = ", ".join(f"{s.name}={v}" for s, v in zip(settings, point.values, strict=True))
        warn_unsettled(result, quiet, f"at {label}: ")
