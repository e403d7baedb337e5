"""A durable local journal of call-log writes the database could not take in time.

One JSON line per write (`{"op": "record_step", "args": {...}}`), appended with O_APPEND and
fsync'd before the webhook answers, in a folder of its own under `instance/`. Any number of
processes (gunicorn workers) append to `journal.jsonl`, one at a time under an exclusive lock,
each entry whole or not at all: a short write (a full disk) is continued until every byte is
written, and a write that fails cuts the file back to where the entry began, so the caller
learns the entry is not durable (OSError) and no torn tail is left. An entry also starts on a
line of its own when the file ends in a torn line (a power cut mid-write): two entries never
merge. A replayer claims the journal by renaming it to `<time_ns>-<pid>.replay` under the lock
(appends then go to a fresh file) and replays the claimed files oldest first, holding a second
lock so only one process replays at a time. A file is deleted only after its whole content is
committed (in chunks of a few hundred ops per transaction); a file cut short by a failure keeps
just what is not committed.

A line that cannot be decoded (a torn write after a power cut) is moved to `rejected.jsonl` for a
person to look at, never silently dropped.

Every method raises OSError when the folder cannot be used (unreadable, not a folder, a full or
read-only disk); `check` asks before it matters (at start, and while the recorder waits for the
journal to come back).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

LIVE = "journal.jsonl"
REJECTED = "rejected.jsonl"
CLAIMED_SUFFIX = ".replay"
PROBE_BYTES = 4096  # what `check` writes: a page, the unit a full file system refuses
_TIME_KEY = "$utc"


@dataclass(frozen=True)
class Op:
    """One write of the call log: a `CallStore` write method's name and its keyword arguments."""

    name: str
    args: Mapping[str, Any]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TIME_KEY: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TIME_KEY}:
            return datetime.fromisoformat(value[_TIME_KEY])
        return {k: _decode(v) for k, v in value.items()}
    return value


def encode_op(op: Op) -> bytes:
    line = json.dumps({"op": op.name, "args": _encode(op.args)}, ensure_ascii=True, separators=(",", ":"))
    return line.encode("ascii") + b"\n"


