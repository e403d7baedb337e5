"""Progress of a long command on stderr: a bar on a terminal, a line every few seconds elsewhere.

Redirected to a file or a CI log, a bar shows nothing until the end (a 15-point sweep was silent
for five minutes); there a line ``label: done/total (percent), ETA m:ss`` is printed at most every
``every_s`` seconds instead, and a last one at the end if any was printed. The total may grow
while the work runs (:meth:`Progress.add`): ``staff`` queues its batches one after the other and
shows them as one progress.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

import click

EVERY_S = 5.0


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Done/total with an ETA on ``file`` (stderr): a click progress bar when it is a terminal,
    else a line every ``every_s`` seconds; nothing when ``quiet``. A context manager."""

    def __init__(
        self, total: int, label: str, quiet: bool = False, file: TextIO | None = None, every_s: float = EVERY_S
    ) -> None:
        self.file = file or sys.stderr
        self.label = label
        self.total = total
        self.done = 0
        self.every_s = every_s
        self.quiet = quiet
        self.tty = self.file.isatty()
        self._bar: Any = None
        if not quiet and self.tty:
            self._bar = click.progressbar(length=total, label=label, file=self.file, show_eta=True, show_pos=True)
        self._start = self._last = time.monotonic()
        self._printed = False

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
        elif self._printed and exc_type is None:
            self._line(time.monotonic())

    def add(self, n: int) -> None:
        """``n`` more units of work are queued."""
        self.total += n
        if self._bar is not None:
            self._bar.length = self.total

    def update(self, n: int = 1) -> None:
        """``n`` units of work are done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if not self.quiet and now - self._last >= self.every_s:
            self._line(now)

    def _line(self, now: float) -> None:
        self._last = now
        self._printed = True
        elapsed = now - self._start
        text = f"{self.label}: {self.done}/{self.total} ({100 * self.done / self.total if self.total else 100:.0f}%)"
        if self.done < self.total:
            eta = elapsed / self.done * (self.total - self.done) if self.done else None
            text += f", ETA {_clock(eta)}" if eta is not None else ", ETA unknown"
        else:
            text += f", done in {_clock(elapsed)}"
        click.echo(text, file=self.file)
