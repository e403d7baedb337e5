"""The analyst's contract on disk: summary.json, intervals.csv, hourly.csv (when the interval
divides an hour), daily.csv (when the run is longer than a day) and (optionally) calls.csv.

Files are byte-identical for the same scenario and seed, whatever the number of processes:
rows come in replication order and floats are written with ``repr`` (shortest round-trip).

A command writes its files through :func:`results_folder`: into a new hidden folder beside
``--out`` (``.NAME.partial-XXXX``), renamed into place once every file is complete. Until then
the previous results stay as they were; Ctrl-C or a crash removes the partial folder and says
so on stderr, so ``--out`` holds either the old results or the new ones, never a mix.

Replacing an existing folder takes two renames (the old one aside to ``.NAME.old-XXXX``, the
new one in) and then deleting the old one. Between the two renames ``--out`` is absent for a
few microseconds; SIGINT, SIGTERM and SIGHUP are held back over that window, so only a power
cut or SIGKILL there leaves the previous results in ``.NAME.old-XXXX`` and ``--out`` missing.
A SIGKILL while writing leaves a ``.NAME.partial-XXXX`` folder beside ``--out`` (``--out``
itself untouched); it is safe to delete.

Nothing another command wrote is deleted: each folder holds ``.ivr311.json`` (the command that
wrote it and its input files), and a command refuses, in one line naming the files and the
command, an ``--out`` holding another command's results (``simulate results/roster/roster.yaml
--out results/roster`` keeps the roster). Refusing rather than writing beside them keeps the
folder one command's results, replaced whole and atomically. A folder from before the marker
is told by its files (roster.* is ``roster``'s). The default folder (:func:`default_folder`) is
one per command and input file: ``results/<file name>`` unless another input's or another
command's results are there, then ``results/<parent folder>-<file name>``, then numbered.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import itertools
import json
import math
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.metrics import IntervalRows, day_spans
from ..core.runner import SimulationResult
from ..errors import ScenarioError
from .hourly import folds_into_hours, hourly_columns, hourly_rows

# What the commands write into --out; an existing folder holding anything else is not replaced.
RESULT_FILES = frozenset({
    "summary.json", "intervals.csv", "hourly.csv", "daily.csv", "calls.csv", "report.html", "comparison.csv",
    "sweep.csv",
    "staffing.yaml", "staffing.csv", "staffing.json",
    "roster.yaml", "roster.csv", "roster.json", "roster-present.yaml", "lines.csv", "assignments.csv",
    "frontier.csv", "nowcast.json", ".ivr311.json",
})  # fmt: skip
MARKER = ".ivr311.json"  # in every results folder: the command that wrote it and its inputs
# A folder without the marker (written before it) is told by its files: the first found names its command.
WRITTEN_BY = (
    ("roster.yaml", "roster"), ("roster.json", "roster"), ("staffing.yaml", "staff"), ("frontier.csv", "staff"),
    ("comparison.csv", "compare"), ("sweep.csv", "sweep"), ("summary.json", "simulate"), ("nowcast.json", "nowcast"),
)  # fmt: skip


def json_text(document: Any, name: str) -> str:
    """``document`` as indented JSON text, or ScenarioError naming the first number in it that is
    not finite (JSON has no inf or nan: a reader would choke on the file, so it is not written)."""

    def first_bad(node: Any, path: str) -> str | None:
        if isinstance(node, float) and not math.isfinite(node):
            return f"{path} is {node}"
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found = first_bad(value, f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None

    try:
        return json.dumps(document, indent=2, allow_nan=False) + "\n"
    except ValueError:  # a number JSON has not: found again to name it (a walk of every node)
        bad = first_bad(document, "")
        if bad is None:
            raise
    raise ScenarioError(
        f"{name}: {bad}, not a number a results file can hold; nothing written (a bug: please report it)"
    )


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV with a header; None becomes an empty cell (rows must not hold NaN)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(rows)


LINES_AT_A_TIME = 1 << 12
"""intervals.csv's lines made at a time by :func:`interval_lines` (their cells' text: ~4 MB)."""


def _csv_cell(text: str) -> str:
    """One cell as the csv module writes it (quoted when it holds a comma, a quote or a line break)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([text, ""])  # two cells: a lone empty one is quoted
    return out.getvalue()[:-2]


