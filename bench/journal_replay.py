"""Journal replay speed: how fast a journal of N call-log writes drains into SQLite and into
PostgreSQL once the database is back (a benchmark, not a timed test).

The journal is made once, from real calls: simulated callers (`ivr.tools.callers`) walk the real menu
of an app whose database cannot be opened, so every write they make is journaled, until there
are N. Then, for each database, a fresh empty one (a SQLite file; a database on a throwaway
PostgreSQL server, bench/pgcluster.py, which runs with fsync off), a copy of the journal, and
the recorder's replay timed (`Recorder.replay`, as the replay thread runs it): writes per
second, and the call log checked against the journal (every call there, nothing rejected).

With `--app-load CALLERS`, the replay is measured where it happens after an outage instead: the
voice app under gunicorn (2 workers, bench/webhook_latency.py's server and callers) starts with
the journal waiting and replays it while CALLERS simulated callers call: seconds until /healthz
says `journal_pending` 0, and webhook latency (every webhook, and the emergency answer) while
the journal drains against after it.

    .venv/bin/python bench/journal_replay.py                       # 20,000 writes, both databases
    .venv/bin/python bench/journal_replay.py --ops 5000 --database sqlite
    .venv/bin/python bench/journal_replay.py --profile /tmp/replay  # pyinstrument, text and HTML
    .venv/bin/python bench/journal_replay.py --journal /tmp/j.jsonl  # made once, then reused
    .venv/bin/python bench/journal_replay.py --database postgres --app-load 10 --think-ms 50
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.calllog.journal import Journal

CALLS_PER_ROUND = 200
DOWN = "sqlite:////proc/no/such/calls.sqlite3"  # cannot be opened: every write is journaled


def make_journal(folder: Path, ops: int) -> int:
    """A journal of `ops` writes (the last call's may be cut short) from simulated callers;
    returns the number of calls walked."""
    from ivr import create_app
    from ivr.tools.callers import simulate_callers

    app = create_app(
        {
            "twilio_auth_token": "bench-journal-token",
            "public_base_url": "https://ivr311.example.test",
            "database_url": DOWN,
            "caller_hash_key": "bench-journal-caller-hash-key",
            "journal_dir": folder,
            "store_budget_ms": 50,
        }
    )
    journal: Journal = app.extensions["ivr311.recorder"].journal
    start, calls, seed = datetime(2026, 11, 28, 9, 0, tzinfo=UTC), 0, 1
    while journal.count() < ops:
        start = simulate_callers(app, count=CALLS_PER_ROUND, rate_per_hour=3600, seed=seed, start=start)
        calls, seed = calls + CALLS_PER_ROUND, seed + 1
    app.extensions["ivr311.recorder"].close()
    lines: list[bytes] = []
    for path in journal.files():
        lines += [line for line in path.read_bytes().splitlines(keepends=True) if line.strip()]
        path.unlink()
    (folder / "journal.jsonl").write_bytes(b"".join(lines[:ops]))
    return calls


def replay_into(url: str, journal_copy: Path, profile: Path | None) -> dict[str, Any]:
    """Replay the journal at `journal_copy` into the empty database `url`; timings and checks."""
    from ivr.calllog.recorder import Recorder
    from ivr.calllog.servicerequests import RequestStore

    journal = Journal(journal_copy)
    ops = journal.count()
    entries, _ = journal.read(journal_copy / "journal.jsonl")
    sids = {op.args["ev"]["call_sid"] if "ev" in op.args else op.args["call_sid"] for op in entries}
    store = RequestStore(url)  # the tables made before the clock starts, as at app start
    recorder = Recorder(store, journal, retry_s=3600)
    profiler: Any = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    started = time.perf_counter()
    # profiled: the store thread's work run on this thread, which is the one pyinstrument sees
    replayed = recorder._replay_now() if profiler is not None else recorder.replay(wait_s=None)
    elapsed_s = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        assert profile is not None
        profile.with_suffix(".html").write_text(profiler.output_html())
        profile.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False))
    recorder.close()
    logged = {row["call_sid"] for row in store.export_rows()}
    store.close()
    return {
        "ops": ops,
        "replayed": replayed,
        "seconds": round(elapsed_s, 3),
        "ops_per_s": round(replayed / elapsed_s),
        "calls_missing": len(sids - logged),
        "rejected": (journal_copy / "rejected.jsonl").exists(),
        "left_in_journal": journal.count(),
    }


def load_bench(name: str) -> Any:
    """A sibling bench module, imported by path (bench/ is scripts, not on sys.path)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def drain_under_load(url: str, journal_copy: Path, callers: int, think_s: float, duration_s: float) -> dict[str, Any]:
    """The app started with the journal at `journal_copy` waiting, under `callers` callers for
    `duration_s`: when the journal drained (seconds since the app answered), and the latencies."""
    wl = load_bench("webhook_latency")
    ops = Journal(journal_copy).count()
    port = wl.free_port()
    log = journal_copy.with_suffix(".log")
    server = wl.Server("app:app", port, wl.app_env(port, url, journal_copy), 2, log)
    started = time.monotonic()
    drained: list[float | None] = []
    watcher = threading.Thread(target=lambda: drained.append(wl.wait_journal_drained(server, 600.0, 0.25)))
    watcher.start()
    try:
        stats = wl.drive(port, callers, duration_s, think_s)
        watcher.join()
    finally:
        server.stop()
    drained_s = drained[0]
    load_from = stats.started - started

    def latencies(emergency: bool, during: bool) -> dict[str, float | int]:
        picked = [
            s.latency_s
            for s in stats.samples
            if s.answered
            and (not emergency or s.step == "emergency")
            and (drained_s is None or load_from + s.sent_s < drained_s) == during
        ]
        p50, p99 = wl.quantiles_ms(picked)
        return {"requests": len(picked), "p50_ms": p50, "p99_ms": p99}

    return {
        "ops": ops,
        "replayed": wl.replayed_writes(log),
        "drained_s": None if drained_s is None else round(drained_s, 1),
        "drained_under_load": drained_s is not None and drained_s < load_from + stats.elapsed_s,
        "requests_per_s": round(len(stats.samples) / stats.elapsed_s),
        "errors": stats.errors,
        "during": {"all": latencies(False, True), "emergency": latencies(True, True)},
        "after": {"all": latencies(False, False), "emergency": latencies(True, False)},
    }


def print_drain(database: str, row: dict[str, Any]) -> None:
    drained = "not in time" if row["drained_s"] is None else f"{row['drained_s']} s after the app started"
    if row["drained_s"] is not None and not row["drained_under_load"]:
        drained += ", once the load had stopped"
    print(
        f"{database}: {row['ops']} writes waiting, drained {drained}; "
        f"{row['requests_per_s']} req/s, {row['errors']} errors"
    )
    for phase in ("during", "after"):
        for path in ("all", "emergency"):
            q = row[phase][path]
            print(
                f"  {phase:<6} the drain, {path:<9} {q['requests']:>6} webhooks  "
                f"p50 {q['p50_ms']:>8} ms  p99 {q['p99_ms']:>8} ms"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20_000, help="call-log writes in the journal")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="replays per database (fresh each)")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="write a pyinstrument profile per replay")
    parser.add_argument(
        "--journal", type=Path, metavar="FILE", help="the journal to replay: made there if absent, reused if present"
    )
    parser.add_argument(
        "--app-load", type=int, metavar="CALLERS", help="replay in the app under gunicorn while CALLERS callers call"
    )
    parser.add_argument("--think-ms", type=float, default=50.0, help="with --app-load: mean pause between webhooks")
    parser.add_argument("--duration", type=float, default=60.0, help="with --app-load: seconds of calls")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ivr311-replay-"))
    cluster = None
    results: list[dict[str, Any]] = []
    try:
        if args.journal and args.journal.exists():
            (tmp / "journal").mkdir()
            shutil.copyfile(args.journal, tmp / "journal" / "journal.jsonl")
            print(f"journal: {Journal(tmp / 'journal').count()} writes from {args.journal}")
        else:
            t0 = time.perf_counter()
            calls = make_journal(tmp / "journal", args.ops)
            print(f"journal: {args.ops} writes from {calls} simulated calls, made in {time.perf_counter() - t0:.1f} s")
            if args.journal:
                shutil.copyfile(tmp / "journal" / "journal.jsonl", args.journal)
        databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
        if "postgres" in databases:
            cluster = load_bench("pgcluster").PgCluster()
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        for database in databases:
            for n in range(args.repeat):
                copy = tmp / f"copy-{database}-{n}"
                shutil.copytree(tmp / "journal", copy)
                url = cluster.create_database() if database == "postgres" else f"sqlite:///{tmp / f'{database}-{n}.db'}"
                if args.app_load:
                    row = drain_under_load(url, copy, args.app_load, args.think_ms / 1000, args.duration)
                    results.append({"database": database, **row})
                    print_drain(database, row)
                    continue
                profile = args.profile / f"replay-{database}-{n}" if args.profile else None
                row = {"database": database, **replay_into(url, copy, profile)}
                results.append(row)
                print(
                    f"{database:<9} {row['replayed']:>7} writes in {row['seconds']:>7.2f} s = "
                    f"{row['ops_per_s']:>6} writes/s; calls missing {row['calls_missing']}, "
                    f"rejected {row['rejected']}, left {row['left_in_journal']}"
                )
    finally:
        if cluster is not None:
            cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}))
    if args.app_load:
        return 0 if all(r["drained_s"] is not None and not r["errors"] for r in results) else 1
    complete = all(
        r["replayed"] == r["ops"] and not (r["calls_missing"] or r["rejected"] or r["left_in_journal"]) for r in results
    )
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
