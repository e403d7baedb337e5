"""Progress on stderr: a line every few seconds without a terminal, nothing when quiet."""

from __future__ import annotations

import io

from queueing.output.progress import Progress


def test_progress_without_a_terminal_prints_a_line_every_few_seconds() -> None:
    out = io.StringIO()  # not a terminal
    with Progress(4, "sweep: 2 points", file=out, every_s=0) as bar:
        bar.update(1)
        bar.add(2)  # staff queues another batch: one progress, a larger total
        for _ in range(5):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sweep: 2 points: 1/4 (25%), ETA ")
    assert lines[1].startswith("sweep: 2 points: 2/6 (33%), ETA ")
    assert lines[-1].startswith("sweep: 2 points: 6/6 (100%), done in ")
    quiet = io.StringIO()
    with Progress(3, "x", quiet=True, file=quiet, every_s=0) as bar:
        bar.update(3)
    assert quiet.getvalue() == ""
    slow = io.StringIO()
    with Progress(3, "x", file=slow) as bar:  # finished within the first few seconds: nothing to say
        bar.update(3)
    assert slow.getvalue() == ""
