"""The results folder: the results contract, closed calls, and a folder replaced whole or left as it was."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from queueing import load_scenario
from queueing.cli import main
from tests.support import REPO
from tests.support.cli import invoke
from tests.support.scenarios import shared

HOURS = shared("office-hours")
H = 3600.0


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


def test_simulate_writes_closed_calls(tmp_path: Path) -> None:
    path = tmp_path / "hours.yaml"
    path.write_text(HOURS.replace("rate_per_hour: 1", "rate_per_hour: 30").replace("horizon: 1d", "horizon: 2d"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["simulate", str(path), "--out", str(out), "--calls", "-q", "--replications", "2"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    node = summary["classes"]["a"]
    assert node["closed"]["value"] > 0 and node["offered"]["value"] > 0
    with (out / "calls.csv").open() as f:
        calls = list(csv.DictReader(f))
    closed = [r for r in calls if r["outcome"] == "closed"]
    assert closed and all(r["queued_s"] == r["wait_s"] == r["agent"] == "" for r in closed)
    assert all(not 8 * H <= float(r["arrival_s"]) % 86400 < 16 * H for r in closed)
    assert sum(r["outcome"] != "closed" for r in calls) == pytest.approx(2 * node["offered"]["value"], abs=2 * 60)
    with (out / "intervals.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["closed"]) for r in rows) == len(closed)


def test_out_under_a_file_fails_up_front(tmp_path: Path, write_scenario) -> None:
    (tmp_path / "afile").write_text("x")
    start = time.perf_counter()
    result = invoke("simulate", str(write_scenario(horizon="30d")), "--out", str(tmp_path / "afile" / "sub"))
    assert time.perf_counter() - start < 2.0  # before the simulation, not after
    assert result.exit_code == 2
    assert result.stderr == f"--out {tmp_path / 'afile' / 'sub'}: {tmp_path / 'afile'} is a file, not a folder\n"


def test_out_folder_of_other_files_is_not_replaced(tmp_path: Path, write_scenario) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = invoke("simulate", str(write_scenario()), "--out", str(tmp_path / "mine"))
    assert result.exit_code == 2 and "holds files ivr311 did not write (notes.txt)" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_out_is_created_and_replaced_whole(tmp_path: Path, write_scenario) -> None:
    out = tmp_path / "new" / "deeper"
    path = write_scenario(horizon="4h", warmup="0s")
    assert invoke("simulate", str(path), "--out", str(out), "--calls", "-q").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".ivr311.json", "calls.csv", "hourly.csv", "intervals.csv", "summary.json"
    ]  # fmt: skip
    assert invoke("simulate", str(path), "--out", str(out), "-q").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".ivr311.json",
        "hourly.csv",
        "intervals.csv",
        "summary.json",
    ]  # no stale calls.csv
    assert [p.name for p in out.parent.iterdir()] == ["deeper"]  # no partial or old folder left


def _interrupt_while_writing(path: Path, out: Path, seed: int) -> subprocess.CompletedProcess:
    """Run simulate --calls in a subprocess and send SIGINT once it is writing its files."""
    cmd = [
        sys.executable,
        "-c",
        "from queueing.cli import main; main()",
        "simulate",
        str(path),
        "--calls",
        "--out",
        str(out),
        "--seed",
        str(seed),
        "-j",
        "1",
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in out.parent.glob(f".{out.name}.partial-*") if (p / "intervals.csv").exists()]
        if partial:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.002)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
def test_ctrl_c_while_writing_leaves_old_results_or_none(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="20d", warmup="0s", replications=2, rates=(360, 960), agents=60)
    out = tmp_path / "results"
    run = _interrupt_while_writing(path, out, seed=1)
    assert run.returncode != 0, run.stderr
    assert f"interrupted: {out} left as it was (nothing was written there)" in run.stderr
    assert not out.exists()
    # A complete run, then another seed interrupted: the folder is entirely the first run's.
    assert invoke("simulate", str(path), "--calls", "--out", str(out), "--seed", "1", "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    run = _interrupt_while_writing(path, out, seed=2)
    assert f"interrupted: {out} left as it was (its previous results are kept)" in run.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _with_file_size_limit(limit_bytes: int) -> None:
    """In the child: files may not grow past ``limit_bytes`` (a full disk, as far as writes see)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))


