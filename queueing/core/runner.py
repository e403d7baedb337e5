"""Replications and executors: run scenarios R times, in this process, a local process pool,
or a Dask distributed cluster.

Replication r draws its callers from streams keyed by (seed, r), so results do not depend on
which process or machine ran it, or in what order: ``--jobs 4`` and ``--dask tcp://…`` give the
same files as ``--jobs 1``. Work is always submitted as independent (scenario, replication)
tasks, so a sweep or a staffing search keeps every core busy.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import ScenarioError
from .draws import Callers, draw_callers
from .limits import DEFAULT_INTERVAL_S, Where, check_run, cost, named, workers_for
from .metrics import (
    IntervalRows,
    Key,
    daily_columns,
    interval_columns,
    replication_daily,
    replication_intervals,
    replication_measures,
    summarize,
)
from .model import simulate_replication
from .records import CallRecords, call_rows, calls_columns
from .scenario import Scenario
from .scenario_file import with_overrides
from .schedule import Schedule, build_schedule
from .statistics import load_t_quantile
from .targets import Judged, judge, language_intervals


def version() -> str:
    """The installed ivr311 version (recorded in every summary)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("ivr311")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication returns to the parent process (small unless calls are kept)."""

    replication: int
    measures: dict[Key, float]
    intervals: IntervalRows
    records: CallRecords | None
    # per interval, class and language, what its targets are judged on (targets.language_intervals):
    # the staff and roster searches judge a class's targets for each of its languages too
    by_language: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Task:
    """One replication of one scenario: the unit of work sent to a process or a Dask worker."""

    scenario: Scenario
    replication: int
    interval_s: float = DEFAULT_INTERVAL_S
    keep_calls: bool = False


LARGE_REPLICATION_CALLS = 100_000


def simulate_callers(scenario: Scenario, schedule: Schedule, callers: Callers, replication: int) -> CallRecords:
    """The records of replication ``replication``'s ``callers``: the routed model's when the scenario
    uses transfers, redials, callbacks or languages, else the fast model's."""
    if scenario.routed:
        from .routed_model import simulate_routed  # here: the fast model's runs never load it

        return simulate_routed(scenario, schedule, callers, replication)
    return simulate_replication(scenario, schedule, callers)


def run_task(task: Task) -> ReplicationResult:
    """Draw the callers of one replication, simulate (the routed model when the scenario uses
    transfers, redials, callbacks or languages, else the fast one), and measure; the schedule is
    built once for all three."""
    scenario = task.scenario
    schedule = build_schedule(scenario)
    callers = draw_callers(scenario, task.replication)
    records = simulate_callers(scenario, schedule, callers, task.replication)
    if len(callers) >= LARGE_REPLICATION_CALLS:
        # The model's processes and events hold each other in cycles: freed now, before the
        # measures need room, not at some later collection (9 MB less at the peak of a 1M-call
        # replication). A full collection costs tens of ms: worth it on large replications only.
        gc.collect()
    measures = replication_measures(scenario, schedule, records)
    records.forget_waits()
    return ReplicationResult(
        replication=task.replication,
        measures=measures,
        intervals=replication_intervals(scenario, schedule, records, task.replication, task.interval_s),
        records=records if task.keep_calls else None,
        by_language=language_intervals(scenario, records, task.interval_s),
    )


def run_tasks(tasks: list[Task]) -> list[ReplicationResult]:
    """Several tasks in one call (one message to and from a worker process)."""
    return [run_task(t) for t in tasks]


CHUNKS_PER_PROCESS = 4


def balanced_chunks(tasks: Sequence[Task], processes: int) -> list[list[Task]]:
    """``tasks`` in order, cut into :data:`CHUNKS_PER_PROCESS` chunks per process (fewer, larger
    messages than one per replication, still enough to balance the load) whose sizes differ by
    at most one task, the larger first: processes taking chunks as they finish then run as many
    tasks each when tasks cost alike. (Chunks of the rounded-up size leave the remainder to one
    short last chunk: 30 replications on 2 processes were 7 chunks of 4 and one of 2, and one
    process ran 16 replications while the other ran 14.) Each replication is computed alone as ever.
    """
    count = min(len(tasks), CHUNKS_PER_PROCESS * processes)
    if count == 0:
        return []
    size, larger = divmod(len(tasks), count)
    out: list[list[Task]] = []
    start = 0
    for k in range(count):
        end = start + size + (k < larger)
        out.append(list(tasks[start:end]))
        start = end
    return out


