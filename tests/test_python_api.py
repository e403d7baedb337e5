"""The public Python API is the CLI's equal: every planner's command has a function of `queueing`
with the command's options as keywords and the same defaults, imported lazily, whose results are
what the command writes for the same inputs."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd
import pytest
from click.testing import CliRunner

import queueing
from queueing import (
    calibrate,
    calibration_yaml,
    compare,
    frontier,
    load_scenario,
    parse_scenario,
    roster,
    simulate,
    staff,
    sweep,
)
from queueing.cli import main
from queueing.core.runner import LocalExecutor, Table
from queueing.errors import ScenarioError
from queueing.output.files import write_csv
from queueing.planning.running import RUN_DEFAULTS, RunOn
from tests.support.call_log import simulated_call_log
from tests.support.scenarios import scenario_text

H = 3600.0

# Options that only concern the command line: where files go, what is printed, how inputs are named.
CLI_ONLY = {"file", "files", "out_dir", "out_file", "quiet", "report", "sets", "log", "base_file", "database_url"}
KEYWORD = {"calls": "keep_calls"}  # a command's option -> the function's keyword, where they differ
# Options that make a command run another function: (command, option) -> (function, keyword)
OTHER_FUNCTION = {("staff", "frontier"): ("frontier", "shares"), ("staff", "frontier_class"): ("frontier", "classes")}
FUNCTION_DEFAULTS = {("simulate", "jobs"): 1}  # simulate runs in this process unless asked (documented)

TINY_ROSTER = """
name: tiny roster
seed: 3
horizon: 24h
replications: 2
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 6}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
staffing:
  pools: [{name: call-takers, serves: ["911"], agents: 2}]
targets:
  "911": [{within: 30s, share: 0.8}]
roster:
  interval: 2h
  start_every: 2h
  shift_lengths: [8h]
  shrinkage: 0.1
  pools: {call-takers: {cost_per_hour: 40.0}}
"""


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def _same_file(table: Table, written: Path, tmp_path: Path) -> None:
    """``table`` written as the commands write CSV is byte for byte the command's file, and its
    DataFrame has the file's columns and rows."""
    mine = tmp_path / f"python-{written.name}"
    write_csv(mine, table.columns, table.rows())
    assert mine.read_bytes() == written.read_bytes()
    frame = table.to_pandas()
    assert list(frame.columns) == list(pd.read_csv(written).columns) and len(frame) == len(pd.read_csv(written))


def keywords_of(function: Any) -> dict[str, inspect.Parameter]:
    """A function's keywords, with those of ``**run: Unpack[RunOn]`` spelled out at their defaults."""
    keywords = dict(inspect.signature(function).parameters)
    for name, parameter in list(keywords.items()):
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            assert "RunOn" in str(parameter.annotation), (function, name)
            del keywords[name]
            for key in RunOn.__annotations__:
                keywords[key] = inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=RUN_DEFAULTS[key])  # type: ignore[literal-required]
    return keywords