def test_a_full_disk_is_one_line_and_keeps_the_old_results(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="4h", warmup="0s", replications=2)
    out = tmp_path / "out"
    assert invoke("simulate", str(path), "--out", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cmd = [sys.executable, "-m", "queueing.cli", "simulate", str(path), "--out", str(out), "--calls", "-q"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, preexec_fn=lambda: _with_file_size_limit(64 * 1024), timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"--out {out}: cannot write the results (File too large); its previous results are kept\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial folder left


def test_a_run_longer_than_a_day_writes_daily_csv(write_scenario, tmp_path: Path) -> None:
    path = write_scenario(horizon="3d", warmup="1h", replications=2, patience="5m")
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces a folder holding daily.csv
        result = invoke("simulate", str(path), "--out", str(out), "--calls", "-q")
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".ivr311.json", "calls.csv", "daily.csv", "hourly.csv", "intervals.csv", "summary.json",
    ]  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["classes", "pools", "days", "weekdays", "meta"]
    assert [(d["day"], d["weekday"]) for d in summary["days"]] == [(0, "mon"), (1, "tue"), (2, "wed")]
    with (out / "daily.csv").open() as fh:
        daily = list(csv.DictReader(fh))
    assert list(daily[0]) == [
        "replication", "day", "weekday", "class", "arrivals", "offered", "answered", "abandoned", "wait_s_mean",
        "answered_within_15s", "answered_within_30s", "service_level_15s", "service_level_30s",
    ]  # fmt: skip
    assert len(daily) == 2 * 3 * 2  # replications x days x classes
    with (out / "calls.csv").open() as fh:
        calls = [r for r in csv.DictReader(fh) if float(r["arrival_s"]) >= H]  # after the warm-up
    for row in daily:
        mine = [
            c for c in calls
            if c["replication"] == row["replication"] and c["class"] == row["class"]
            and int(float(c["arrival_s"]) // 86400) == int(row["day"])
        ]  # fmt: skip
        assert int(row["arrivals"]) == len(mine)
        assert int(row["abandoned"]) == sum(c["outcome"] == "abandoned" for c in mine)


def test_shipped_scenarios_of_one_day_write_no_days(tmp_path: Path) -> None:
    """A run of one day writes what it always did: no days in summary.json, no daily.csv."""
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path)
        if scenario.horizon > 86400:
            continue
        out = tmp_path / path.stem
        assert invoke("simulate", str(path), "--out", str(out), "-q", "-r", "2").exit_code == 0
        assert sorted(p.name for p in out.iterdir()) == [".ivr311.json", "hourly.csv", "intervals.csv", "summary.json"]
        summary = json.loads((out / "summary.json").read_text())
        assert "days" not in summary and "weekdays" not in summary


# --- nothing another command wrote is replaced ---------------------------------------------------


def _roster_folder(folder: Path) -> dict[str, bytes]:
    """A folder of roster results, as `ivr311 roster` leaves it (its marker included)."""
    folder.mkdir(parents=True)
    (folder / "roster.yaml").write_text(HOURS, encoding="utf-8")
    (folder / "roster.csv").write_text("pool,start,end,breaks,agents,cost_per_day\n", encoding="utf-8")
    (folder / ".ivr311.json").write_text('{"command": "roster", "inputs": ["/x/office-hours.yaml"]}\n')
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_simulate_of_a_roster_yaml_keeps_the_rosters_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's next step after `roster --out results/roster`: simulate its roster.yaml
    monkeypatch.chdir(tmp_path)
    before = _roster_folder(Path("results/roster"))
    refused = invoke("simulate", "results/roster/roster.yaml", "--out", "results/roster", "-q")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "--out results/roster: holds the results of `ivr311 roster` (roster.csv, roster.yaml), which simulate "
        "would replace; choose another --out (e.g. results/roster-simulate)\n"
    )
    # without --out: a folder of its own, the roster's left as it was
    done = invoke("simulate", "results/roster/roster.yaml", "-q", "-r", "2")
    assert done.exit_code == 0, done.output
    assert {p.name: p.read_bytes() for p in Path("results/roster").iterdir()} == before
    assert sorted(p.name for p in Path("results").iterdir()) == ["roster", "roster-roster"]
    assert (Path("results/roster-roster") / "summary.json").exists()


