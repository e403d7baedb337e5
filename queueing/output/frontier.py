"""The cost-service frontier on disk and on the console: what ``ivr311 staff --frontier`` writes
and prints.

- ``frontier.csv``: per target share, ``share, agent_hours, cost_per_day, targets_met, found_at``
  and ``achieved_<class>_<T>s`` per target (the share it got in the plan's simulation).
- ``frontier.png``: the cost a day (agent-hours without pay rates) of each share's plan.
- ``frontier-<share %>.yaml``: each share's plan as a whole scenario, ready to simulate.
- the console: the same as a table, and which targets the shares were set for.
"""

from __future__ import annotations

from pathlib import Path

from ..core.durations import format_duration
from ..core.metric_names import format_money
from ..planning.frontier import FrontierResult, with_share
from .files import write_csv
from .scenario_yaml import DURATIONS_NOTE, scenario_yaml
from .tables import format_table


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.4g}%"


def which_targets(result: FrontierResult) -> str:
    """``every target's share`` or ``the shares of the 311 targets``: what each point of the frontier sets."""
    if not result.classes:
        return "every target's share"
    return f"the shares of the {' and '.join(result.classes)} targets"


def format_frontier(result: FrontierResult) -> str:
    """The table ``staff --frontier`` prints: per share, agent-hours, cost a day (with pay rates),
    the share each target got, and a note where a plan found for a higher share was cheaper."""
    currency = result.scenario.roster.currency if result.scenario.roster else ""
    names = [f"{c} {format_duration(w)}" for c, w in result.target_names()]
    head = ["target share", "agent-hours", *(["cost a day"] if result.costed else []), *names, "plan"]
    rows = []
    for p in result.points:
        plan = "" if p.found_at == p.share else f"the {_percent(p.found_at)} plan"
        if not p.plan.targets_met:
            plan = (plan + " " if plan else "") + "NOT MET"
        rows.append(
            [
                _percent(p.share),
                f"{p.agent_hours:g}",
                *([format_money(p.cost_per_day, currency)] if result.costed else []),
                *("-" if a is None else f"{a * 100:.1f}%" for a in p.achieved()),
                plan or "its own",
            ]
        )
    lines = [
        f"Cheapest staffing for each target share ({which_targets(result)} set to it; "
        f"{format_duration(result.interval_s)} intervals, confidence {result.confidence:g}); "
        "the targets' columns are the share each got in the plan's simulation:",
        "",
        format_table(head, rows),
    ]
    return "\n".join(lines)


def plan_file_name(share: float) -> str:
    """The file of the plan for a target ``share`` (0-1): ``frontier-<share %>.yaml``."""
    return f"frontier-{share * 100:.4g}.yaml"


def write_frontier(out_dir: Path, result: FrontierResult, *, command: str) -> list[Path]:
    """frontier.csv, frontier.png and each share's plan (``frontier-<share %>.yaml``) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out_dir / "frontier.csv", out_dir / "frontier.png"
    write_csv(csv_path, result.table.columns, result.table.rows())
    png_path.write_bytes(frontier_plot(result))
    paths = [csv_path, png_path]
    for p in result.points:
        path = out_dir / plan_file_name(p.share)
        header = (
            f"The cheapest staffing found by `{command}` for a target share of {_percent(p.share)} "
            f"({which_targets(result)}; the search at {_percent(p.found_at)} found it)."
        )
        name = f"{result.scenario.name} (staffed for {_percent(p.share)} by ivr311 staff --frontier)"
        targets = with_share(result.scenario, p.share, result.classes).targets  # the share it is the plan for
        plan = p.plan.scenario.model_copy(update={"name": name, "targets": targets})
        path.write_text(scenario_yaml(plan, [header, *DURATIONS_NOTE]), encoding="utf-8")
        paths.append(path)
    return paths


def frontier_plot(result: FrontierResult) -> bytes:
    """PNG: the cost a day (agent-hours without pay rates) of the cheapest plan for each target
    share, each point labelled with its agent-hours; a hollow point is a plan that missed a target."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    currency = result.scenario.roster.currency if result.scenario.roster else ""
    xs = [p.share for p in result.points]
    ys = [float(p.cost_per_day if p.cost_per_day is not None else p.agent_hours) for p in result.points]
    fig = Figure(figsize=(9, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(xs, ys, color="#1f77b4", linewidth=2, zorder=1)
    for p, x, y in zip(result.points, xs, ys, strict=True):
        met = p.plan.targets_met
        ax.scatter([x], [y], s=40, zorder=2, color="#1f77b4" if met else "white", edgecolors="#1f77b4")
        ax.annotate(f"{p.agent_hours:g} h", (x, y), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"target share ({which_targets(result)})")
    ax.set_ylabel("cost a day" if result.costed else "agent-hours a day")
    if result.costed:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: format_money(y, currency)))
    ax.set_ylim(0, max(ys) * 1.12 if max(ys) > 0 else 1)  # from 0: the cost of service, not its wiggles
    ax.grid(alpha=0.3)
    ax.set_title(f"{result.scenario.name}: what each point of service costs")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    return buf.getvalue()
