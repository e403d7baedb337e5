"""The durable journal and its replay: order kept, many writers, torn lines kept aside (and never
joined by the next entry), a replay that fails part-way resumes where it stopped, nothing
applied twice, nothing lost; under live writes the journal empties, holding writers only for a
short last pass and sending them to the database after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.calllog.journal import REJECTED, Journal, Op, decode_op, encode_op
from ivr.calllog.recorder import Recorder
from ivr.calllog.store import CallStore
from tests.ivr.workers import run_as_workers

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_op_round_trip_keeps_times_and_nesting():
    op = Op("record_step", {"ev": {"call_sid": "CA1", "step": 2, "confidence": 0.5}, "enqueue": None, "now": T0})
    assert decode_op(encode_op(op)) == op


def _append_many(folder: str, worker: int) -> None:
    journal = Journal(folder)
    for i in range(150):
        journal.append(
            Op("start_call", {"call_sid": f"CA{worker}-{i}", "caller_hash": None, "language": "en", "now": T0})
        )


def test_many_processes_append_whole_lines(tmp_path):
    """What gunicorn workers do during an outage: every line whole, none lost."""
    run_as_workers(_append_many, [(str(tmp_path), w) for w in range(4)])
    journal = Journal(tmp_path)
    with journal.claim() as claimed:
        assert claimed is not None
        ops = [op for path in claimed for op in journal.read(path)[0]]
        assert not any(journal.read(path)[1] for path in claimed)
    assert len(ops) == 600
    for w in range(4):  # each writer's order is kept
        mine = [op.args["call_sid"] for op in ops if op.args["call_sid"].startswith(f"CA{w}-")]
        assert mine == [f"CA{w}-{i}" for i in range(150)]


def test_only_one_replayer_at_a_time(tmp_path):
    journal = Journal(tmp_path)
    journal.append(Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en"}))
    with journal.claim() as first, Journal(tmp_path).claim() as second:
        assert first and second is None


def recorder_for(tmp_path: Path) -> Recorder:
    store = CallStore(f"sqlite:///{tmp_path / 'calls.sqlite3'}")
    return Recorder(store, Journal(tmp_path / "journal"), retry_s=60)


def test_torn_line_is_kept_aside_and_the_rest_replayed(tmp_path):
    recorder = recorder_for(tmp_path)
    journal = recorder.journal
    journal.append(Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en", "now": T0}))
    with (journal.folder / "journal.jsonl").open("ab") as f:
        f.write(b'{"op":"start_call","args":{"call_sid":"CA')  # a power cut mid-write
        f.write(b"\n")
    journal.append(
        Op("mark_enqueued", {"call_sid": "CA2", "queue": "911", "category": None, "language": "es", "now": T0})
    )
    assert recorder.replay() == 2
    assert not journal.pending()
    assert (journal.folder / REJECTED).read_bytes().startswith(b'{"op":"start_call"')
    assert recorder.store.call("CA1") is not None
    assert recorder.store.waiting_counts() == {"911": 1}


def test_an_entry_after_a_torn_tail_starts_a_line_of_its_own(tmp_path):
    """A power cut left half an entry without its newline: the next entry must not join it
    (both would be lost in one undecodable line); the torn part alone is kept aside."""
    recorder = recorder_for(tmp_path)
    journal = recorder.journal
    journal.append(Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en", "now": T0}))
    with (journal.folder / "journal.jsonl").open("ab") as f:
        f.write(b'{"op":"start_call","args":{"call_sid":"CA')  # no newline: cut mid-write
    journal.append(Op("start_call", {"call_sid": "CA2", "caller_hash": None, "language": "en", "now": T0}))
    assert recorder.replay() == 2
    assert (journal.folder / REJECTED).read_bytes() == b'{"op":"start_call","args":{"call_sid":"CA\n'
    assert {r["call_sid"] for r in recorder.store.export_rows()} == {"CA1", "CA2"}


def test_replay_failing_part_way_resumes_where_it_stopped(tmp_path, monkeypatch):
    """Chunks of 3: the database goes down in the second chunk; the first stays committed, the
    journal keeps exactly the 7 entries not committed, and the next replay applies those."""
    from sqlalchemy.exc import OperationalError

    from ivr.calllog import recorder as recorder_module

    monkeypatch.setattr(recorder_module, "CHUNK_OPS", 3)
    recorder = recorder_for(tmp_path)
    for i in range(10):
        recorder.journal.append(
            Op(
                "start_call",
                {"call_sid": f"CA{i}", "caller_hash": None, "language": "en", "now": T0 + timedelta(seconds=i)},
            )
        )
    attempts: list[str] = []
    down = [True]
    real_apply = recorder.store.apply

    def down_at_the_fifth(op: str, args: dict) -> object:
        attempts.append(args["call_sid"])
        if len(attempts) == 5 and down[0]:
            down[0] = False
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real_apply(op, args)

    monkeypatch.setattr(recorder.store, "apply", down_at_the_fifth)
    assert recorder.replay() == 3
    assert [r["call_sid"] for r in recorder.store.export_rows()] == ["CA0", "CA1", "CA2"]
    assert recorder.journal.count() == 7 and recorder.health()["status"] == "degraded"
    attempts.clear()
    assert recorder.replay() == 7
    assert attempts == [f"CA{i}" for i in range(3, 10)]  # from where it stopped, in order
    assert recorder.health()["status"] == "ok"
    assert [r["call_sid"] for r in recorder.store.export_rows()] == [f"CA{i}" for i in range(10)]


def test_an_entry_the_database_refuses_is_kept_aside_not_retried_forever(tmp_path):
    """A value the database will never take (here: a 100-character queue name in an 8-character
    column on PostgreSQL would be one; on SQLite, a NOT NULL violation) must not hold the journal,
    and every later call with it, forever: it goes to rejected.jsonl, the rest is replayed."""
    recorder = recorder_for(tmp_path)
    good = Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en", "now": T0})
    poison = Op(
        "record_step",
        {"ev": {"call_sid": None, "step": 1, "screen": "main", "language": "en", "outcome": "911"}, "now": T0},
    )
    for op in (good, poison, Op("start_call", {"call_sid": "CA2", "caller_hash": None, "language": "en", "now": T0})):
        recorder.journal.append(op)
    assert recorder.replay() == 3
    assert not recorder.journal.pending()
    assert b'"call_sid":null' in (recorder.journal.folder / REJECTED).read_bytes()
    assert {r["call_sid"] for r in recorder.store.export_rows()} == {"CA1", "CA2"}


def test_unknown_op_is_never_run(tmp_path):
    store = CallStore(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with pytest.raises(ValueError, match="not a call-log write"):
        store.apply("close", {})


def test_journal_empties_while_writes_keep_coming(tmp_path):
    """Live traffic keeps appending during a replay; the replay still empties the journal, so
    writes go back to the database while callers are still calling (not only once they stop)."""
    import threading
    import time

    recorder = recorder_for(tmp_path)
    recorder.journal.append(
        Op("start_call", {"call_sid": "CA-first", "caller_hash": None, "language": "en", "now": T0})
    )
    written: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        i = 0
        while not stop.is_set():
            sid = f"CA{i:06d}"
            recorder.write("start_call", call_sid=sid, caller_hash=None, language="en", now=T0)
            written.append(sid)
            i += 1
            time.sleep(0.001)

    writer = threading.Thread(target=traffic)
    writer.start()
    try:
        time.sleep(0.5)
        for _ in range(20):
            recorder.replay()
            if not recorder.journal.pending():
                break
        drained_under_load = not recorder.journal.pending() and writer.is_alive()
        time.sleep(0.2)  # writes now go straight to the database
    finally:
        stop.set()
        writer.join()
    recorder.replay()
    assert drained_under_load
    rows = {r["call_sid"] for r in recorder.store.export_rows()}
    assert rows == {"CA-first", *written}


def test_a_writer_held_by_the_last_pass_goes_to_the_database_after_it(tmp_path):
    """The last pass of a replay holds appends. A webhook that found the journal pending waits
    on that hold; once the pass has emptied the journal, its write goes to the database (after
    everything journaled, all committed by then) instead of starting the journal again, which
    under steady traffic kept the journal from ever emptying."""
    import threading
    import time

    recorder = recorder_for(tmp_path)
    journal = recorder.journal
    journal.append(Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en", "now": T0}))
    with journal.claim(hold_appends=True) as claimed:
        assert claimed
        second = {"call_sid": "CA2", "caller_hash": None, "language": "en"}
        writer = threading.Thread(target=recorder.write, args=("start_call",), kwargs=second)
        writer.start()
        time.sleep(0.5)  # it found the journal pending and waits on the held appends
        assert writer.is_alive()
        for path in claimed:  # the last pass commits what it claimed
            ops, bad = journal.read(path)
            with recorder.store.batch():
                for op in ops:
                    recorder.store.apply(op.name, op.args)
            journal.done(path, bad)
    writer.join(10)
    assert not journal.pending()
    assert {r["call_sid"] for r in recorder.store.export_rows()} == {"CA1", "CA2"}


def test_append_unless_empty_leaves_an_empty_journal_empty(tmp_path):
    journal = Journal(tmp_path / "journal")
    op = Op("start_call", {"call_sid": "CA1", "caller_hash": None, "language": "en", "now": T0})
    assert journal.append(op, unless_empty=True) is False and not journal.pending()
    assert journal.append(op) is True
    assert journal.append(op, unless_empty=True) is True and journal.count() == 2


def test_the_last_pass_holds_appends_only_for_a_short_pass(tmp_path, monkeypatch):
    """Every webhook that journals waits while the last pass holds appends, so that pass must
    be short: no bigger than the previous pass's pace commits in FINAL_PASS_HOLD_S (0.1 s).
    Each write here takes at least 2 ms, so the pace is at most 500 writes/s and a held pass
    has at most about 50 writes, whatever the machine; live writes keep coming meanwhile."""
    import threading
    import time
    from contextlib import contextmanager

    recorder = recorder_for(tmp_path)
    journal = recorder.journal
    real_apply, real_claim = recorder.store.apply, journal.claim
    held: list[int] = []

    def slow_apply(op: str, args: dict) -> object:
        time.sleep(0.002)
        return real_apply(op, args)

    @contextmanager
    def claim(*, hold_appends: bool = False):  # type: ignore[no-untyped-def]
        with real_claim(hold_appends=hold_appends) as claimed:
            if hold_appends and claimed:
                held.append(sum(len(journal.read(path)[0]) for path in claimed))
            yield claimed

    monkeypatch.setattr(recorder.store, "apply", slow_apply)
    monkeypatch.setattr(journal, "claim", claim)
    for i in range(500):
        journal.append(Op("start_call", {"call_sid": f"CA-old-{i}", "caller_hash": None, "language": "en"}))
    stop = threading.Event()

    def traffic() -> None:
        i = 0
        while not stop.is_set():
            recorder.write("start_call", call_sid=f"CA-live-{i}", caller_hash=None, language="en", now=T0)
            i += 1
            time.sleep(0.005)

    writer = threading.Thread(target=traffic)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while journal.pending() and time.monotonic() < deadline:
            recorder.replay(wait_s=60)
    finally:
        stop.set()
        writer.join()
    recorder.replay(wait_s=60)
    assert not journal.pending()
    assert max(held, default=0) <= 60, held
