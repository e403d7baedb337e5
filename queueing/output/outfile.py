"""A command's ``--out`` that is one file (calibrate's scenario): checked before any work, written
whole or not at all.

:func:`check_out_file` refuses, in one line, an ``--out`` that names one of the command's own
inputs (writing it would destroy what it was computed from) or a place nothing can be written
(a folder, a path under a file, ``/proc``, a read-only disk); :func:`write_out_file` writes into a
hidden file beside ``--out`` and renames it into place, so a crash, Ctrl-C or a full disk leaves
the previous file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import ScenarioError


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links, ``..`` or a second hard link)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def check_out_file(out: Path, inputs: Mapping[str, Path | None]) -> None:
    """Raise ScenarioError unless ``out`` can be written and is none of ``inputs`` (option or
    argument name -> path): its folder (or the nearest one that exists) takes a new file."""
    for name, path in inputs.items():
        if path is not None and _same_file(out, path):
            raise ScenarioError(f"--out {out}: is the {name} file itself; write the result to another file")
    if out.is_dir():
        raise ScenarioError(f"--out {out}: is a folder; give a file name")
    folder = out.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ScenarioError(f"--out {out}: {folder} is a file, not a folder")
    try:  # a real file, not os.access: root passes os.access for /proc and read-only mounts
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def _mode(out: Path) -> int:
    """The permissions of the file at ``out`` if any, else those a new file gets (umask)."""
    if out.is_file():
        return out.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_out_file(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` (folders created) through a hidden file renamed into place."""
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.absolute().parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _mode(out))  # mkstemp's file is private (0600); --out gets a file's usual mode
        os.replace(tmp, out)
        tmp = None
    except OSError as exc:
        kept = "its previous content is kept" if out.exists() else "nothing was written"
        raise ScenarioError(f"--out {out}: cannot write it ({exc.strerror or exc}); {kept}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
