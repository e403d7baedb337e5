"""The ``ivr311`` command: planner's and analyst's commands, plus those other packages add
through the ``ivr311.commands`` entry-point group (the call-log and phone commands of ``ivr``).
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from .durations import format_duration, parse_duration_s
from .errors import ScenarioError
from .scenario import Scenario, load_scenario


class IvrGroup(click.Group):
    """A click group that adds plugin commands and turns user errors into one line + exit 2."""

    def _plugins(self) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for ep in entry_points(group="ivr311.commands"):
            found[ep.name] = ep.load()
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugins().get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ScenarioError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(2)


@click.group(cls=IvrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ivr311")
def main() -> None:
    """Plan and run a shared 911/311 call centre.

    \b
    Planners:  ivr311 validate scenarios/*.yaml
               ivr311 simulate scenarios/baseline.yaml --out results/baseline
               ivr311 analytic scenarios/textbook.yaml --simulate
    Every command has --help; scenario files are described in README.md.
    """


class Duration(click.ParamType):
    """A command-line duration with units (15m, 1h30m) or seconds, strictly positive; gives seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration_s(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail("must be a duration > 0", param, ctx)
        return seconds


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario FILES without running them; print one line per problem.

    Exit status 0 when every file is valid, 2 otherwise.
    """
    failed = False
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        click.echo(f"{path}: ok ({scenario.name}; {len(scenario.classes)} class(es), "
                   f"{len(scenario.staffing.pools)} pool(s), horizon {format_duration(scenario.horizon)})")
    if failed:
        sys.exit(2)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for summary.json and intervals.csv [default: results/<file name>].")
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Override the file's replications.")
@click.option("--seed", type=click.IntRange(min=0), help="Override the file's root seed.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes for replications [default: all cores]; results do not depend on it.")
@click.option("--calls", is_flag=True, help="Also write calls.csv, one row per call (large).")
@click.option("--interval", "interval_s", type=Duration(), default="15m", show_default=True,
              help="Length of the intervals in intervals.csv (15m, 1h...).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def simulate(
    file: Path, out_dir: Path | None, replications: int | None, seed: int | None,
    jobs: int | None, calls: bool, interval_s: float, quiet: bool,
) -> None:  # fmt: skip
    """Simulate the scenario FILE and report waits with 95% confidence intervals.

    Prints a table per class (offered, answered, abandoned, waits, service-level targets) and
    per pool (utilization), and writes the results files (see README, "Results files").
    Same file and seed give byte-identical files, whatever --jobs.

    \b
    Example:
      ivr311 simulate scenarios/baseline.yaml --replications 40 --out results/baseline
    """
    from .results import write_results
    from .runner import default_jobs
    from .runner import simulate as run

    scenario = load_scenario(file).with_overrides(replications=replications, seed=seed)
    out = out_dir or Path("results") / file.stem
    n = scenario.replications
    with click.progressbar(length=n, label=f"{scenario.name}: {n} replications", file=sys.stderr,
                           show_eta=True, hidden=quiet or not sys.stderr.isatty()) as bar:
        result = run(scenario, jobs=jobs or default_jobs(), interval_s=interval_s,
                     keep_calls=calls, on_done=lambda _r: bar.update(1))
    written = write_results(result, out, calls=calls)
    if not quiet:
        click.echo(format_summary(scenario, result.summary))
        click.echo("wrote " + ", ".join(str(p) for p in written))


@main.command(name="analytic")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--simulate", "also_simulate", is_flag=True,
              help="Also simulate the scenario and print the simulated values (95% CI) beside the formulas.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Processes for --simulate.")
def analytic_cmd(file: Path, also_simulate: bool, jobs: int | None) -> None:
    """Textbook answers for the scenario FILE: Erlang C, Cobham's priority M/M/c, Erlang A.

    They apply to stationary scenarios only (constant rates and staffing, exponential handle
    times, one pool per class); otherwise this says which assumption fails and exits 0.
    With --simulate, the simulation's estimates are printed beside them: a quick check of
    both the model and your intuition.
    """
    from .steady_state import analyze

    scenario = load_scenario(file)
    analysis = analyze(scenario)
    if not analysis.fits:
        click.echo(f"{file}: the formulas do not apply:")
        for problem in analysis.problems:
            click.echo(f"  - {problem}")
        click.echo("Simulate it instead: ivr311 simulate " + str(file))
        return
    summary = None
    if also_simulate:
        from .runner import default_jobs
        from .runner import simulate as run

        summary = run(scenario, jobs=jobs or default_jobs()).summary
    headers = ["class", "pool", "model", "agents", "load erl", "wait mean s"]
    headers += ["simulated"] if summary else []
    rows, trows = [], []
    for a in analysis.answers:
        row = [a.name, a.pool, a.model, str(a.agents), f"{a.load_erlangs:.2f}", f"{a.mean_wait_s:.1f}"]
        if summary:
            row.append(_fmt(summary["classes"][a.name]["wait_s"]["mean"]))
        rows.append(row)
        if a.p_abandon is not None:
            sim = _fmt(summary["classes"][a.name]["abandoned"]["share"], 100) + " %" if summary else ""
            trows.append([a.name, "abandoned", f"{a.p_abandon * 100:.1f} %", "", sim])
        for i, (within, share, target) in enumerate(a.service_levels):
            sim = _fmt(summary["classes"][a.name]["service_level"][i]["share"], 100) + " %" if summary else ""
            trows.append([a.name, f"{target * 100:g}% within {format_duration(within)}", f"{share * 100:.1f} %",
                          "met" if share >= target else "NOT MET", sim])
    click.echo(_table(headers, rows))
    if trows:
        click.echo("")
        click.echo(_table(["class", "measure", "analytic", "verdict"] + (["simulated"] if summary else []),
                          [r if summary else r[:4] for r in trows]))


def _fmt(est: dict[str, Any] | None, scale: float = 1.0, digits: int = 1) -> str:
    if est is None or est["value"] is None:
        return "-"
    v = est["value"] * scale
    lo, hi = est["ci95"]
    if lo is None:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ±{(hi - lo) * scale / 2:.{digits}f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))]
    for r in rows:
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def format_summary(scenario: Scenario, summary: dict[str, Any]) -> str:
    """The terminal table of a summary: per class, then per target, then per pool."""
    meta = summary["meta"]
    head = (f"{meta['scenario']}: {meta['replications']} replications of "
            f"{format_duration(meta['horizon_s'])} (warm-up {format_duration(meta['warmup_s'])}), "
            f"seed {meta['seed']}; values are means ±95% CI half-width")
    rows = []
    for name in scenario.class_names():
        c = summary["classes"][name]
        w = c["wait_s"]
        rows.append([name, _fmt(c["offered"], digits=0), _fmt(c["answered"], digits=0),
                     _fmt(c["abandoned"]["share"], 100), _fmt(w["mean"]), _fmt(w["p90"]), _fmt(w["p95"])])
    out = [head, "", _table(["class", "offered", "answered", "abandoned %", "wait mean s",
                             "wait p90 s", "wait p95 s"], rows)]
    trows = []
    for name in scenario.class_names():
        for sl in summary["classes"][name]["service_level"]:
            trows.append([name, f"{sl['target'] * 100:g}% within {format_duration(sl['within_s'])}",
                          _fmt(sl["share"], 100) + " %", "met" if sl["met"] else "NOT MET"])
    if trows:
        out += ["", _table(["class", "target", "answered within", "verdict"], trows)]
    prows = [[p, _fmt(v["utilization"], 100) + " %", f"{v['agent_hours']['value']:.0f}",
              _fmt(v["overtime_h"])] for p, v in summary["pools"].items()]
    out += ["", _table(["pool", "utilization", "agent-hours", "overtime h"], prows)]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    main()
