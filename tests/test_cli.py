"""The planner's commands driven as a user would: real files in, files and a table out."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from click.testing import CliRunner

from helpers import REPO
from queueing.cli import main


def test_simulate_writes_the_results_contract(write_scenario, tmp_path) -> None:
    path = write_scenario(patience="5m", horizon="1d", warmup="1h", replications=3)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "--calls", "--interval", "1h"])
    assert result.exit_code == 0, result.output
    # The table: one row per class, targets with verdicts, pools with utilization.
    assert "911" in result.stdout and "311" in result.stdout
    assert "90% within 15s" in result.stdout and "call-takers" in result.stdout

    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"] == {
        "scenario": "test centre", "seed": 7, "replications": 3, "horizon_s": 86400.0,
        "warmup_s": 3600.0, "version": summary["meta"]["version"],
    }  # fmt: skip
    c911 = summary["classes"]["911"]
    for key in ("offered", "answered", "unserved"):
        assert set(c911[key]) == {"value", "ci95"}
    for stat in ("mean", "p50", "p90", "p95", "max"):
        lo, hi = c911["wait_s"][stat]["ci95"]
        assert lo <= c911["wait_s"][stat]["value"] <= hi
    assert 0 <= c911["abandoned"]["share"]["value"] <= 1
    (sl,) = c911["service_level"]
    assert sl["within_s"] == 15 and sl["target"] == 0.9 and isinstance(sl["met"], bool)
    assert 0 < summary["pools"]["call-takers"]["utilization"]["value"] < 1

    with (out / "calls.csv").open() as fh:
        calls = list(csv.DictReader(fh))
    assert list(calls[0]) == [
        "replication",
        "call_id",
        "class",
        "category",
        "arrival_s",
        "queued_s",
        "answered_s",
        "ended_s",
        "wait_s",
        "pool",
        "agent",
        "outcome",
    ]
    assert {r["outcome"] for r in calls} <= {"answered", "abandoned", "unserved"}
    answered = [r for r in calls if r["outcome"] == "answered"]
    assert all(r["pool"] == "call-takers" and float(r["answered_s"]) >= float(r["queued_s"]) for r in answered)
    # The summary's offered counts are the calls arriving after the warm-up.
    offered = sum(1 for r in calls if r["class"] == "911" and float(r["arrival_s"]) >= 3600)
    assert offered / 3 == c911["offered"]["value"]

    with (out / "intervals.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 24 * 2  # replications x hours x classes
    assert {"service_level_15s", "service_level_30s", "queue_len_mean", "agents_on_duty"} <= set(rows[0])
    assert all(float(r["agents_on_duty"]) == 10 for r in rows)
    assert sum(int(r["arrivals"]) for r in rows if r["class"] == "911") == sum(1 for r in calls if r["class"] == "911")


def test_help_teaches(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("simulate", "validate"):
        assert command in result.output
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert "Example" in result.output and "--replications" in result.output


def test_every_shipped_scenario_validates() -> None:
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    assert len(files) >= 4
    result = CliRunner().invoke(main, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(files)


def test_console_script_runs_and_reports_errors_without_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon: -1h\n")
    exe = [sys.executable, "-c", "from queueing.cli import main; main()"]
    proc = subprocess.run([*exe, "simulate", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0] == f"{bad}:2: horizon: must be a duration > 0"


def _modules_after(code: str) -> set[str]:
    """Every module name in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + "; import sys; print(' '.join(sorted(sys.modules)))"
    return set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
    )


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


SHARED = {"queueing", "queueing.errors", "queueing.yamlsafe"}  # all of queueing/ that ivr/ may load


