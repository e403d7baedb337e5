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


def _half_a_result(marker: str) -> None:
    """In a pool worker: write the start of a result message (its length and one byte of it) to
    the pool's result pipe, as a worker killed mid-write leaves it, then wait to be killed."""
    import os
    import struct
    import sys

    frame = sys._getframe()
    while frame.f_code.co_name != "_process_worker":
        frame = frame.f_back  # type: ignore[assignment]
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"\x80")
    Path(marker).touch()
    time.sleep(600)


def test_abort_ends_the_pool_thread_left_reading_half_a_result(tmp_path: Path) -> None:
    """A worker stopped while sending its result left the pool's manager thread reading forever,
    and interpreter exit joins that thread: a stopped ``roster`` hung after 'stopped by Ctrl-C'."""
    from concurrent.futures import ProcessPoolExecutor

    from queueing.core.runner import LocalExecutor, _worker_init

    executor = LocalExecutor(2)
    pool = executor._pool = ProcessPoolExecutor(max_workers=2, initializer=_worker_init)
    results = pool._result_queue  # type: ignore[attr-defined]
    marker = tmp_path / "written"
    pool.submit(_half_a_result, str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the worker never wrote"
    manager = pool._executor_manager_thread  # type: ignore[attr-defined]
    try:
        executor.abort()
        still_reading = manager.is_alive()
    finally:
        results._writer.close()  # so that a failure here does not hang this test process at exit
        manager.join(timeout=30)
    assert not still_reading


@pytest.mark.parametrize(("tasks", "processes"), [(30, 2), (8, 2), (9, 2), (3, 2), (1, 4), (100, 3), (0, 2)])
def test_chunks_keep_the_order_and_share_the_tasks_evenly(tasks: int, processes: int) -> None:
    from queueing.core.runner import CHUNKS_PER_PROCESS, balanced_chunks

    chunks = balanced_chunks(list(range(tasks)), processes)  # type: ignore[arg-type]
    assert [t for chunk in chunks for t in chunk] == list(range(tasks))
    assert len(chunks) == min(tasks, CHUNKS_PER_PROCESS * processes)
    sizes = [len(chunk) for chunk in chunks]
    assert sizes == sorted(sizes, reverse=True) and (not sizes or sizes[0] - sizes[-1] <= 1)
    # processes taking the next chunk as they finish, tasks costing alike: whatever each ran
    # differs by at most one task (30 on 2: 15 and 15; ceil-sized chunks gave 16 and 14)
    ran = [0] * processes
    for size in sizes:
        ran[ran.index(min(ran))] += size
    assert max(ran) - min(ran) <= 1


def test_a_worker_keeps_what_it_inherited_out_of_the_collector() -> None:
    """Full collections in a replication skip the modules and data a forked worker inherited."""
    from concurrent.futures import ProcessPoolExecutor

    from queueing.core.runner import _worker_init

    with ProcessPoolExecutor(max_workers=1, initializer=_worker_init) as pool:
        frozen = pool.submit(__import__("gc").get_freeze_count).result()
    assert frozen > 1000
