"""The commands that read the call log: ``calibrate`` (a scenario from the log: a file, or the
voice app's database exported by ``ivr311 calls export`` in a separate process) and ``nowcast``
(the next hours simulated from the queue as the database has it now)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from ..core.durations import HOUR_S
from ..core.limits import check_run
from ..errors import ScenarioError
from ..yamlsafe import format_path
from .options import (
    Duration,
    jobs_option,
    load,
    quiet_option,
)


@click.command()
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--database-url", metavar="URL",
              help="Read the log from the voice app's database instead of a file (exported first with "
                   "`ivr311 calls export`, in a separate process).")  # fmt: skip
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The scenario file to write (YAML).")  # fmt: skip
@click.option("--base", "base_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario giving staffing, targets, roster rules, priorities, start day, horizon, seed and "
                   "replications, and any number the log has too few calls for.")  # fmt: skip
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
    comments; with three weeks or more and a significant weekday effect, a factor per weekday
    (arrivals.weekdays). Staffing, targets and roster rules come from --base. A number the log
    has too few calls for is named on stderr and taken from --base; each kind of row dropped
    (times out of order or out of range, a call_sid seen before) is named there too, with its
    count and first lines. Exit status 2 on a malformed log (file:line: column), or an --out that is the log,
    --base or a place nothing can be written (checked before the log is read).

    \b
    Example:
      ivr311 calls export --format csv --out calls.csv
      ivr311 calibrate calls.csv --base scenarios/baseline.yaml --out scenarios/calibrated.yaml
      ivr311 simulate scenarios/calibrated.yaml
    """
    from ..core.scenario_file import parse_scenario
    from ..output.calibration import calibration_yaml, summary_lines, warning_lines
    from ..planning.calibrate import calibrate as run
    from ..planning.calllog import read_call_log, time_window

    if base_file is None:
        raise ScenarioError(
            "calibrate needs --base SCENARIO for staffing and targets (the log does not say who answered)"
        )
    from ..output.outfile import check_out_file, write_out_file

    base, where = load(base_file)
    time_window(since, until)  # a mistake in either is told before the log is read
    if (log is None) == (database_url is None):
        raise ScenarioError("calibrate needs a LOG file or --database-url URL (one of them)")
    check_out_file(out_file, {"LOG": log, "--base": base_file})
    with contextlib.ExitStack() as stack:
        if database_url is not None:
            log = exported_call_log(database_url, Path(stack.enter_context(tempfile.TemporaryDirectory())))
        assert log is not None
        source = database_url if database_url is not None else str(log)
        command = " ".join(["ivr311 calibrate", source, "--base", str(base_file)])
        result = run(read_call_log(log), base, base_source=str(base_file), interval_s=interval_s,
                     since=since, until=until)  # fmt: skip
    text = calibration_yaml(result, base, base_source=str(base_file), command=command)
    scenario = parse_scenario(text, "calibrated scenario")
    check_run([(scenario, lambda path: f"{out_file}: {format_path(path)}")], interval_s=900.0)
    for line in warning_lines(result, str(base_file)):
        click.echo(line, err=True)
    write_out_file(out_file, text)
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


@click.command()
@click.option("--database-url", metavar="URL", required=True,
              help="The voice app's database (read-only): who waits and who is on a call, today's calls.")  # fmt: skip
@click.option("--scenario", "file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The day's forecast and roster (profile, shifts, targets).")  # fmt: skip
@click.option("--hours", type=click.FloatRange(min=0, max=24, min_open=True), default=2.0, show_default=True,
              help="How far ahead to simulate.")  # fmt: skip
@click.option("--replications", type=click.IntRange(min=2), default=100, show_default=True,
              help="Runs from the state (each with one agent more and one fewer too).")  # fmt: skip
@click.option("--at", help="The time to start from, UTC (2024-05-01T14:00:00Z; default: now).")
@click.option("--pool", help="The pool one agent is added to or sent home from (default: the first).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for nowcast.json [default: results/<scenario>-nowcast].")  # fmt: skip
@jobs_option
@quiet_option
def nowcast(
    database_url: str, file: Path, hours: float, replications: int, at: str | None, pool: str | None,
    out_dir: Path | None, jobs: int | None, quiet: bool,
) -> None:  # fmt: skip
    """Simulate the next hours from the centre as it stands: callers waiting and calls in progress
    from the call log, agents on duty by the scenario's roster, the rest of the day re-forecast
    from today's calls. Per quarter hour and class: the chance every target is met, the mean wait
    and queue with their 10-90% bands, and the same chance with one agent more and one fewer on
    duty from now. Writes nowcast.json (docs/planning.md, "Now-cast").

    \b
    Example:
      ivr311 nowcast --database-url sqlite:///instance/calls.db --scenario scenarios/baseline.yaml
    """
    from ..output.files import default_folder, moved, results_folder
    from ..output.nowcast import format_nowcast, write_nowcast
    from ..planning.calllog import parse_time_s
    from ..planning.nowcast import nowcast as run

    scenario, _ = load(file)
    if at is not None:
        parse_time_s(at, "--at")  # a mistake is told before the database is read
    out = out_dir or default_folder("nowcast", file, "-nowcast")
    with results_folder(out, "nowcast", [file]) as tmp:
        result = run(scenario, database_url=database_url, at=at, hours=hours, replications=replications,
                     pool=pool, jobs=jobs)  # fmt: skip
        written = [write_nowcast(result, tmp)]
    if not quiet:
        click.echo(format_nowcast(result))
        click.echo("wrote " + ", ".join(str(p) for p in moved(written, tmp, out)))