def interval_lines(rows: IntervalRows) -> Iterator[str]:
    """intervals.csv's lines of one replication, the bytes :func:`write_csv` gives for its rows
    (``repr`` of each number, an empty cell for NaN), made a column at a time: each column's cells
    become text in one pass, then lines, instead of a tuple per row that the csv module takes
    apart again (0.4 s against 0.6 s for a million-call run's 60,672 rows)."""
    classes = [_csv_cell(name) for name in rows.class_names]
    replication = repr(rows.replication)
    for start in range(0, len(rows), LINES_AT_A_TIME):
        part = slice(start, start + LINES_AT_A_TIME)
        cells: list[Iterable[str]] = []
        for name in rows.names:
            if name == "replication":
                cells.append(itertools.repeat(replication))
            elif name == "class":
                cells.append([classes[k] for k in rows.class_of[part].tolist()])
            else:
                cells.append(_cells_text(rows.columns[name][part]))
        yield "".join(map("%s\n".__mod__, map(",".join, zip(*cells, strict=False))))


def _cells_text(values: np.ndarray) -> list[str]:
    """Each of ``values`` as intervals.csv writes it: ``repr`` of the Python number, an empty cell
    for NaN. Each distinct value (bit for bit: -0.0 is not 0.0) is written once and its text
    repeated (an interval's bounds, service levels and counts repeat a lot)."""
    floats = values.dtype.kind == "f"
    distinct, at = np.unique(values.view(f"i{values.itemsize}") if floats else values, return_inverse=True)
    if floats:
        text = ["" if math.isnan(x) else repr(x) for x in distinct.view(values.dtype).tolist()]
    else:
        text = list(map(repr, distinct.tolist()))
    out: list[str] = np.array(text, dtype=object)[at].tolist()
    return out


def write_results(result: SimulationResult, out_dir: Path, calls: bool = False) -> list[Path]:
    """Write the results contract into ``out_dir`` (created if needed); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "summary.json", out_dir / "intervals.csv"]
    written[0].write_text(json_text(result.summary, "summary.json"), encoding="utf-8")
    with written[1].open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(result.intervals.columns)
        for rep in result.replications:
            fh.writelines(interval_lines(rep.intervals))
    if folds_into_hours(result.interval_s):
        written.append(out_dir / "hourly.csv")
        write_csv(written[-1], hourly_columns(result), hourly_rows(result))
    if day_spans(result.scenario):
        written.append(out_dir / "daily.csv")
        write_csv(written[-1], result.daily.columns, result.daily.rows())
    if calls:
        path = out_dir / "calls.csv"
        write_csv(path, result.calls.columns, result.calls.rows())
        written.append(path)
    return written


def _frontier_plan(name: str) -> bool:
    """``frontier-80.yaml``: one of ``staff --frontier``'s plans."""
    return name.startswith("frontier-") and name.endswith(".yaml")


def _ours(folder: Path, subfolders: bool) -> list[str]:
    """Entries of ``folder`` no ivr311 command writes (empty: safe to replace)."""
    foreign = []
    for entry in folder.iterdir():
        if entry.is_symlink():
            foreign.append(entry.name)
        elif entry.is_dir():
            if not subfolders or _ours(entry, subfolders=False):
                foreign.append(entry.name + "/")
        elif entry.name not in RESULT_FILES and not entry.name.endswith(".png") and not _frontier_plan(entry.name):
            foreign.append(entry.name)
    return sorted(foreign)


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_out(out: Path, command: str | None = None) -> None:
    """Raise ScenarioError unless ``out`` can receive results: absent, or a folder of earlier results
    (only files the commands write; subfolders only in a comparison's folder) of ``command``
    (when given: another command's results are never replaced)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ScenarioError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        foreign = _ours(out, subfolders=(out / "comparison.csv").exists())
        if foreign:
            raise ScenarioError(
                f"--out {out}: holds files ivr311 did not write ({_shown(foreign)}); results replace the "
                "whole folder, so choose another --out or empty it"
            )
        other = written_by(out)
        if command is not None and other is not None and other != command:
            names = sorted(e.name for e in out.iterdir() if e.name != MARKER)
            raise ScenarioError(
                f"--out {out}: holds the results of `ivr311 {other}` ({_shown(names)}), which {command} would "
                f"replace; choose another --out (e.g. {out}-{command})"
            )


def _marker(folder: Path) -> dict[str, Any] | None:
    """What ``folder``'s marker says (``command``, ``inputs``), or None without a readable one."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("command"), str) else None