@pytest.mark.parametrize("name", ["simulate", "compare", "sweep", "staff", "roster", "calibrate", "nowcast"])
def test_each_function_takes_its_commands_options_with_the_same_defaults(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    defaults = command.make_context(name, [], resilient_parsing=True).params  # converted: --interval 15m is 900.0
    keywords = keywords_of(getattr(queueing, name))
    for option, default in defaults.items():
        if option in CLI_ONLY:
            continue
        if (name, option) in OTHER_FUNCTION:  # the function is that option's: staff --frontier runs frontier()
            function, keyword = OTHER_FUNCTION[name, option]
            assert keyword in keywords_of(getattr(queueing, function)), (function, keyword)
            continue
        keyword = KEYWORD.get(option, option)
        assert keyword in keywords, f"{name}: --{option} has no keyword {keyword}="
        assert keywords[keyword].default == FUNCTION_DEFAULTS.get((name, keyword), default), (name, keyword)
    if name == "staff":  # frontier() takes staff's other options, with the same defaults
        for keyword, parameter in keywords.items():
            assert keywords_of(queueing.frontier)[keyword].default == parameter.default, keyword


def test_public_names_exist_and_are_imported_on_first_use() -> None:
    assert sorted(queueing.__all__) == sorted(queueing._HOME)  # type: ignore[attr-defined]
    for name in queueing.__all__:
        assert getattr(queueing, name) is not None
    assert set(queueing.__all__) <= set(dir(queueing))
    probe = "import queueing, sys; dir(queueing); print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert not {m.split(".")[0] for m in loaded} & {"numpy", "simpy", "pydantic", "pandas", "scipy"}
    assert {m for m in loaded if m.startswith("queueing")} == {"queueing"}
    with pytest.raises(AttributeError, match="no attribute 'stafff'"):
        queueing.stafff  # type: ignore[attr-defined]  # noqa: B018


def test_to_pandas_without_pandas_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` meets when it is not installed
    with pytest.raises(ImportError, match=r"pip install 'ivr311\[analysis\]'"):
        Table(["a"], lambda: iter([(1,)])).to_pandas()


def test_simulate_is_what_simulate_writes(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="6h", warmup="0s", replications=5)
    _cli("simulate", str(path), "-r", "2", "--seed", "11", "--interval", "1h", "--out", str(tmp_path / "cli"), "-q")
    result = simulate(load_scenario(path), replications=2, seed=11, interval_s=H)
    _same_file(result.intervals, tmp_path / "cli" / "intervals.csv", tmp_path)
    assert result.scenario.seed == 11 and len(result.replications) == 2


def test_staff_is_what_staff_writes(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="1d", warmup="0s", replications=3, rates=(10, 20), agents=3, patience="3m")
    _cli("staff", str(path), "--interval", "6h", "-r", "2", "--jobs", "1", "--out", str(tmp_path / "cli"), "-q")
    result = staff(load_scenario(path), interval_s=6 * H, replications=2, jobs=1)
    _same_file(result.table, tmp_path / "cli" / "staffing.csv", tmp_path)
    written = pd.read_csv(tmp_path / "cli" / "staffing.csv")
    assert result.to_pandas()["agents"].tolist() == written["agents"].tolist() == [row[0] for row in result.agents]
    assert result.scenario.staffing == load_scenario(tmp_path / "cli" / "staffing.yaml").staffing


def test_frontier_is_what_staff_frontier_writes(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="1d", warmup="0s", replications=3, rates=(10, 20), agents=3, patience="3m")
    out = str(tmp_path / "cli")
    _cli(
        "staff",
        str(path),
        "--interval",
        "6h",
        "-r",
        "2",
        "--jobs",
        "1",
        "--frontier",
        "0.7:0.8:0.1",
        "--out",
        out,
        "-q",
    )
    result = frontier(load_scenario(path), [0.7, 0.8], interval_s=6 * H, replications=2, jobs=1)
    _same_file(result.table, tmp_path / "cli" / "frontier.csv", tmp_path)


def test_roster_is_what_roster_writes(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_ROSTER)
    _cli("roster", str(path), "--seed", "5", "--jobs", "1", "--out", str(tmp_path / "cli"), "-q")
    result = roster(parse_scenario(TINY_ROSTER), seed=5, jobs=1)
    _same_file(result.table, tmp_path / "cli" / "roster.csv", tmp_path)
    assert result.to_pandas()["agents"].sum() == sum(s.agents for s in result.shifts) > 0
    assert result.scenario.staffing == load_scenario(tmp_path / "cli" / "roster.yaml").staffing


def test_compare_is_what_compare_writes_and_leaves_a_given_executor_open(tmp_path: Path, write_scenario) -> None:
    a = write_scenario(horizon="6h", warmup="0s", replications=4, agents=10, name="a.yaml")
    b = write_scenario(horizon="6h", warmup="0s", replications=4, agents=11, name="b.yaml")
    _cli("compare", str(a), str(b), "-r", "2", "--jobs", "1", "--out", str(tmp_path / "cli"), "-q")

    class Kept(LocalExecutor):
        closed = False

        def close(self) -> None:
            self.closed = True

    executor = Kept(1)
    result = compare([load_scenario(a), load_scenario(b)], ["a", "b"], replications=2, executor=executor)
    assert not executor.closed  # its owner closes it
    _same_file(result.table, tmp_path / "cli" / "comparison.csv", tmp_path)
    assert [r.scenario.replications for r in result.results] == [2, 2]
    assert set(result.windows_met()) == {"a", "b"}
    # labels default to the scenarios' names, numbered when two share one
    assert compare([load_scenario(a)] * 2, executor=executor).labels == ["test centre", "test centre-2"]
    with pytest.raises(ScenarioError, match="at least two scenarios"):
        compare([load_scenario(a)])
    with pytest.raises(ScenarioError, match="at least 2 replications"):
        compare([load_scenario(a)] * 2, replications=1)


def test_sweep_is_what_sweep_writes(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="6h", warmup="0s", replications=2)
    field = "staffing.pools.call-takers.agents"
    _cli("sweep", str(path), "--set", f"{field}=9..10", "--jobs", "1", "--out", str(tmp_path / "cli"), "-q")
    scenario = load_scenario(path)
    result = sweep(scenario, {field: range(9, 11)}, jobs=1)
    _same_file(result.table, tmp_path / "cli" / "sweep.csv", tmp_path)
    import numpy as np

    for same in ([f"{field}=9..10"], {field: "9,10"}, {field: np.array([9, 10])}):
        again = sweep(scenario, same, jobs=1)  # type: ignore[arg-type]
        assert again.rows == result.rows
    with pytest.raises(ScenarioError, match="set the same field"):
        sweep(scenario, {field: [9], "staffing.pools.0.agents": [10]})
    with pytest.raises(ScenarioError, match="one or two"):
        sweep(scenario, {"seed": [1], "replications": [2], "horizon": ["1h"]})


def test_calibrate_is_what_calibrate_writes_from_a_file_or_a_dataframe(tmp_path: Path, write_scenario) -> None:
    base_path = write_scenario(horizon="1d", warmup="0s", replications=3, patience="3m", name="base.yaml")
    base = load_scenario(base_path)
    log = tmp_path / "calls.csv"
    simulated_call_log(simulate(base, keep_calls=True)).to_csv(log, index=False)
    out = tmp_path / "calibrated.yaml"
    _cli("calibrate", str(log), "--base", str(base_path), "--out", str(out), "--since", "2024-05-02", "-q")
    command = f"ivr311 calibrate {log} --base {base_path}"
    result = calibrate(log, base, since="2024-05-02", base_source=str(base_path))
    assert calibration_yaml(result, base, base_source=str(base_path), command=command) == out.read_text()
    # the same log as a DataFrame, parsed as pandas reads it (times as text, numbers, NaN for empty)
    frame = pd.read_csv(log)
    frame["started_at"] = pd.to_datetime(frame["started_at"], format="ISO8601")  # or as datetimes
    from_frame = calibrate(frame, base, since=pd.Timestamp("2024-05-02", tz="UTC"), base_source=str(base_path))
    text = calibration_yaml(from_frame, base, base_source=str(base_path), command=command)

    def without(source: str, text: str) -> list[str]:  # the lines naming the log differ, as they should
        return [line for line in text.splitlines() if source not in line]

    assert without("DataFrame", text) == without(log.name, out.read_text())
    assert parse_scenario(text).classes == load_scenario(out).classes
    bad = pd.read_csv(log, dtype=str, keep_default_na=False)
    bad.loc[3, "started_at"] = "yesterday"
    with pytest.raises(ScenarioError, match=r"^DataFrame:3: started_at: not an ISO 8601 time"):
        calibrate(bad, base)


@pytest.mark.slow
def test_large_lifts_the_soft_limits_for_functions_and_commands(tmp_path: Path) -> None:
    """10,001 agents: over the soft limit. The functions check the limits as the commands do, and
    the commands hand their --large to them."""
    text = scenario_text(horizon="1h", warmup="0s", replications=2, rates=(1, 1), agents=10_001)
    scenario = parse_scenario(text)
    with pytest.raises(ScenarioError, match=r"^scenario 'test centre': staffing: 10,001 agents .* without --large"):
        simulate(scenario)
    with pytest.raises(ScenarioError, match=r"^--set staffing.pools.call-takers.agents=10001: 10,001 agents"):
        sweep(scenario, {"staffing.pools.call-takers.agents": [10_001]})
    assert simulate(scenario, large=True).summary["meta"]["replications"] == 2
    path = tmp_path / "big.yaml"
    path.write_text(text)
    for command in ("simulate", "analytic --simulate"):
        args = [*command.split(), str(path), "--large", "--jobs", "1"]
        if command == "simulate":
            args += ["--out", str(tmp_path / "out"), "-q"]
        _cli(*args)