def decode_op(line: bytes) -> Op:
    """Raises ValueError (or a subclass) on a line that is not a whole encoded op."""
    data = json.loads(line)
    if not isinstance(data, dict) or not isinstance(data.get("op"), str) or not isinstance(data.get("args"), dict):
        raise ValueError("not a journal entry")
    return Op(data["op"], _decode(data["args"]))


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[bool]:
    """Hold flock `mode` on `path` (created if absent); yields False if LOCK_NB and busy."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lines(path: Path) -> int:
    """Entries in a journal file: its lines, counted in C (`/healthz` asks often, and a journal
    after an outage holds tens of thousands); 0 if it is gone (claimed or replayed meanwhile).
    Appends never write an empty line, and a torn last line counts as the line it is."""
    count, last = 0, b"\n"
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                count += block.count(b"\n")
                last = block[-1:]
    except FileNotFoundError:
        return 0
    return count + (last != b"\n")


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written: a short write (a disk filling up) is continued,
    and the error that stops it is raised."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # no error and no progress: do not spin
            raise OSError(errno.EIO, "journal write made no progress")
        view = view[written:]


def _append_whole(fd: int, data: bytes) -> None:
    """Append `data` (one encoded op) at the end of `fd` whole, on a line of its own, or raise
    OSError with the file cut back to its size before (under the exclusive append lock)."""
    start = os.fstat(fd).st_size
    if start and os.pread(fd, 1, start - 1) != b"\n":
        data = b"\n" + data  # a torn tail left by a power cut: the entry must not join it
    try:
        _write_all(fd, data)
    except OSError:
        with contextlib.suppress(OSError):  # if this fails too, the next entry starts a line
            os.ftruncate(fd, start)
        raise


class Journal:
    """The journal folder; see the module docstring."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)  # made by the first append or check
        self._append_lock = self.folder / "append.lock"
        self._replay_lock = self.folder / "replay.lock"

    def append(self, op: Op, *, unless_empty: bool = False) -> bool:
        """Write one op durably (fsync) before returning True. Raises OSError if the disk refuses
        (full, read-only, gone, not a folder); the entry is then not in the journal.
        `unless_empty`: append only if the journal still holds something, else return False (a
        writer that found it pending and waited on the lock while a replay emptied it may now
        go to the database: everything journaled before it is committed)."""
        data = encode_op(op)
        self._make_folder()
        # exclusive: an entry written in several pieces, or cut back, must have the end of the
        # file to itself; the fsync, the slow part, is made after the lock is released
        with _locked(self._append_lock, fcntl.LOCK_EX):
            if unless_empty and not self.files():
                return False
            fd = os.open(self.folder / LIVE, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _append_whole(fd, data)
            except BaseException:
                os.close(fd)
                raise
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def check(self) -> None:
        """Raise OSError unless an append could be made now: the folder is (or can be made) a
        folder this process lists and writes in, with room for a page. A real write, since
        permission bits say nothing when running as root."""
        self._make_folder()
        self.files()
        probe = self.folder / f".probe-{os.getpid()}-{threading.get_ident()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, b"\n" * PROBE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except FileExistsError:  # a file, or a link to one, where the folder should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(self.folder)) from None

    def files(self) -> list[Path]:
        """Files still to replay, oldest first (claimed ones, then the live one). No folder is
        an empty journal; a folder that cannot be listed raises OSError (it may hold some)."""
        claimed, live = [], None
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.endswith(CLAIMED_SUFFIX):
                claimed.append(Path(entry.path))
            elif entry.name == LIVE:
                live = Path(entry.path)
        claimed.sort(key=lambda p: p.name)
        return claimed + ([live] if live else [])

    def pending(self) -> bool:
        return bool(self.files())

    def count(self) -> int:
        """Ops waiting to be replayed (lines in the journal files)."""
        return sum(_lines(path) for path in self.files())

    def live_count(self) -> int:
        """Ops in the live file (appended since the last claim)."""
        return _lines(self.folder / LIVE)

    @contextmanager
    def claim(self, *, hold_appends: bool = False) -> Iterator[list[Path] | None]:
        """Claim every file to replay (None if another process is replaying right now).
        The caller deletes each file once its ops are committed. With `hold_appends`, appends
        wait until the claim ends, so the journal is empty after it (the last, short pass)."""
        self._make_folder()
        with _locked(self._replay_lock, fcntl.LOCK_EX | fcntl.LOCK_NB) as mine:
            if not mine:
                yield None
                return
            live = self.folder / LIVE
            with ExitStack() as appends_held:
                appends_held.enter_context(_locked(self._append_lock, fcntl.LOCK_EX))
                if live.exists():
                    live.rename(self.folder / f"{time.time_ns():020d}-{os.getpid()}{CLAIMED_SUFFIX}")
                if not hold_appends:
                    appends_held.close()  # appends go on into a fresh live file
                yield [p for p in self.files() if p.name != LIVE]

    def read(self, path: Path) -> tuple[list[Op], list[bytes]]:
        """The ops of a claimed file in order, and the lines that are not ops."""
        ops: list[Op] = []
        bad: list[bytes] = []
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                ops.append(decode_op(line))
            except (ValueError, TypeError):
                bad.append(line)
        return ops, bad

    def keep(self, path: Path, ops: list[Op], bad: list[bytes]) -> None:
        """Replace a claimed file by the ops of it not yet committed (atomically: if the disk
        refuses the copy, the file stays as it was and what was committed is replayed again)."""
        self._reject(bad)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with tmp.open("wb") as out:
                out.writelines(encode_op(op) for op in ops)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def done(self, path: Path, bad: list[bytes]) -> None:
        """A claimed file was replayed: keep its undecodable lines in `rejected.jsonl`, delete it."""
        self._reject(bad)
        path.unlink(missing_ok=True)

    def _reject(self, bad: list[bytes]) -> None:
        if bad:
            with (self.folder / REJECTED).open("ab") as out:
                out.write(b"\n".join(bad) + b"\n")
                out.flush()
                os.fsync(out.fileno())