def test_a_folder_from_before_the_marker_is_told_by_its_files(tmp_path: Path) -> None:
    out = tmp_path / "old"
    _roster_folder(out)
    (out / ".ivr311.json").unlink()
    refused = invoke("simulate", str(out / "roster.yaml"), "--out", str(out), "-q")
    assert refused.exit_code == 2 and "holds the results of `ivr311 roster`" in refused.stderr
    assert sorted(p.name for p in out.iterdir()) == ["roster.csv", "roster.yaml"]


def test_the_default_folder_is_one_per_input_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        Path(name).mkdir()
        Path(name, "staffing.yaml").write_text(HOURS.replace("agents: 1", f"agents: {1 + (name == 'b')}"))
    outs = []
    for path in ("a/staffing.yaml", "b/staffing.yaml", "a/staffing.yaml"):
        result = invoke("simulate", path, "-r", "2")
        assert result.exit_code == 0, result.output
        outs.append(result.stdout.splitlines()[-1].removeprefix("wrote ").split("/summary.json")[0])
    # two files never share a folder; the same file comes back to its own
    assert outs == ["results/staffing", "results/b-staffing", "results/staffing"]
    agents = [json.loads(Path(o, "summary.json").read_text())["pools"]["desk"]["agent_hours"]["value"] for o in outs]
    assert agents[0] == agents[2] != agents[1]


def test_a_number_json_cannot_hold_is_named_and_nothing_written() -> None:
    from queueing.errors import ScenarioError
    from queueing.output.files import json_text

    assert json_text({"a": [1, 2.5]}, "x.json") == '{\n  "a": [\n    1,\n    2.5\n  ]\n}\n'
    with pytest.raises(ScenarioError, match=r"^summary\.json: cost\.per_day\.value is inf, not a number"):
        json_text({"cost": {"per_day": {"value": float("inf")}}, "ok": 1.0}, "summary.json")
    with pytest.raises(ScenarioError, match=r"staffing\.json: targets\.1 is nan"):
        json_text({"targets": [0.5, float("nan")]}, "staffing.json")


def test_interval_lines_are_the_bytes_the_csv_module_writes_for_the_rows() -> None:
    import io

    import numpy as np

    from queueing.core.metrics import IntervalRows
    from queueing.output import files

    n = 3 * files.LINES_AT_A_TIME + 5  # several chunks, the last one short
    rng = np.random.default_rng(7)
    floats = rng.exponential(30.0, n) * rng.choice([1.0, 1e-7, 1e17], n)
    floats[::11] = np.nan
    floats[1::13] = -0.0
    floats[2::13] = 10.0
    floats[3::13] = 0.0  # beside -0.0: the same number, not the same cell
    rows = IntervalRows(
        3,
        ("replication", "interval_start_s", "class", "arrivals", "wait_s_mean"),
        ("911", 'non, "urgent"'),
        np.arange(n, dtype=np.int32) % 2,
        {
            "interval_start_s": np.arange(n) * 900.0,
            "arrivals": rng.integers(0, 10**6, n),
            "wait_s_mean": floats,
        },
    )
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(rows)
    assert "".join(files.interval_lines(rows)) == expected.getvalue()
    assert '"non, ""urgent"""' in expected.getvalue()  # a class name the csv module quotes
    assert expected.getvalue().split("\n")[0].endswith(",")  # row 0's NaN: an empty cell
