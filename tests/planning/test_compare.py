"""compare: paired differences on common random numbers, its files, and what cannot be paired."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from scipy import stats

from queueing import load_scenario
from queueing.core.runner import LocalExecutor, run_scenarios
from queueing.core.statistics import paired_difference
from queueing.planning.compare import comparison_rows
from tests.support import REPO
from tests.support.cli import invoke, write_file
from tests.support.scenarios import scenario_text


def test_common_random_numbers_make_paired_intervals_narrower(write_scenario) -> None:
    a = load_scenario(write_scenario(agents=11, horizon="1d", replications=12, patience="5m", name="a.yaml"))
    b = load_scenario(write_scenario(agents=12, horizon="1d", replications=12, patience="5m", name="b.yaml"))
    results = run_scenarios([a, b], LocalExecutor(1))
    for key in (("classes", "311", "wait_s", "mean"), ("classes", "911", "wait_s", "p90")):
        xa = [r.measures[key] for r in results[0].replications]
        xb = [r.measures[key] for r in results[1].replications]
        _, plo, phi = paired_difference(xa, xb)
        ulo, uhi = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(0.95)  # as if independent
        assert phi < 0  # one more agent: shorter waits, and the paired interval is sure of it
        assert (phi - plo) < 0.6 * (uhi - ulo), (key, phi - plo, uhi - ulo)
    rows = comparison_rows(results, ["a", "b"])
    offered = next(r for r in rows if r["metric"] == "offered" and r["class"] == "911")
    assert offered["diff"] == 0 and offered["diff_ci_low"] == 0  # the very same callers


def test_compare_writes_csv_report_and_each_scenario(tmp_path) -> None:
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        str(REPO / "scenarios/dedicated-pools.yaml"),
        str(REPO / "scenarios/shared-pool.yaml"),
        "--replications",
        "3",
        "--out",
        str(out),
        "--jobs",
        "2",
    )
    assert result.exit_code == 0, result.output
    with (out / "comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:10] == [
        "metric",
        "class",
        "pool",
        "scenario_a",
        "scenario_b",
        "a_value",
        "b_value",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
    ]
    wait = next(r for r in rows if r["metric"] == "wait_s.mean" and r["class"] == "311")
    assert (wait["scenario_a"], wait["scenario_b"]) == ("dedicated-pools", "shared-pool")
    assert float(wait["diff_ci_low"]) <= float(wait["diff"]) <= float(wait["diff_ci_high"])
    assert math.isclose(float(wait["b_value"]) - float(wait["a_value"]), float(wait["diff"]), rel_tol=1e-9)
    html = (out / "report.html").read_text()
    assert "meets 911 90% within 15 s in" in html
    for name in ("dedicated-pools", "shared-pool"):
        assert json.loads((out / name / "summary.json").read_text())["meta"]["replications"] == 3
    assert (out / "service_level_by_hour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "B - A" in result.stdout


def test_compare_refuses_what_cannot_be_paired(write_scenario) -> None:
    a = write_scenario(name="a.yaml")
    result = invoke("compare", str(a))
    assert result.exit_code == 2 and "at least two scenario files" in result.output
    result = invoke("compare", str(a), str(a), "--replications", "1")
    assert result.exit_code == 2
    other = write_scenario(text=scenario_text().replace("'311'", "'admin'"), name="other.yaml")
    result = invoke("compare", str(a), str(other))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("cannot compare") and "call classes differ" in result.stderr


@pytest.mark.parametrize(
    ("other", "expected"),
    [({"horizon": "30d"}, "their horizons differ (2d vs 30d)"), ({"warmup": "0s"}, "their warm-ups differ (2h vs 0s)")],
)
def test_compare_refuses_different_runs_and_names_the_files(other: dict, expected: str, tmp_path: Path) -> None:
    a = write_file(tmp_path, scenario_text(), "a.yaml")
    b = write_file(tmp_path, scenario_text(**other), "b.yaml")
    result = invoke("compare", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 2
    assert result.stderr == f"cannot compare {a} and {b}: {expected}\n"


def test_compare_of_different_classes_names_the_files(tmp_path: Path) -> None:
    a = write_file(tmp_path, scenario_text(), "a.yaml")
    b = write_file(tmp_path, scenario_text().replace('"311"', '"312"').replace("'311'", "'312'"), "b.yaml")
    result = invoke("compare", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"cannot compare {a} and {b}: their call classes differ")


def test_compare_pairs_the_flows_either_scenario_uses_and_none_without() -> None:
    """A campaign that diverts every non-emergency caller: 911 transfers out none, paired against
    the plan without it; languages' service levels and transfer routes are rows too. Two plans
    without any flow have none of those rows."""
    from queueing.core.scenario_file import parse_scenario
    from tests.support.flows import SCENARIO

    text = SCENARIO.replace("horizon: 2h", "horizon: 8h")
    before = parse_scenario(text)
    after = parse_scenario(text.replace("triage_time: 30s}", "triage_time: 30s, diverted: 1}"))
    results = run_scenarios([before, after], LocalExecutor(1))
    rows = {(r["class"], r["metric"]): r for r in comparison_rows(results, ["before", "after"])}
    out = rows[("911", "transfers.out")]
    assert out["a_value"] > 0 and out["b_value"] == 0 and out["significant"]
    assert rows[("311", "diverted")]["b_value"] > 0
    assert ("911", "languages.es.service_level.15s") in rows
    assert ("311", "callbacks.accepted.share") in rows and ("911", "callbacks.accepted.share") not in rows
    assert ("", "transfers.911.311.wait_total_s.mean") in rows
    plain = [
        load_scenario(REPO / "scenarios" / "baseline.yaml"),
        load_scenario(REPO / "scenarios" / "shared-pool.yaml"),
    ]
    plain = [s.model_copy(update={"replications": 2, "horizon": 3600.0}) for s in plain]
    metrics = {r["metric"] for r in comparison_rows(run_scenarios(plain, LocalExecutor(1)), ["a", "b"])}
    assert not any(m.startswith(("transfers", "languages", "redials", "callbacks")) for m in metrics)
