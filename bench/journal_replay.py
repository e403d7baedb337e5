"""Journal replay speed: how fast a journal of N call-log writes drains into SQLite and into
PostgreSQL once the database is back (a benchmark, not a timed test).

The journal is made once, from real calls: simulated callers (`ivr.callers`) walk the real menu
of an app whose database cannot be opened, so every write they make is journaled, until there
are N. Then, for each database, a fresh empty one (a SQLite file; a database on a throwaway
PostgreSQL server, bench/pgcluster.py, which runs with fsync off), a copy of the journal, and
the recorder's replay timed (`Recorder.replay`, as the replay thread runs it): writes per
second, and the call log checked against the journal (every call there, nothing rejected).

    .venv/bin/python bench/journal_replay.py                       # 20,000 writes, both databases
    .venv/bin/python bench/journal_replay.py --ops 5000 --database sqlite
    .venv/bin/python bench/journal_replay.py --profile /tmp/replay  # pyinstrument, text and HTML
    .venv/bin/python bench/journal_replay.py --journal /tmp/j.jsonl  # made once, then reused
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.journal import Journal

CALLS_PER_ROUND = 200
DOWN = "sqlite:////proc/no/such/calls.sqlite3"  # cannot be opened: every write is journaled


def make_journal(folder: Path, ops: int) -> int:
    """A journal of `ops` writes (the last call's may be cut short) from simulated callers;
    returns the number of calls walked."""
    from ivr import create_app
    from ivr.callers import simulate_callers

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
    from ivr.recorder import Recorder
    from ivr.servicerequests import RequestStore

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


def load_pgcluster() -> Any:
    spec = importlib.util.spec_from_file_location("pgcluster", Path(__file__).with_name("pgcluster.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PgCluster()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20_000, help="call-log writes in the journal")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="replays per database (fresh each)")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="write a pyinstrument profile per replay")
    parser.add_argument(
        "--journal", type=Path, metavar="FILE", help="the journal to replay: made there if absent, reused if present"
    )
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
            cluster = load_pgcluster()
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        for database in databases:
            for n in range(args.repeat):
                copy = tmp / f"copy-{database}-{n}"
                shutil.copytree(tmp / "journal", copy)
                url = cluster.create_database() if database == "postgres" else f"sqlite:///{tmp / f'{database}-{n}.db'}"
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
    complete = all(
        r["replayed"] == r["ops"] and not (r["calls_missing"] or r["rejected"] or r["left_in_journal"]) for r in results
    )
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
