"""kill -9 of the whole server mid-load loses nothing a webhook answered.

gunicorn (2 workers) serves the app on loopback; 50 simulated callers walk whole calls, signed
(bench/webhook_latency.py's callers: greeting, emergency by key 1 and by speech, services,
operator, hold music, agent line, bridge, queue result `bridged`, status `completed`). Twice
during the load the master and its workers are killed at once (SIGKILL to the process group) and
gunicorn is started again on the same port; a webhook sent while it is down is simply not
answered. Each walk keeps which of its webhooks were answered 200 with TwiML: the ground truth.
Once the journal is drained, the export must hold every answered webhook, consistently.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ivr.journal import REJECTED, Journal
from ivr.store import CallStore
from tests.support import REPO


def _bench() -> ModuleType:
    """bench/webhook_latency.py (a script, not a package): its callers and server handling."""
    spec = importlib.util.spec_from_file_location("webhook_latency", REPO / "bench" / "webhook_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _bench()

CALLERS = 50
LOAD_S = 7.0
KILLS_AT_S = (2.0, 4.0)
WRITING_STEPS = frozenset(bench.STEPS) - {"agent"}  # /agent is the call-taker's call: no row


def problems_in_log(walks: list[Any], rows: dict[str, dict[str, Any]]) -> list[str]:
    """What the export gets wrong against what the walks were answered."""
    found = []
    for walk in walks:
        answered = {step for step, ok in walk.answered.items() if ok}
        row = rows.get(walk.sid)
        if row is None:
            if answered & WRITING_STEPS:
                found.append(f"{walk.sid} ({walk.kind}): no row, yet answered {sorted(answered)}")
            continue
        if walk.kind in bench.EMERGENCY_KINDS and "emergency" in answered and walk.queue != "911":
            found.append(f"{walk.sid} ({walk.kind}): the emergency step enqueued in {walk.queue}")
        if answered & {"route", "emergency", "wait"} and row["queue"] != walk.queue:
            found.append(f"{walk.sid} ({walk.kind}): queue {row['queue']}, enqueued in {walk.queue}")
        if "queue_result" in answered and (row["queue_result"] != "bridged" or row["answered_at"] is None):
            found.append(f"{walk.sid}: bridged answered, logged {row['queue_result']} answered_at {row['answered_at']}")
        if "status" in answered and row["status"] != "completed":
            found.append(f"{walk.sid}: completed answered, logged status {row['status']}")
    found.extend(
        f"{sid}: bridged without answered_at"
        for sid, row in rows.items()
        if row["queue_result"] == "bridged" and row["answered_at"] is None
    )
    return found


@pytest.mark.slow
def test_kill_9_of_master_and_workers_loses_no_answered_webhook(any_db_url: str, tmp_path: Path) -> None:
    port = bench.free_port()
    journal_dir = tmp_path / "journal"
    env = bench.app_env(port, any_db_url, journal_dir)
    log = tmp_path / "gunicorn.log"
    servers = [bench.Server("app:app", port, env, 2, log)]

    def crash_and_restart() -> None:
        servers[-1].kill()
        servers.append(bench.Server("app:app", port, env, 2, log))

    try:
        stats = bench.drive(port, CALLERS, LOAD_S, faults=[(at, crash_and_restart) for at in KILLS_AT_S])
        drained_s = bench.wait_journal_drained(servers[-1], timeout_s=60)
    finally:
        servers[-1].stop()
    assert drained_s is not None, "journal not drained within 60 s:\n" + log.read_text()[-4000:]
    assert len(servers) == 1 + len(KILLS_AT_S)
    assert stats.errors > 0, "no webhook went unanswered: the kills did not land mid-load"
    late = [s for s in stats.samples if s.step == "status" and s.answered and s.sent_s > KILLS_AT_S[-1]]
    assert late, "no call finished after the last restart"

    assert not Journal(journal_dir).pending()
    assert not (journal_dir / REJECTED).exists()
    store = CallStore(any_db_url, create=False)
    try:
        rows = {r["call_sid"]: r for r in store.export_rows()}
    finally:
        store.close()
    found = problems_in_log(stats.walks, rows)
    assert not found, f"{len(found)} problems in {len(stats.walks)} calls, e.g.:\n" + "\n".join(found[:15])
    # and the calls answered whole are there too (how many finish depends on the machine's speed:
    # a count here would be a timed test)
    finished = stats.finished_calls
    assert finished and all(rows[sid]["status"] == "completed" for sid in finished)