@dataclass(frozen=True)
class Table:
    """Rows with named columns, as written to CSV; ``to_pandas()`` for notebooks."""

    columns: list[str]
    _rows: Callable[[], Iterator[tuple[Any, ...]]]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        return self._rows()

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the table (needs the ``analysis`` extra: pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install 'ivr311[analysis]'") from None
        return pd.DataFrame.from_records(list(self.rows()), columns=self.columns)


@dataclass
class SimulationResult:
    """Everything a run produced: ``summary`` (dict, the summary.json document), ``intervals``,
    ``daily`` and ``calls`` (tables, ``.to_pandas()``), and the per-replication results."""

    scenario: Scenario
    replications: list[ReplicationResult]
    interval_s: float

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The summary.json document (computed on first use: a staffing search never needs most)."""
        return summarize(self.scenario, [r.measures for r in self.replications], version(), self.judged)

    @cached_property
    def judged(self) -> list[Judged]:
        """Every target judged over its windows (:mod:`queueing.core.targets`): what summary.json's
        ``met``, the report's verdicts and compare's sentence count."""
        return judge(self.scenario, [r.intervals for r in self.replications], self.interval_s)

    @property
    def intervals(self) -> Table:
        """intervals.csv: per replication, interval and class."""
        return Table(interval_columns(self.scenario), lambda: (row for r in self.replications for row in r.intervals))

    @property
    def daily(self) -> Table:
        """daily.csv: per replication, day and class (no rows for a run of one day)."""
        scenario, reps = self.scenario, self.replications
        return Table(
            daily_columns(scenario),
            lambda: (row for r in reps for row in replication_daily(scenario, r.replication, r.measures)),
        )

    @property
    def calls(self) -> Table:
        """calls.csv: one row per call (only when simulated with ``keep_calls=True``)."""
        runs = list(zip((r.replication for r in self.replications), self.records(), strict=True))
        return Table(calls_columns(self.scenario), lambda: call_rows(self.scenario, runs))

    def records(self) -> list[CallRecords]:
        """Each replication's call records (only with ``keep_calls=True``)."""
        out = [r.records for r in self.replications]
        if any(rec is None for rec in out):
            raise ValueError("calls were not kept: simulate(..., keep_calls=True) or --calls")
        return out  # type: ignore[return-value]


class Executor(Protocol):
    """Runs tasks somewhere; returns results in task order whatever the completion order."""

    def map(self, tasks: Sequence[Task], on_done: Callable[[], None] | None = None) -> list[ReplicationResult]: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP while worker processes are forked: a forked worker inherits
    the held mask and the parent's handlers, and a Ctrl-C reaching it before :func:`_worker_init`
    ignores it raised KeyboardInterrupt in the worker (a broken pool and a traceback instead of one
    line). The parent takes a signal that came meanwhile as soon as the forks are done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _worker_init() -> None:
    """Set up a worker process: the parent decides what an interrupt means.

    Ctrl-C reaches every process of the terminal's group; a worker ignores it, so the parent
    alone stops the run, says so once and cleans up (no traceback per worker). On Linux a
    worker is also killed when its parent dies, however it dies (SIGKILL included), so no
    worker outlives the command that started it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What a forked worker inherits (modules, the parent's data: some 40,000 objects) lives as long
    # as the worker: out of the collector's generations, each full collection of a replication
    # (run_task's own, and those the model's allocations set off) no longer walks it.
    gc.freeze()
    # A forked worker inherits the parent's handlers; SIGTERM (the parent's abort) must kill it.
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # held by the parent while it forked (_stop_signals_held)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() == 1:  # the parent died before the line above: nobody waits for us
            os._exit(1)


class LocalExecutor:
    """``jobs`` local processes (one: run in this process). The pool lives until ``close()``,
    so a staffing search pays the start-up of its workers once. ``abort()`` stops it at once:
    queued work is cancelled and the workers are terminated (an interrupted command)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or default_jobs()
        self._pool: ProcessPoolExecutor | None = None

    def map(self, tasks: Sequence[Task], on_done: Callable[[], None] | None = None) -> list[ReplicationResult]:
        if self.jobs <= 1 or len(tasks) <= 1:
            out = []
            for task in tasks:
                out.append(run_task(task))
                if on_done:
                    on_done()
            return out
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_worker_init)
        chunks = balanced_chunks(tasks, self.jobs)
        with _stop_signals_held():  # the first submit forks the workers
            futures = {self._pool.submit(run_tasks, chunk): k for k, chunk in enumerate(chunks)}
            # Idle until the first result: the intervals of the summary that follows need scipy.
            # After the forks, so that no worker inherits an import in progress; with the signals
            # still held, because the import starts a thread (scipy's BLAS) that would inherit an
            # open mask: a SIGTERM taken by it was seen to go unanswered (a stopped run ran to its end).
            load_t_quantile()
        results: list[Any] = [None] * len(chunks)
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if on_done:
                for _ in results[futures[fut]]:
                    on_done()
        return [r for chunk in results for r in chunk]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def abort(self) -> None:
        """Stop now: cancel what has not started and terminate the workers (their replications
        are lost; an interrupted command writes nothing)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor has no public way to stop running work before Python 3.14
        # (terminate_workers); its process table is the documented-by-source way to do it.
        processes = list(getattr(pool, "_processes", {}).values())
        results = getattr(pool, "_result_queue", None)
        manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets both
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)
                if process.is_alive():  # one that cannot take SIGTERM (still forking): SIGKILL
                    process.kill()
                    process.join(timeout=5)
        # A worker killed while writing its result leaves half a message in the result pipe, and the
        # manager thread reads on for the rest; interpreter exit joins that thread without a bound,
        # so a stopped command hung after its one-line message. With every worker gone this
        # process holds the pipe's last write end: closing it puts the read at end of file, which
        # the thread takes for a broken pool, and it ends.
        if results is not None:
            with contextlib.suppress(Exception):
                results._writer.close()
        # Let the pool's manager thread wind down (bounded): at exit concurrent.futures wakes each
        # manager thread still registered, and one closing its pipe at that moment made CPython
        # 3.11 print an atexit traceback ("Bad file descriptor") after the one-line stop message.
        if manager is not None:
            with contextlib.suppress(Exception):
                manager.join(timeout=5)


DASK_SCHEMES = ("tcp", "tls")


def dask_address(address: str) -> tuple[str, str, int]:
    """``tcp://HOST:PORT`` (or ``HOST:PORT``, or ``tls://``) as (scheme, host, port); ScenarioError otherwise."""
    text = address.strip()
    hint = f"--dask {address!r}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786"
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname
    bad_host = not host or any(ch.isspace() for ch in host)
    if parts.scheme not in DASK_SCHEMES or bad_host or port is None or parts.path not in ("", "/") or parts.query:
        raise ScenarioError(hint)
    return parts.scheme, str(host), port


