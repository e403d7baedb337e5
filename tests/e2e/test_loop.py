"""The loop, end to end: a scenario's calls, as the model simulates them, walk the real
voice menu (`ivr311 callers --scenario`, the app in process at simulated times), the call log is
exported (`ivr311 calls export`) and calibrated (`ivr311 calibrate`); the calibrated scenario's
numbers must cover the original's within their 95% intervals, and its simulated waits agree.

Both halves are driven through the one console script, as a user would; the test imports only
what it measures with.
"""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner
from scipy.stats import chi2

from queueing import load_scenario, simulate
from queueing.cli import main
from queueing.core.scenario_file import with_overrides
from queueing.planning.calibrate import calibrate
from queueing.planning.calllog import read_call_log
from tests.support import REPO

BASELINE = REPO / "scenarios" / "baseline.yaml"
DAYS = 2
SEED = 17


def poisson_rate_interval(count: int, days: float) -> tuple[float, float]:
    """Exact 95% interval of a daily rate from `count` calls seen over `days`."""
    low = chi2.ppf(0.025, 2 * count) / 2 if count else 0.0
    high = chi2.ppf(0.975, 2 * count + 2) / 2
    return low / days, high / days


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("loop")
    db_url = f"sqlite:///{folder / 'log.sqlite3'}"
    runner = CliRunner()
    callers = runner.invoke(
        main,
        [
            "callers",
            "--scenario",
            str(BASELINE),
            "--days",
            str(DAYS),
            "--seed",
            str(SEED),
            "--start",
            "2026-11-02T00:00:00Z",
            "--database-url",
            db_url,
        ],
    )
    assert callers.exit_code == 0, callers.output
    export = runner.invoke(main, ["calls", "export", "--database-url", db_url, "--out", str(folder / "calls.csv")])
    assert export.exit_code == 0, export.output
    cli = runner.invoke(
        main, ["calibrate", str(folder / "calls.csv"), "--base", str(BASELINE), "--out", str(folder / "cal.yaml")]
    )
    assert cli.exit_code == 0, cli.output
    from_db = runner.invoke(
        main, ["calibrate", "--database-url", db_url, "--base", str(BASELINE), "--out", str(folder / "cal-db.yaml")]
    )
    assert from_db.exit_code == 0, from_db.output
    # the same numbers, read from the database (exported by `calls export` in a separate process)
    same = [(folder / name).read_text().split("\n", 2)[2] for name in ("cal.yaml", "cal-db.yaml")]
    assert same[0] == same[1]
    base = load_scenario(BASELINE)
    return base, calibrate(read_call_log(folder / "calls.csv"), base), load_scenario(folder / "cal.yaml")


@pytest.mark.slow
def test_arrival_rates_shares_handle_and_patience_come_back(loop):  # type: ignore[no-untyped-def]
    base, cal, _ = loop
    covered = total = 0
    for name in ("911", "311"):
        truth, est = base.classes[name], cal.classes[name]
        assert est.profile is not None and est.patience is not None and est.handle is not None
        low, high = poisson_rate_interval(est.profile.calls, est.profile.days)
        assert low <= sum(truth.arrivals.hourly_rates()) <= high, name
        patience_truth = truth.patience.mean
        assert est.patience.mean_low <= patience_truth <= est.patience.mean_high, name
        for category, fit in est.handle_by_category.items():
            total += 1
            covered += fit.mean_low <= truth.category_handle(category).mean_s <= fit.mean_high
    assert (
        cal.classes["911"].handle.mean_low
        <= base.classes["911"].handle_time.mean_s
        <= cal.classes["911"].handle.mean_high
    )
    mix = cal.classes["311"].mix
    assert mix is not None
    shares = {c: spec.share for c, spec in base.classes["311"].categories.items()}
    inside = sum(mix.low[c] <= shares[c] <= mix.high[c] for c in mix.shares if c in shares and c not in mix.merged)
    assert inside >= 0.8 * len([c for c in mix.shares if c in shares and c not in mix.merged])
    assert covered >= 0.8 * total


@pytest.mark.slow
def test_the_calibrated_centre_waits_like_the_original(loop):  # type: ignore[no-untyped-def]
    base, _, calibrated = loop
    original = simulate(with_overrides(base, replications=10, seed=5)).summary
    again = simulate(with_overrides(calibrated, replications=10, seed=5)).summary
    for name in ("911", "311"):
        a, b = original["classes"][name]["wait_s"]["mean"], again["classes"][name]["wait_s"]["mean"]
        # the two 95% intervals overlap: no difference the replications can tell
        assert a["ci95"][0] <= b["ci95"][1] and b["ci95"][0] <= a["ci95"][1], (name, a, b)
        assert math.isfinite(b["value"])
