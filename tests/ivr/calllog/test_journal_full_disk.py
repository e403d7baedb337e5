"""The journal on a real full disk: a 64 KiB tmpfs mounted for the test (root only; CI runs as
root), filled by a file, so the kernel's own ENOSPC and short writes are what the journal meets.

An append the disk cannot take whole raises and leaves nothing behind (no torn line for the next
entry to run into), the recorder counts the write as lost and says so in its health and once in
the log, and once space is freed appends go on and everything journaled replays.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.calllog import recorder as recorder_module
from ivr.calllog.journal import LIVE, REJECTED, Journal, Op, encode_op
from ivr.calllog.recorder import Recorder
from ivr.calllog.store import CallStore

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DOWN = "sqlite:////proc/no/such/calls.sqlite3"  # cannot be opened: every write fails at once


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs of this test's own, unmounted whatever happens."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small file system to fill")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root): {made.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk refuses; returns it (delete it to free the space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def call_op(i: int) -> Op:
    return Op("start_call", {"call_sid": f"CA{i:032x}", "caller_hash": None, "language": "en", "now": T0})


def test_an_append_the_full_disk_cannot_take_whole_raises_and_leaves_nothing(small_disk):
    journal = Journal(small_disk / "journal")
    durable = [call_op(0)]
    journal.append(durable[0])
    filler = fill(small_disk)
    # the rest of the live file's last page still takes a few entries; the one that needs a new
    # page is written in part (a short write) and then refused
    for i in range(1, 500):
        try:
            journal.append(call_op(i))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            break
        durable.append(call_op(i))
    else:
        pytest.fail("appends went on succeeding on a full disk")
    assert len(durable) > 1  # the page was shared, so the refused entry was a short write
    assert (journal.folder / LIVE).read_bytes() == b"".join(map(encode_op, durable))
    with pytest.raises(OSError):
        journal.check()
    filler.unlink()
    journal.check()
    durable += [call_op(i) for i in range(1000, 1010)]
    for op in durable[-10:]:
        journal.append(op)
    with journal.claim() as claimed:
        assert claimed is not None
        read = [journal.read(path) for path in claimed]
    assert [op for ops, _ in read for op in ops] == durable
    assert not [line for _, bad in read for line in bad]


def test_recorder_counts_what_the_full_disk_lost_and_the_rest_replays(small_disk, tmp_path, caplog, monkeypatch):
    """The database down and the journal's disk full: writes are counted lost (health degraded,
    one ERROR for the episode), none raises; space freed, the journal takes writes again, the
    summary says how many were lost, and every journaled write replays, none undecodable."""
    monkeypatch.setattr(recorder_module, "JOURNAL_SETTLE_S", 0.0)  # back at the first success
    folder = small_disk / "journal"
    recorder = Recorder(CallStore(DOWN, create=False), Journal(folder), retry_s=60)
    sids = [call_op(i).args["call_sid"] for i in range(400)]
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.recorder"):
        recorder.start()
        recorder.write("start_call", call_sid=sids[0], caller_hash=None, language="en", now=T0)
        filler = fill(small_disk)
        for sid in sids[1:300]:
            assert recorder.write("start_call", call_sid=sid, caller_hash=None, language="en", now=T0) is None
        recorder.drain()  # a write past its budget (a loaded machine) is counted once refused
        health = recorder.health()
        assert health["status"] == "degraded" and health["journal"].startswith("unwritable: ")
        assert "No space left" in health["journal"]
        lost = health["lost"]
        assert 0 < lost < 299
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and str(folder) in errors[0].getMessage()
        filler.unlink()
        for sid in sids[300:]:
            recorder.write("start_call", call_sid=sid, caller_hash=None, language="en", now=T0)
        recorder.drain()
        health = recorder.health()
        assert health["journal"] == "ok" and health["lost"] == lost
        summary = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR][1:]
        assert len(summary) == 1 and f"{lost} call-log writes were lost" in summary[0]
    recorder.close()
    store = CallStore(f"sqlite:///{tmp_path / 'calls.sqlite3'}")
    assert Recorder(store, Journal(folder), retry_s=60).replay() == len(sids) - lost
    assert not (folder / REJECTED).exists()
    logged = [row["call_sid"] for row in store.export_rows()]
    assert len(set(logged)) == len(sids) - lost and set(logged) <= set(sids)
    store.close()
