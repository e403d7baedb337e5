"""The searches by simulation: ``staff`` (agents per interval) and ``roster`` (shifts people can
work)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..core.limits import DEFAULT_INTERVAL_S, check_run
from .options import (
    confidence_option,
    file_argument,
    interval_option,
    jobs_option,
    load,
    out_option,
    progress,
    replications_option,
    run_options,
    seed_option,
)

if TYPE_CHECKING:
    from ..core.scenario import Scenario


@click.command()
@file_argument
@out_option("Folder for staffing.yaml, .csv and .json [default: results/<file name>-staff].")
@interval_option(60.0, "1h", "Staffing interval; must divide a day (30m, 1h, 2h...); at least 1m.")
@confidence_option(
    "A target counts as met in an interval when the one-sided lower bound at this confidence "
    "(over replications) reaches it;"
)
@replications_option(2)
@seed_option
@jobs_option
@click.option(
    "--frontier",
    metavar="LOW:HIGH:STEP",
    help="Instead of one staffing, the cheapest for each target share from LOW to HIGH by STEP (e.g. "
    "0.70:0.95:0.05): every target's share is set to it (or only those of --frontier-class); writes "
    "DIR/frontier.csv, frontier.png and each share's plan.",
)
@click.option(
    "--frontier-class",
    "frontier_class",
    multiple=True,
    metavar="CLASS",
    help="With --frontier: set the shares of this class's targets only (the others keep theirs); repeatable.",
)
@run_options
def staff(
    file: Path, out_dir: Path | None, interval_s: float, confidence: float, replications: int | None,
    seed: int | None, jobs: int | None, frontier: str | None, frontier_class: tuple[str, ...], dask: str | None,
    large: bool, quiet: bool,
) -> None:  # fmt: skip
    """The fewest agents per interval and pool so that every target is met in every window it is
    measured over (its `over`: every interval by default, every hour, each day's busy hour, each
    day or each week).

    Starts from Erlang C / Erlang A / priority M/M/c per interval, then simulates the real day
    (priorities, abandonment, queues carried from one interval to the next), adding agents where
    a target fails and removing those it can do without. Writes DIR/staffing.yaml (the whole
    scenario with the staffing found as shifts: simulate it), DIR/staffing.csv (interval, pool,
    agents, erlang_agents), DIR/staffing.json (agent_hours, erlang_agent_hours, targets_met) and
    DIR/staffing.png (agents by interval and pool against the Erlang answer).

    With --frontier, the cheapest staffing for each target share of a range instead, as a table,
    DIR/frontier.csv, DIR/frontier.png and DIR/frontier-<share>.yaml: what each point of service costs.

    \b
    Example:
      ivr311 staff scenarios/baseline.yaml --interval 1h --out results/staff
      ivr311 simulate results/staff/staffing.yaml --seed 99     # check it on callers it never saw
      ivr311 staff scenarios/baseline.yaml --frontier 0.70:0.95:0.05 --frontier-class 311
    """
    from ..output.files import default_folder, results_folder
    from ..output.staffing import format_staffing_result, write_staffing
    from ..planning.roster_size import check_roster_size
    from ..planning.staff import intervals_per_day
    from ..planning.staff import staff as run

    base, where = load(file, replications=replications, seed=seed)
    intervals_per_day(interval_s)
    check_run([(base, where)], interval_s=interval_s, large=large, local=not dask)
    check_roster_size(base, where, large=large)  # its rules go into staffing.yaml: refused there, refused here
    out = out_dir or default_folder("staff", file, "-staff")
    if frontier is not None or frontier_class:
        _frontier(file, base, out, frontier, frontier_class, interval_s, confidence, jobs, dask, large, quiet)
        return
    with results_folder(out, "staff", [file]) as tmp:
        with progress(0, "staff: replications", quiet) as bar:
            result = run(
                base, interval_s=interval_s, confidence=confidence, jobs=jobs, dask=dask, large=large,
                on_progress=_say(quiet), progress=bar,
            )  # fmt: skip
        check_written([(result.scenario, "staffing.yaml")], large=large)
        write_staffing(tmp, result, base, command=f"ivr311 staff {file}", confidence=confidence)
    if not quiet:
        click.echo(format_staffing_result(result, base))
        click.echo(
            f"wrote {out / 'staffing.yaml'}, {out / 'staffing.csv'}, {out / 'staffing.json'}, staffing.png "
            f"({result.simulations} simulations, {result.calls_simulated:,} calls)"
        )


def _frontier(
    file: Path, base: Scenario, out: Path, shares_text: str | None, classes: tuple[str, ...], interval_s: float,
    confidence: float, jobs: int | None, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """``staff --frontier``: the searches, then the table and files (:mod:`queueing.output.frontier`)."""
    from ..output.files import moved, results_folder
    from ..output.frontier import format_frontier, plan_file_name, write_frontier
    from ..planning.frontier import frontier, share_range

    if shares_text is None:
        raise click.UsageError("--frontier-class needs --frontier LOW:HIGH:STEP")
    shares = share_range(shares_text)
    command = " ".join(
        ["ivr311 staff", str(file), "--frontier", shares_text, *(f"--frontier-class {c}" for c in classes)]
    )
    with results_folder(out, "staff", [file]) as tmp:
        with progress(0, "staff --frontier: replications", quiet) as bar:
            result = frontier(
                base, shares, classes=classes, interval_s=interval_s, confidence=confidence, jobs=jobs, dask=dask,
                large=large, on_progress=_say(quiet), progress=bar,
            )  # fmt: skip
        check_written([(p.plan.scenario, plan_file_name(p.share)) for p in result.points], large=large)
        written = write_frontier(tmp, result, command=command)
    if not quiet:
        click.echo(format_frontier(result))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))


def check_written(scenarios: Sequence[tuple[Scenario | None, str]], *, large: bool) -> None:
    """Refuse, before writing, an answer its own ``validate`` (with the same ``--large``) would
    refuse: the scenario files a search writes are checked as validate checks them (size of the
    run, size of the roster), so what a command writes always validates."""
    from ..errors import ScenarioError
    from ..planning.roster_size import check_roster_size
    from ..yamlsafe import format_path

    def in_file(name: str) -> Callable[[tuple[str | int, ...]], str]:
        return lambda path: f"{name}: {format_path(path)}"

    problems = []
    for scenario, name in scenarios:
        if scenario is None:
            continue
        where = in_file(name)
        try:
            check_run([(scenario, where)], interval_s=DEFAULT_INTERVAL_S, large=large)
            check_roster_size(scenario, where, large=large)
        except ScenarioError as exc:
            problems += str(exc).splitlines()
    if problems:
        more = "" if large else " (with --large the limits are lifted: validate and simulate it with --large too)"
        raise ScenarioError(f"the answer found would not pass validate, nothing written{more}: {problems[0]}")


def _say(quiet: bool) -> Callable[[str], None] | None:
    """Each round's message of a search (staff, roster) on stderr, unless ``quiet``."""
    return None if quiet else (lambda message: click.echo(message, err=True))


