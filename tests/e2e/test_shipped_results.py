"""Every shipped scenario (and the tests' shared ones) gives the same files and the same printed
table, byte for byte, as when their hashes were recorded: a change meant to make the simulator
faster (the model, draws, records, metrics, writing), or a behaviour a scenario does not turn on
(transfers, redials, callbacks, languages), must not move one digit of a result.
``ivr311 simulate FILE --replications 2 --calls`` of each ``scenarios/*.yaml`` and
``tests/scenarios/*.yaml``; the SHA-256 of each file it writes, and of what it prints, is in
``shipped_results.json``.

A change that is meant to change these results (a model that is more right, a new column)
records them again, and says so in its commit::

    .venv/bin/python -m tests.e2e.test_shipped_results --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import REPO

RECORDED = Path(__file__).with_name("shipped_results.json")
REPLICATIONS = 2
FOLDERS = ("scenarios", "tests/scenarios")
SHIPPED = sorted(str(p.relative_to(REPO).with_suffix("")) for d in FOLDERS for p in (REPO / d).glob("*.yaml"))
SLOW = {"scenarios/textbook"}  # 30 days


def results_hashes(name: str, out: Path) -> dict[str, str]:
    """SHA-256 of each file ``ivr311 simulate`` writes for the scenario ``name`` (a path from the
    repository's root, no suffix), and of the table it prints (the results folder named OUT); the
    version recorded in summary.json's meta left out, so that a release alone changes nothing here."""
    from queueing.cli import main

    args = ["simulate", str(REPO / f"{name}.yaml"), "--out", str(out)]
    args += ["--replications", str(REPLICATIONS), "--jobs", "1", "--calls"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    hashes = {"stdout": hashlib.sha256(result.stdout.replace(str(out), "OUT").encode()).hexdigest()}
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):  # the folder's marker names the input by its absolute path
            continue
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            summary["meta"].pop("version")
            data = json.dumps(summary, indent=2).encode()
        hashes[path.name] = hashlib.sha256(data).hexdigest()
    return hashes


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in SHIPPED])
def test_a_shipped_scenario_gives_the_recorded_files(name: str, tmp_path: Path) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    assert name in recorded, f"no recorded results for {name}.yaml: record them (see this module)"
    assert results_hashes(name, tmp_path / "out") == recorded[name]


def test_every_recorded_scenario_is_shipped() -> None:
    assert sorted(json.loads(RECORDED.read_text(encoding="utf-8"))) == SHIPPED


def write(folder: Path) -> None:
    """Record every shipped scenario's hashes in ``shipped_results.json``."""
    recorded = {name: results_hashes(name, folder / name.replace("/", "-")) for name in SHIPPED}
    RECORDED.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.e2e.test_shipped_results --write")
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
