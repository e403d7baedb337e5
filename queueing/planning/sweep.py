"""Grids over scenario fields: ``--set PATH=VALUES`` once or twice, every point simulated with
the same seed (common random numbers), each headline metric against the parameter with CIs.

A PATH is dotted keys into the scenario as written in YAML; list items are picked by their
``name`` or their index: ``staffing.pools.call-takers.agents``, ``classes.311.arrivals.rate_per_hour``,
``staffing.pools.0.shifts.1.agents``. Setting ``agents`` on a pool given by shifts replaces the
shifts with that constant head-count. VALUES: ``6..14`` (whole numbers, inclusive),
``6..14..2`` (with a step), or a comma list ``4m,5m,6m``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Unpack

import numpy as np
import yaml

from ..core.cost import days_measured
from ..core.limits import Where, named
from ..core.runner import DEFAULT_INTERVAL_S, SimulationResult, Table, run_scenarios
from ..core.scenario import Scenario
from ..core.scenario_file import validate_data
from ..core.settling import unsettled
from ..errors import ScenarioError
from .running import RunOn, executor_of, overridden


@dataclass(frozen=True)
class Setting:
    """One ``--set``: a path into the scenario and the values it takes."""

    spec: str
    path: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_setting(spec: str) -> Setting:
    """Parse ``PATH=VALUES``; raise ScenarioError with a one-line reason."""
    if "=" not in spec:
        raise ScenarioError(f"--set {spec}: expected PATH=VALUES, e.g. staffing.pools.call-takers.agents=6..14")
    path_text, values_text = spec.split("=", 1)
    path = _path(path_text, spec)
    values_text = values_text.strip()
    parts = values_text.split("..")
    if len(parts) in (2, 3) and all(p.strip().lstrip("-").isdigit() for p in parts):
        lo, hi = int(parts[0]), int(parts[1])
        step = int(parts[2]) if len(parts) == 3 else 1
        if step <= 0 or hi < lo:
            raise ScenarioError(f"--set {spec}: a range is LOW..HIGH[..STEP] with LOW <= HIGH and STEP > 0")
        values: tuple[Any, ...] = tuple(range(lo, hi + 1, step))
    elif ".." in values_text:
        raise ScenarioError(f"--set {spec}: a range takes whole numbers, e.g. 6..14 or 6..14..2")
    else:
        values = tuple(_scalar(v.strip()) for v in values_text.split(",") if v.strip())
    return _setting(spec, path, values)


def _path(text: str, spec: str) -> tuple[str, ...]:
    path = tuple(text.strip().split("."))
    if not text.strip() or any(not p for p in path):
        raise ScenarioError(f"--set {spec}: empty path")
    return path


def _setting(spec: str, path: tuple[str, ...], values: tuple[Any, ...]) -> Setting:
    if not values:
        raise ScenarioError(f"--set {spec}: no values")
    if len(values) > 200:
        raise ScenarioError(f"--set {spec}: {len(values)} values; at most 200 per parameter")
    return Setting(spec, path, values)


def settings_of(given: Mapping[str, Any] | Sequence[str | Setting]) -> list[Setting]:
    """The settings of a sweep from Python: ``{PATH: values}`` (a list, a range, or VALUES as
    ``--set`` takes them: ``"6..14"``, ``"4m,5m"``), or ``--set`` texts (``["PATH=VALUES"]``) or
    parsed settings; one or two of them."""
    if isinstance(given, str):
        given = [given]
    settings = []
    if isinstance(given, Mapping):
        for path_text, values in given.items():
            if isinstance(values, str):
                settings.append(parse_setting(f"{path_text}={values}"))
                continue
            plain = tuple(v.item() if isinstance(v, np.generic) else v for v in values)  # numpy scalars
            spec = f"{path_text}={','.join(map(str, plain))}"
            settings.append(_setting(spec, _path(path_text, spec), plain))
    else:
        settings = [spec if isinstance(spec, Setting) else parse_setting(spec) for spec in given]
    if not 1 <= len(settings) <= 2:
        raise ScenarioError(f"sweep: {len(settings)} settings; one or two (a one- or two-dimensional grid)")
    return settings


def _child(node: Any, key: str, where: str, spec: str) -> tuple[Any, Any]:
    """The child of ``node`` named ``key`` and the key/index to address it by."""
    if isinstance(node, dict):
        if key not in node:
            raise ScenarioError(
                f"--set {spec}: no {key!r} under {where or 'the scenario'} (keys: {', '.join(map(str, node))})"
            )
        return node[key], key
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("name") == key:
                return item, i
        if key.isdigit() and int(key) < len(node):
            return node[int(key)], int(key)
        names = [str(item.get("name")) for item in node if isinstance(item, dict) and "name" in item]
        hint = f"names: {', '.join(names)}" if names else f"indexes 0..{len(node) - 1}"
        raise ScenarioError(f"--set {spec}: no {key!r} in {where} ({hint})")
    raise ScenarioError(f"--set {spec}: {where} is a value, not a mapping or a list")


def apply_setting(data: dict[str, Any], setting: Setting, value: Any) -> dict[str, Any]:
    """A copy of scenario ``data`` with the setting's path set to ``value``."""
    out = copy.deepcopy(data)
    node: Any = out
    where: list[str] = []
    for key in setting.path[:-1]:
        node, _ = _child(node, key, ".".join(where), setting.spec)
        where.append(key)
    last = setting.path[-1]
    if not isinstance(node, dict):
        raise ScenarioError(f"--set {setting.spec}: {'.'.join(where)} is not a mapping")
    if last == "agents" and "shifts" in node:
        del node["shifts"]  # a constant head-count instead of the shifts
    elif last not in node and "name" not in node:
        _child(node, last, ".".join(where), setting.spec)  # raises with the keys there are
    node[last] = value
    return out