@click.command()
@file_argument
@out_option(
    "Folder for roster.yaml, .csv, .json and .png [default: results/<file name>-roster]; "
    "replaced only when the roster is complete."
)
@confidence_option(
    "As for staff: a target is met in an interval when its one-sided lower bound at this confidence "
    "over replications reaches it;"
)
@replications_option(2)
@seed_option
@jobs_option
@click.option(
    "--people",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With a week's lines: a CSV of the people (name, pool, days, hours; days and hours they can work, "
    "empty for any) to assign to the lines; writes DIR/assignments.csv, or says which lines nobody can work.",
)
@run_options
def roster(
    file: Path, out_dir: Path | None, confidence: float, replications: int | None, seed: int | None,
    jobs: int | None, people: Path | None, dask: str | None, large: bool, quiet: bool,
) -> None:  # fmt: skip
    """The cheapest roster of workable shifts, with breaks, that meets every target in every interval.

    FILE needs a `roster:` section (docs/planning.md, "Shifts people can work"), for example:

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
    and writes DIR/roster.yaml (the whole scenario with the roster as shifts, the agents away
    after shrinkage as each shift's absent: what was checked, and what it costs; simulate it),
    DIR/roster.csv (pool, start, end, breaks, agents, cost_per_day), DIR/roster.json (totals,
    per pool, lower bound) and DIR/roster.png (shifts over the day, coverage against need).

    A 7-day scenario (horizon: 7d) is rostered in weekly lines, one per agent's week, by the rules'
    shifts_per_week, days_off, max_start_times and line_hours (docs/planning.md, "A week of
    lines"): each day's head-count is searched, the lines cover every interval of the week, the
    week is simulated and repaired. It prints the numbered lines ("line 7: Mon-Fri 07:00-15:30,
    break 11:00; off Sat, Sun") and writes DIR/lines.csv and DIR/lines.png (a week Gantt) instead
    of roster.png; --people assigns people to the lines (DIR/assignments.csv).

    \b
    Example:
      ivr311 roster scenarios/baseline.yaml --jobs 2 --out results/roster
      ivr311 simulate results/roster/roster.yaml --seed 4242   # as checked, new callers
    """
    from ..output.files import default_folder, moved, results_folder
    from ..output.lines import format_lines, write_assignments, write_week
    from ..output.roster import format_roster, write_roster
    from ..planning.roster import roster_rules
    from ..planning.roster_size import check_roster_size
    from ..planning.rostering import roster as run

    base, where = load(file, replications=replications, seed=seed)
    rules = roster_rules(base)
    check_run([(base, where)], interval_s=rules.interval, large=large, local=not dask)
    check_roster_size(base, where, large=large)
    out = out_dir or default_folder("roster", file, "-roster")
    given = [
        ("--replications", replications),
        ("--seed", seed),
        ("--confidence", None if confidence == 0.9 else confidence),
    ]
    command = " ".join(["ivr311 roster", str(file), *(f"{k} {v}" for k, v in given if v is not None)])
    with results_folder(out, "roster", [file]) as tmp:
        with progress(0, "roster: replications", quiet) as bar:
            result = run(
                base, confidence=confidence, jobs=jobs, dask=dask, large=large, people=people,
                on_progress=_say(quiet), progress=bar,
            )  # fmt: skip
        check_written([(result.scenario, "roster.yaml")], large=large)
        if result.lines:
            written = write_week(result, tmp, command=command)
            if result.assignments:
                written.append(write_assignments(tmp, result))
        else:
            written = write_roster(result, tmp, command=command)
    if not quiet:
        click.echo(format_lines(result) if result.lines else format_roster(result))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))
