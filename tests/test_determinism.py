"""Same seed, same files; processes do not matter; staffing does not change the callers."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from queueing.cli import main
from queueing.core.draws import draw_callers
from queueing.core.scenario_file import load_scenario


def _simulate(path, out, *extra: str) -> dict[str, bytes]:
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "--calls", "-q", *extra])
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_gives_identical_files(write_scenario, tmp_path) -> None:
    path = write_scenario(patience="5m", horizon="1d", replications=3)
    first = _simulate(path, tmp_path / "a", "--jobs", "1")
    second = _simulate(path, tmp_path / "b", "--jobs", "1")
    assert set(first) == {"summary.json", "intervals.csv", "hourly.csv", "calls.csv"}
    assert first == second


def test_jobs_do_not_change_results(write_scenario, tmp_path) -> None:
    path = write_scenario(patience="5m", horizon="1d", replications=4)
    assert _simulate(path, tmp_path / "j1", "--jobs", "1") == _simulate(path, tmp_path / "j2", "--jobs", "2")


def test_other_seed_gives_other_results(write_scenario, tmp_path) -> None:
    path = write_scenario(horizon="1d", replications=2)
    a = _simulate(path, tmp_path / "a")
    b = _simulate(path, tmp_path / "b", "--seed", "8")
    assert a["calls.csv"] != b["calls.csv"]


def test_more_agents_same_callers(write_scenario) -> None:
    """Common random numbers: arrivals, categories, handle times and patience do not depend on staffing."""
    few = load_scenario(write_scenario(agents=9, patience="3m", name="few.yaml"))
    many = load_scenario(write_scenario(agents=14, patience="3m", name="many.yaml"))
    for r in range(2):
        a, b = draw_callers(few, r), draw_callers(many, r)
        for column in ("cls", "category", "arrival_s", "queued_s", "handle_s", "patience_s"):
            np.testing.assert_array_equal(getattr(a, column), getattr(b, column))
    # ...and replications differ from each other.
    assert not np.array_equal(draw_callers(few, 0).arrival_s[:50], draw_callers(few, 1).arrival_s[:50])


def test_adding_a_class_leaves_other_classes_draws_alone(write_scenario) -> None:
    two = load_scenario(write_scenario(rates=(36, 96)))
    one_less = load_scenario(write_scenario(rates=(36, 0), name="b.yaml"))
    a, b = draw_callers(two, 0), draw_callers(one_less, 0)
    np.testing.assert_array_equal(a.arrival_s[a.cls == 0], b.arrival_s[b.cls == 0])
    np.testing.assert_array_equal(a.handle_s[a.cls == 0], b.handle_s[b.cls == 0])
