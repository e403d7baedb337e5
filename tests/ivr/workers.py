"""Work done at once by separate processes, as gunicorn's workers share a call log or a journal."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from typing import Any


def run_as_workers(target: Callable[..., None], args: Iterable[tuple[Any, ...]], timeout_s: float = 60.0) -> None:
    """``target(*a)`` for each ``a`` of ``args``, each in a fresh interpreter (spawned, not forked:
    nothing of this process is shared), all running at once; each must exit 0 within ``timeout_s``."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout_s)
        assert p.exitcode == 0, f"{target.__name__}{p.name}: exit status {p.exitcode}"