def resolved_path(data: dict[str, Any], setting: Setting) -> tuple[str | int, ...]:
    """The setting's path with list items by index, so that ``staffing.pools.call-takers.agents``
    and ``staffing.pools.0.agents`` are seen as the one field they are."""
    node: Any = data
    where: list[str] = []
    out: list[str | int] = []
    for key in setting.path[:-1]:
        node, address = _child(node, key, ".".join(where), setting.spec)
        where.append(key)
        out.append(address)
    return (*out, setting.path[-1])


@dataclass(frozen=True)
class Point:
    """One point of the grid: the values of each setting, and the scenario there."""

    values: tuple[Any, ...]
    scenario: Scenario


def grid(base: Scenario, settings: list[Setting]) -> list[Point]:
    """Every combination of the settings' values applied to ``base`` (validated)."""
    data = base.to_data()
    points = []
    for values in itertools.product(*(s.values for s in settings)):
        point_data = data
        for setting, value in zip(settings, values, strict=True):
            point_data = apply_setting(point_data, setting, value)
        label = ", ".join(f"{s.spec.split('=')[0]}={v}" for s, v in zip(settings, values, strict=True))
        points.append(Point(values, validate_data(point_data, f"--set {label}")))
    return points


def point_where(where: Where, settings: Sequence[Setting], values: Sequence[Any]) -> Where:
    """Where a field of a sweep point came from: the setting that gives it, else ``where`` (the base)."""

    def at(path: tuple[str | int, ...]) -> str:
        for setting, value in zip(settings, values, strict=True):
            if tuple(map(str, path)) == setting.path[: len(path)]:
                return f"--set {setting.name}={value}"
        return where(path)

    return at


SWEEP_METRICS = ("wait_s.mean", "wait_s.p90", "abandoned.share")
SWEEP_RESULT_COLUMNS = ("class", "pool", "metric", "value", "ci_low", "ci_high", "target", "settled")


def sweep_columns(settings: list[Setting]) -> list[str]:
    """Columns of sweep.csv: one per setting, then SWEEP_RESULT_COLUMNS."""
    return [s.name for s in settings] + list(SWEEP_RESULT_COLUMNS)


