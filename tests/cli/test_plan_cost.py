"""One plan, one cost: what ``roster`` prints and writes as a roster's cost a day is what
``simulate`` of the roster.yaml it wrote gives, what ``compare`` writes for it and what the report
shows (queueing/core/cost.py defines it: every rostered agent paid, the ones away too, and the
overtime simulated); the agents present are a labelled part of it, never a second total."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from queueing.core.metric_names import format_money
from tests.support.cli import invoke
from tests.support.scenarios import two_pools_hourly

SMALL = two_pools_hourly().replace("replications: 8\n", "replications: 4\n", 1)


@pytest.fixture(scope="module")
def rostered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("plan")
    path = folder / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    result = invoke("roster", str(path), "--jobs", "2", "--out", str(folder / "roster"))
    assert result.exit_code == 0, result.output
    return folder, result.stdout


@pytest.mark.slow
def test_roster_simulate_and_compare_give_one_cost(rostered: tuple[Path, str]) -> None:
    folder, printed = rostered
    doc = json.loads((folder / "roster" / "roster.json").read_text())
    cost = doc["cost_per_day"]
    assert doc["absent_cost_per_day"] > 0  # shrinkage: agents away are paid
    headline = re.search(r"^Cost: (\$[\d,]+) a day", printed, re.M)
    assert headline and headline.group(1) == format_money(cost, "$")
    assert printed.count(" a day") == printed.count("Cost: ") + 0  # no second cost a day on the page
    # simulate the roster.yaml it wrote (same seed and replications: the roster's last simulation)
    sim = invoke("simulate", str(folder / "roster" / "roster.yaml"), "--out", str(folder / "sim"), "--report")
    assert sim.exit_code == 0, sim.output
    summary = json.loads((folder / "sim" / "summary.json").read_text())
    assert summary["cost"]["per_day"]["value"] == pytest.approx(cost, rel=1e-12)
    line = next(x for x in sim.stdout.splitlines() if x.startswith("cost a day"))
    assert line.split()[3] == format_money(cost, "$")
    # the agents present are a breakdown of that cost, adding up to it
    part = next(x for x in sim.stdout.splitlines() if x.strip().startswith("of which"))
    present, away = (float(m.replace(",", "")) for m in re.findall(r"\$([\d,]+)", part))
    assert present + away == round(cost)
    assert away == round(doc["absent_cost_per_day"]) or abs(away - doc["absent_cost_per_day"]) <= 1
    report = (folder / "sim" / "report.html").read_text()
    assert format_money(cost, "$") in report
    # compare: the roster against the scenario it was built from, on the roster's callers
    cmp = invoke(
        "compare", str(folder / "roster" / "roster.yaml"), str(folder / "small.yaml"), "--out", str(folder / "cmp")
    )
    assert cmp.exit_code == 0, cmp.output
    with (folder / "cmp" / "comparison.csv").open(newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["metric"] == "cost.per_day")
    assert float(row["a_value"]) == pytest.approx(cost, rel=1e-12)
    assert format_money(cost, "$") in (folder / "cmp" / "report.html").read_text()
