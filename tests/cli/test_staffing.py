"""The roster command end to end: files, progress, the same roster whatever --jobs, and its help."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.durations import DAY_S, HOUR_S
from queueing.core.scenario_file import load_scenario
from tests.support.scenarios import before_roster, two_pools_hourly

H = HOUR_S
# The shared two-pool centre on a 1-hour grid, 4 replications: a roster in seconds.
SMALL = two_pools_hourly().replace("replications: 8\n", "replications: 4\n", 1)


def _clock_s(text: str) -> float:
    h, m = text.split(":")
    return int(h) * H + int(m) * 60


@pytest.mark.slow
def test_roster_command_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "roster"
    result = CliRunner().invoke(main, ["roster", str(path), "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cover call-takers:" in result.stderr  # progress on stderr, the table on stdout
    assert result.stdout.startswith("Roster for small centre, two pools: shifts of 8h, 10h starting every 1h")
    assert "Targets: met in every interval" in result.stdout and "Lower bound:" in result.stdout
    assert result.stdout.rstrip().endswith(f"{out / 'roster.png'}")
    doc = json.loads((out / "roster.json").read_text())
    assert doc["targets_met"] is True and doc["paid_hours"] >= doc["lower_bound_hours"] > 0
    with (out / "roster.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(int(r["agents"]) * (_clock_s(r["end"]) - _clock_s(r["start"])) for r in rows) / H == doc["paid_hours"]
    assert sum(float(r["cost_per_day"]) for r in rows) == pytest.approx(doc["shifts_cost_per_day"])
    # roster.yaml is the same roster as roster.csv, and a scenario to simulate
    rostered = load_scenario(out / "roster.yaml")
    from_yaml = sorted(
        (pool.name, s.start % DAY_S, s.end - s.start, s.agents + (s.absent or 0), tuple(s.break_spans()))
        for pool in rostered.staffing.pools
        for s in pool.shift_list()
        if s.agents + (s.absent or 0)
    )
    from_csv = sorted(
        (
            r["pool"],
            _clock_s(r["start"]),
            _clock_s(r["end"]) - _clock_s(r["start"]),
            int(r["agents"]),
            tuple(
                (_clock_s(a) - _clock_s(r["start"]), _clock_s(b) - _clock_s(r["start"]))
                for a, b in (span.split("-") for span in r["breaks"].split(";") if span)
            ),
        )
        for r in rows
    )
    assert from_yaml == from_csv
    assert rostered.roster is not None and rostered.roster.shift_lengths == [8 * H, 10 * H]
    # the agents away are each shift's absent: the shrinkage share of the rostered, as checked
    for pool in rostered.staffing.pools:
        total = sum(s.agents + (s.absent or 0) for s in pool.shift_list())
        assert sum(s.absent or 0 for s in pool.shift_list()) == round(total * 0.12)
    assert not (out / "roster-present.yaml").exists()
    checked = CliRunner().invoke(main, ["validate", str(out / "roster.yaml")])
    assert checked.exit_code == 0, checked.output  # what roster writes passes its own validate
    written = {name: (out / name).read_bytes() for name in ("roster.yaml", "roster.csv")}
    again = CliRunner().invoke(main, ["roster", str(path), "--jobs", "1", "--out", str(out), "--quiet"])
    assert again.exit_code == 0 and again.output == ""
    # same seed, same roster, whatever the number of processes (the yaml headers name no --jobs)
    assert {name: (out / name).read_bytes() for name in written} == written
    assert json.loads((out / "roster.json").read_text())["paid_hours"] == doc["paid_hours"]


def test_roster_without_rules_is_one_line_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(before_roster(SMALL), encoding="utf-8")
    result = CliRunner().invoke(main, ["roster", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "no roster: section" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_roster_help_teaches_with_an_example() -> None:
    text = CliRunner().invoke(main, ["roster", "--help"]).output
    assert "shift_lengths: [8h30m, 10h30m]" in text and "breaks: [{length: 30m, earliest: 3h, latest: 5h}]" in text
    assert "ivr311 roster scenarios/baseline.yaml --jobs 2 --out results/roster" in text
    assert "ivr311 simulate results/roster/roster.yaml --seed 4242" in text