def sweep_rows(settings: list[Setting], points: list[Point], results: list[SimulationResult]) -> list[dict[str, Any]]:
    """Long-format rows of sweep.csv: one per point, class or pool, and metric (every target of
    every class, and with transfers each class's agents busy on its calls; pools' agent-hours
    per day). ``settled`` is False at a point where the queue did
    not settle (``core.settling``): its waits are those of the few calls that got through."""
    rows: list[dict[str, Any]] = []
    for point, result in zip(points, results, strict=True):
        head = {s.name: v for s, v in zip(settings, point.values, strict=True)}
        summary = result.summary
        settled = not unsettled(point.scenario, summary)
        for cname in point.scenario.class_names():
            node = summary["classes"][cname]
            measures = [(m, _get(node, m), None) for m in ("offered", *SWEEP_METRICS)]
            if "load_erlangs" in node:  # with transfers: the work a class takes on as calls move to it
                measures.append(("load_erlangs", node["load_erlangs"], None))
            measures += [
                (f"service_level.{sl['within_s']:g}s", sl["share"], sl["target"]) for sl in node["service_level"]
            ]
            for metric, est, target in measures:
                rows.append(
                    {**head, "class": cname, "pool": "", "metric": metric, **_est(est), "target": target,
                     "settled": settled}
                )  # fmt: skip
        days = days_measured(point.scenario)
        for pool, node in summary["pools"].items():
            for metric, est in (
                ("utilization", node["utilization"]),
                ("agent_hours_per_day", _scaled(node["agent_hours"], 1 / days)),
            ):
                rows.append(
                    {**head, "class": "", "pool": pool, "metric": metric, **_est(est), "target": None,
                     "settled": settled}
                )  # fmt: skip
    return rows


def _scaled(est: dict[str, Any], factor: float) -> dict[str, Any]:
    """An estimate times ``factor`` (its interval too)."""

    def times(x: float | None) -> float | None:
        return None if x is None else x * factor

    return {"value": times(est["value"]), "ci95": [times(x) for x in est["ci95"]]}


def _get(node: dict[str, Any], dotted: str) -> dict[str, Any]:
    for part in dotted.split("."):
        node = node[part]
    return node


def _est(est: dict[str, Any]) -> dict[str, Any]:
    lo, hi = est["ci95"]
    return {"value": est["value"], "ci_low": lo, "ci_high": hi}


@dataclass
class SweepResult:
    """A sweep: its settings, every point of the grid (values and scenario) and its simulation,
    and sweep.csv's rows (``table``)."""

    settings: list[Setting]
    points: list[Point]
    results: list[SimulationResult]

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """sweep.csv's rows as dicts (:func:`sweep_rows`)."""
        return sweep_rows(self.settings, self.points, self.results)

    @property
    def table(self) -> Table:
        """sweep.csv: one column per setting, then class, pool, metric, value, ci_low, ci_high,
        target, settled (one row per point, class or pool, and metric)."""
        columns = sweep_columns(self.settings)
        return Table(columns, lambda: (tuple(r[c] for c in columns) for r in self.rows))

    def to_pandas(self) -> Any:
        """sweep.csv as a pandas DataFrame (needs the ``analysis`` extra)."""
        return self.table.to_pandas()


def sweep(
    scenario: Scenario,
    settings: Mapping[str, Any] | Sequence[str | Setting],
    *,
    on_done: Callable[[], None] | None = None,
    **run: Unpack[RunOn],
) -> SweepResult:
    """``ivr311 sweep``: the scenario simulated at every point of a grid over one or two fields
    (``settings``, see :func:`settings_of`), with the same seed everywhere, run as ``run`` says
    (:class:`RunOn`: replications, seed, jobs, dask, executor, large); ``on_done()`` hears each
    replication finish."""
    grid_settings = settings_of(settings)
    scenario = overridden(scenario, run)
    if len(grid_settings) == 2:
        a, b = (resolved_path(scenario.to_data(), s) for s in grid_settings)
        if a == b:
            raise ScenarioError(
                f"sweep: {grid_settings[0].spec!r} and {grid_settings[1].spec!r} set the same field; "
                "give all its values in one setting"
            )
    points = grid(scenario, grid_settings)
    scenarios = [p.scenario for p in points]
    where = [point_where(named(scenario), grid_settings, p.values) for p in points]
    with executor_of(scenarios, DEFAULT_INTERVAL_S, where, **run) as ex:
        results = run_scenarios(scenarios, ex, on_done=on_done)
    return SweepResult(grid_settings, points, results)
