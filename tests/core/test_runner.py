"""Replications and executors: same seed same files, whatever the processes or Dask; results as tables."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from queueing import load_scenario, simulate
from tests.support.cli import invoke


def _simulate(path, out, *extra: str) -> dict[str, bytes]:
    result = invoke("simulate", str(path), "--out", str(out), "--calls", "-q", *extra)
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != ".ivr311.json"}  # results, not who


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


def test_jobs_are_capped_at_the_replications(write_scenario, tmp_path: Path, monkeypatch) -> None:
    from queueing.core import runner

    started = []
    monkeypatch.setattr(
        runner,
        "ProcessPoolExecutor",
        lambda max_workers, initializer: (
            started.append(max_workers) or (__import__("concurrent.futures").futures.ThreadPoolExecutor(max_workers))
        ),
    )
    path = write_scenario(horizon="2h", warmup="0s", replications=2)
    result = invoke("simulate", str(path), "--jobs", "10000", "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 0, result.output
    assert started == [2]


def test_dask_address_that_does_not_parse_fails_at_once(write_scenario) -> None:
    start = time.perf_counter()
    result = invoke("simulate", str(write_scenario()), "--dask", "not a url", "-q")
    assert time.perf_counter() - start < 2.0
    assert result.exit_code == 2
    assert result.stderr == "--dask 'not a url': expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786\n"


def test_unreachable_dask_is_one_line(write_scenario) -> None:
    result = invoke("simulate", str(write_scenario()), "--dask", "tcp://127.0.0.1:9", "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1


def test_dask_cluster_gives_the_same_files(write_scenario, tmp_path) -> None:
    from distributed import LocalCluster

    path = write_scenario(horizon="1d", replications=4, patience="4m")
    local = invoke("simulate", str(path), "--out", str(tmp_path / "local"), "--jobs", "1", "-q")
    assert local.exit_code == 0, local.output
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = invoke(
            "simulate", str(path), "--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address, "-q"
        )
    assert remote.exit_code == 0, remote.output
    for name in ("summary.json", "intervals.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()


def test_python_api_tables_to_pandas(write_scenario) -> None:
    scenario = load_scenario(write_scenario(horizon="6h", warmup="0s", replications=2, patience="3m"))
    result = simulate(scenario, keep_calls=True)
    calls = result.calls.to_pandas()
    intervals = result.intervals.to_pandas()
    assert len(calls) == sum(len(r.callers) for r in result.records())
    assert set(calls["outcome"]) <= {"answered", "abandoned", "unserved"}
    answered = calls[calls["outcome"] == "answered"]
    assert np.allclose(answered["wait_s"], answered["answered_s"] - answered["queued_s"])
    assert intervals.groupby("class")["arrivals"].sum().to_dict() == calls.groupby("class").size().to_dict()
    offered = result.summary["classes"]["911"]["offered"]["value"]
    assert offered == (calls["class"] == "911").sum() / 2
    with pytest.raises(ValueError, match="keep_calls"):
        simulate(scenario).calls  # noqa: B018
