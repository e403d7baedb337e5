"""Stopping a command: Ctrl-C, SIGTERM or the parent killed outright, while worker processes run.

Each test starts a real ``ivr311`` process with ``--jobs 2``, waits until its two workers
exist, sends the signal, and checks what a user would: the exit status the shell expects, one
line and no traceback on stderr, ``--out`` as it was before, no partial folder, and no worker
left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import REPO

SCENARIOS_DIR = REPO / "scenarios"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

IVR311 = str(Path(sys.executable).with_name("ivr311"))


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], list[int]]:
    proc = subprocess.Popen(
        [IVR311, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    # Generous: a loaded machine may take many seconds to import and fork.
    assert _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None, 120), "no workers started"
    workers = _children(proc.pid)
    assert proc.poll() is None and len(workers) >= 2, "the run ended before it could be stopped"
    return proc, workers


def _previous_results(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}\n')
    return out


@pytest.mark.parametrize(
    ("signum", "status", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")]
)
def test_a_stopped_simulation_stops_its_workers_and_keeps_the_old_results(
    tmp_path: Path, signum: int, status: int, name: str
) -> None:
    out = _previous_results(tmp_path)
    args = ["simulate", str(SCENARIOS_DIR / "baseline.yaml"), "--jobs", "2", "--replications", "1000", "--out", "out"]
    proc, workers = _start(args, tmp_path)
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C reaches the terminal's whole process group
    else:
        proc.send_signal(signum)  # a service manager stops the main process
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert f"ivr311: stopped by {name}" in stderr
    assert "Traceback" not in stderr
    assert (out / "summary.json").read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no .out.partial-*
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 30), "a worker outlived the command"


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    args = ["simulate", str(SCENARIOS_DIR / "baseline.yaml"), "--jobs", "2", "--replications", "1000"]
    proc, workers = _start(args, tmp_path)
    proc.kill()
    proc.communicate(timeout=60)
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 30), "a worker outlived its killed parent"


def test_ctrl_c_in_roster_is_one_line(tmp_path: Path) -> None:
    args = ["roster", str(SCENARIOS_DIR / "baseline.yaml"), "--jobs", "2", "--out", "out"]
    proc, workers = _start(args, tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "ivr311: stopped by Ctrl-C" in stderr
    assert not (tmp_path / "out").exists()
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 30)