def test_packages_do_not_import_each_other() -> None:
    """queueing/ knows SimPy, never Flask; ivr/ knows Flask, never SimPy (DESIGN.md). What ivr/
    may take from queueing/ is the shared YAML reader, queueing.yamlsafe, and the one user-error
    exception, queueing.errors (IvrError is a UserError); the voice app with its menu loads both."""
    loaded = {pkg: _modules_after(f"import {pkg}") for pkg in ("queueing", "ivr")}
    assert "flask" not in _top(loaded["queueing"]) and "ivr" not in _top(loaded["queueing"])
    assert "simpy" not in _top(loaded["ivr"]) and "numpy" not in _top(loaded["ivr"])
    assert {m for m in loaded["ivr"] if m.split(".")[0] == "queueing"} <= SHARED
    app = _modules_after("from ivr.menu import load_menu; from ivr import create_app; import ivr.cli")
    assert not _top(app) & {"simpy", "numpy"}
    assert {m for m in app if m.split(".")[0] == "queueing"} == SHARED


def test_the_shared_modules_import_no_model() -> None:
    """Importing queueing.yamlsafe runs queueing/__init__ (lazy) and the reader: PyYAML and the
    standard library, no SimPy, numpy, pydantic or any other module of the package; importing
    queueing.errors likewise runs only click besides."""
    loaded = _modules_after("import queueing.yamlsafe")
    assert not _top(loaded) & {"simpy", "numpy", "pydantic", "click", "flask", "ivr"}
    assert {m for m in loaded if m.split(".")[0] == "queueing"} == {"queueing", "queueing.yamlsafe"}
    # ... nor does the user-error exception ivr/ derives IvrError from (click besides).
    loaded = _modules_after("import queueing.errors")
    assert not _top(loaded) & {"simpy", "numpy", "pydantic", "flask", "ivr", "yaml"}
    assert {m for m in loaded if m.split(".")[0] == "queueing"} == {"queueing", "queueing.errors"}
    # ... while the public API is still there on first use.
    assert "simpy" in _top(_modules_after("from queueing import simulate"))


def test_progress_without_a_terminal_prints_a_line_every_few_seconds() -> None:
    import io

    from queueing.output.progress import Progress

    out = io.StringIO()  # not a terminal
    with Progress(4, "sweep: 2 points", file=out, every_s=0) as bar:
        bar.update(1)
        bar.add(2)  # staff queues another batch: one progress, a larger total
        for _ in range(5):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sweep: 2 points: 1/4 (25%), ETA ")
    assert lines[1].startswith("sweep: 2 points: 2/6 (33%), ETA ")
    assert lines[-1].startswith("sweep: 2 points: 6/6 (100%), done in ")
    quiet = io.StringIO()
    with Progress(3, "x", quiet=True, file=quiet, every_s=0) as bar:
        bar.update(3)
    assert quiet.getvalue() == ""
    slow = io.StringIO()
    with Progress(3, "x", file=slow) as bar:  # finished within the first few seconds: nothing to say
        bar.update(3)
    assert slow.getvalue() == ""


def test_hourly_csv_summarizes_intervals_across_replications(write_scenario, tmp_path) -> None:
    from collections import defaultdict

    import pytest

    out = tmp_path / "out"
    path = write_scenario(horizon="2d", warmup="2h", replications=3)
    result = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    with (out / "hourly.csv").open() as fh:
        hourly = list(csv.DictReader(fh))
    assert list(hourly[0])[:6] == ["hour", "clock", "class", "arrivals", "arrivals_ci_low", "arrivals_ci_high"]
    assert {r["clock"] for r in hourly if r["hour"] == "7"} == {"07:00-08:00"}
    assert len(hourly) == 24 * 2
    # Arrivals per day in each hour, recounted from intervals.csv (hours 0-1 of day 0 are warm-up).
    per_rep: dict[tuple[str, int, str], float] = defaultdict(float)
    with (out / "intervals.csv").open() as fh:
        for r in csv.DictReader(fh):
            start = float(r["interval_start_s"])
            if start >= 2 * 3600:
                per_rep[(r["class"], int(start % 86400 // 3600), r["replication"])] += float(r["arrivals"])
    for r in hourly:
        h = int(r["hour"])
        days = 1 if h < 2 else 2
        counts = [v / days for (c, hh, _), v in per_rep.items() if c == r["class"] and hh == h]
        assert float(r["arrivals"]) == pytest.approx(sum(counts) / len(counts))
        assert float(r["arrivals_ci_low"]) <= float(r["arrivals"]) <= float(r["arrivals_ci_high"])