def written_by(folder: Path) -> str | None:
    """The command whose results ``folder`` holds: its marker's, else told by its files; None
    for an empty folder or one of no command."""
    marked = _marker(folder)
    if marked is not None:
        return str(marked["command"])
    return next((command for name, command in WRITTEN_BY if (folder / name).exists()), None)


def _inputs(inputs: Sequence[Path]) -> list[str]:
    return [str(Path(p).resolve()) for p in inputs]


def default_folder(command: str, file: Path, suffix: str = "", root: Path = Path("results")) -> Path:
    """The default ``--out`` of ``command`` run on ``file``: ``results/<file name><suffix>``, unless
    that folder holds results of another file or command (whose files must not be replaced),
    then ``results/<parent folder>-<file name><suffix>``, then the first of those numbered (``-2``)
    that is free or holds this command's results of this file. Two files never share one."""
    file = Path(file)
    mine = {"command": command, "inputs": _inputs([file])}
    stem = f"{file.stem}{suffix}"
    parent = file.resolve().parent.name
    names = [stem, *([f"{parent}-{stem}"] if parent else [])]
    candidates = [root / name for name in dict.fromkeys(names)]
    candidates += [root / f"{candidates[-1].name}-{n}" for n in range(2, 1000)]
    for folder in candidates:
        if not folder.exists():
            return folder
        marked = _marker(folder)
        if marked is not None and {k: marked.get(k) for k in mine} == mine:
            return folder
    raise ScenarioError(f"no free default folder for {file} under {root}; give --out")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP (delivered on exit) where the platform allows it."""
    held = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _swap_in(new: Path, out: Path) -> None:
    """Put folder ``new`` at ``out``, replacing the folder there if any (see the module docstring)."""
    aside = None
    with _signals_held():
        if out.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, aside / out.name)
        os.rename(new, out)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


# Write failures that are the disk's or the folder's, not the program's: one line, not a traceback.
_FULL_OR_REFUSED = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


@contextlib.contextmanager
def results_folder(out: Path, command: str | None = None, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """A new empty folder beside ``out`` to write results into; on success it replaces ``out``.

    Checked on entry, before any work: ``out`` is not a file nor a folder of other files nor of
    another ``command``'s results, and its parent can be created and written (else ScenarioError,
    one line). With ``command``, the folder's marker says it wrote them, from ``inputs``. On
    Ctrl-C or an unexpected error the partial folder is deleted and stderr says what ``out`` holds.
    """
    out = Path(out)
    check_out(out, command)
    parent = out.absolute().parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ScenarioError(f"--out {out}: {folder} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.absolute().name}.partial-", dir=parent))
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    done = False
    try:
        if command is not None:
            marker = {"command": command, "inputs": _inputs(inputs)}
            (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        yield tmp
        done = True
    except ScenarioError:
        raise  # reported by the CLI in one line; out is untouched
    except OSError as exc:
        if exc.errno not in _FULL_OR_REFUSED:
            raise
        kept = "its previous results are kept" if out.exists() else "nothing was written there"
        raise ScenarioError(f"--out {out}: cannot write the results ({exc.strerror}); {kept}") from None
    except BaseException as exc:
        kept = "its previous results are kept" if out.exists() else "nothing was written there"
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped by an error"
        print(f"{what}: {out} left as it was ({kept})", file=sys.stderr)
        raise
    finally:
        if done:
            try:
                _swap_in(tmp, out.absolute())
            except OSError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise ScenarioError(f"--out {out}: cannot put the results there ({exc.strerror or exc})") from None
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def moved(paths: Iterable[Path], tmp: Path, out: Path) -> list[Path]:
    """Paths written under ``tmp`` as they are after :func:`results_folder` moved them to ``out``."""
    return [out / Path(p).relative_to(tmp) for p in paths]