class DaskExecutor:
    """Tasks on a Dask distributed cluster (``dask scheduler`` + ``dask worker``); workers need
    ivr311 installed. Results are identical to local runs.

    The address is parsed and the scheduler's port reached (``connect_s``) before a Client is made,
    so a typo or a scheduler that is down is one line within seconds, not a hang."""

    def __init__(self, address: str, timeout_s: float = 5.0, connect_s: float = 3.0) -> None:
        scheme, host, port = dask_address(address)
        try:
            socket.create_connection((host, port), timeout=connect_s).close()
        except OSError as exc:
            reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            raise ScenarioError(
                f"cannot reach the Dask scheduler at {address} within {connect_s:g} s ({reason})"
            ) from None
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - the dask extra is part of make install
            raise ScenarioError("--dask needs the dask extra: pip install 'ivr311[dask]'") from None
        try:
            self._client = Client(f"{scheme}://{host}:{port}", timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def map(self, tasks: Sequence[Task], on_done: Callable[[], None] | None = None) -> list[ReplicationResult]:
        futures = self._client.map(run_task, list(tasks), pure=False)
        results = []
        for future in futures:  # in task order; the cluster works on all of them meanwhile
            results.append(future.result())
            if on_done:
                on_done()
        return results

    def close(self) -> None:
        self._client.close()

    def abort(self) -> None:
        """Stop now: the cluster's work for this client is cancelled when the client closes."""
        self._client.close()


def make_executor(jobs: int | None = None, dask: str | None = None) -> Executor:
    """A Dask executor when ``dask`` names a scheduler address, else a local one."""
    return DaskExecutor(dask) if dask else LocalExecutor(jobs)


@contextmanager
def executor_for(
    scenarios: Sequence[Scenario],
    interval_s: float = DEFAULT_INTERVAL_S,
    *,
    jobs: int | None = None,
    dask: str | None = None,
    keep_calls: bool = False,
    executor: Executor | None = None,
    large: bool = False,
    where: Sequence[Where] | None = None,
) -> Iterator[Executor]:
    """The executor to run these scenarios on, once they pass the size limits (:mod:`.limits`;
    ``large`` lifts the soft ones; a message names a field by ``where``, one per scenario, default
    the scenario's name), closed on exit: ``executor`` when given (left open: its owner closes
    it), else Dask when ``dask`` names a scheduler, else local processes, no more than there are
    replications to run nor than this machine's memory holds (whatever ``jobs`` says; None: all
    cores)."""
    local = not dask and (executor is None or isinstance(executor, LocalExecutor))
    runs = list(zip(scenarios, where or [named(s) for s in scenarios], strict=True))
    check_run(runs, interval_s=interval_s, keep_calls=keep_calls, large=large, local=local)
    if executor is not None:
        yield executor
        return
    if dask:
        own = make_executor(None, dask)
    else:
        tasks = sum(s.replications for s in scenarios)
        worker = max(cost(s, interval_s, keep_calls).worker_bytes for s in scenarios)
        own = make_executor(workers_for(jobs or default_jobs(), tasks, worker))
    try:
        yield own
    except BaseException:
        own.abort()
        raise
    own.close()


def run_scenarios(
    scenarios: Sequence[Scenario],
    executor: Executor,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    keep_calls: bool = False,
    on_done: Callable[[], None] | None = None,
) -> list[SimulationResult]:
    """Every replication of every scenario as one batch of tasks; one result per scenario."""
    tasks = [Task(s, r, interval_s, keep_calls) for s in scenarios for r in range(s.replications)]
    done = iter(executor.map(tasks, on_done))
    return [
        SimulationResult(scenario=s, replications=[next(done) for _ in range(s.replications)], interval_s=interval_s)
        for s in scenarios
    ]


def simulate(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int | None = 1,
    dask: str | None = None,
    executor: Executor | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
    keep_calls: bool = False,
    large: bool = False,
    on_done: Callable[[], None] | None = None,
) -> SimulationResult:
    """``ivr311 simulate``: every replication of ``scenario``, run on ``executor``, else Dask at
    ``dask``, else ``jobs`` local processes (None: all cores; the default is 1, in this process).
    ``replications`` and ``seed`` override the scenario's; ``large`` lifts the soft size limits.

    ``on_done()`` is called in this process as each replication finishes (progress bars).
    """
    scenario = with_overrides(scenario, replications=replications, seed=seed)
    with executor_for(
        [scenario], interval_s, jobs=jobs, dask=dask, keep_calls=keep_calls, executor=executor, large=large
    ) as ex:  # fmt: skip
        (result,) = run_scenarios([scenario], ex, interval_s=interval_s, keep_calls=keep_calls, on_done=on_done)
    return result


def total_tasks(scenarios: Iterable[Scenario]) -> int:
    """How many replications a batch of scenarios is (for progress bars)."""
    return sum(s.replications for s in scenarios)
