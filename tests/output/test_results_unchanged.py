"""A scenario that uses none of the optional call flows (transfers, redials, callbacks, language)
writes the files and prints the table it always did, byte for byte: every shipped scenario, and
the tests' shared ones, simulated with two replications, against the SHA-256 of what the code
wrote before those flows existed (regenerate with ``python -m tests.output.test_results_unchanged``
only when a change to the files is meant).

summary.json is hashed with ``meta.version`` blanked: the installed version is not the results."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tests.support.cli import invoke

ROOT = Path(__file__).resolve().parents[2]
SLOW = {"textbook", "week"}  # 30 and 7 days

EXPECTED: dict[str, dict[str, str]] = {  # made by the code before those flows existed
    "scenarios/baseline.yaml": {
        "stdout": "f0000e3e03d2749a",
        "calls.csv": "e25d8414e5cb798a",
        "hourly.csv": "2013c00093e7c01d",
        "intervals.csv": "298e86727377fe1b",
        "summary.json": "bdc6d8eb8a787b34",
    },
    "scenarios/dedicated-pools.yaml": {
        "stdout": "b831fadc5afe48aa",
        "calls.csv": "ec2fdb943d4ca66a",
        "hourly.csv": "8c2318b1cc1bb656",
        "intervals.csv": "d4857d2051c993d4",
        "summary.json": "bb3d1ebe905e46ed",
    },
    "scenarios/shared-pool.yaml": {
        "stdout": "ca62466bbae18e62",
        "calls.csv": "9ed6dbbcf2107acf",
        "hourly.csv": "0c34200617d49f1a",
        "intervals.csv": "52cf1274a97e3f18",
        "summary.json": "8c9104e717d36c16",
    },
    "scenarios/surge-day.yaml": {
        "stdout": "91f5aefb8dbade4f",
        "calls.csv": "249d45852d46d6b2",
        "hourly.csv": "46ba4a86aa7e2543",
        "intervals.csv": "0b48bd849751b3a3",
        "summary.json": "665129075a4789d6",
    },
    "scenarios/textbook.yaml": {
        "stdout": "9b93efbe8dba92e8",
        "calls.csv": "e134bedbcf49f341",
        "daily.csv": "8bd22e42a99c2278",
        "hourly.csv": "764aa936ea26aa5c",
        "intervals.csv": "826324ed25d32f85",
        "summary.json": "9adeb3b95851af80",
    },
    "scenarios/week.yaml": {
        "stdout": "20f44b6b9368239a",
        "calls.csv": "f15c7bc4b485736f",
        "daily.csv": "fbff50edcbbb1f5a",
        "hourly.csv": "c7dea76b791e9a40",
        "intervals.csv": "c351f2b88064fe22",
        "summary.json": "fb9d2d9ae0d6055c",
    },
    "tests/scenarios/office-hours.yaml": {
        "stdout": "284038e0dfedd248",
        "calls.csv": "34032312deb2e750",
        "hourly.csv": "2ffbb57af11d6978",
        "intervals.csv": "2a99cda2771f3071",
        "summary.json": "14aef589013c1c3e",
    },
    "tests/scenarios/one-agent.yaml": {
        "stdout": "d2dfbb51a80c9638",
        "calls.csv": "caef1c9feafb12e3",
        "hourly.csv": "dd026e686582739f",
        "intervals.csv": "3784aeac9b74b07a",
        "summary.json": "3f7bc2d8ca5267fa",
    },
    "tests/scenarios/two-pools.yaml": {
        "stdout": "f24e7bc2ceb62efc",
        "calls.csv": "f9c59d0f4f11c5a2",
        "hourly.csv": "0825b45f1de041e4",
        "intervals.csv": "38baf45d39c22c27",
        "summary.json": "fb29896ca67199a9",
    },
}


# the scenarios EXPECTED holds (those that use a flow, as diversion.yaml, have files of their own)
SCENARIOS = [ROOT / name for name in EXPECTED]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def outputs(scenario: Path, out: Path) -> dict[str, str]:
    """The digests of what ``simulate --calls`` prints and writes for ``scenario``."""
    result = invoke("simulate", str(scenario), "--replications", "2", "--jobs", "1", "--calls", "--out", str(out))
    assert result.exit_code == 0, result.output
    digests = {"stdout": _digest(result.stdout.replace(str(out), "OUT").encode())}
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            continue
        data = path.read_bytes()
        if path.name == "summary.json":
            doc = json.loads(data)
            doc["meta"]["version"] = ""
            data = json.dumps(doc, indent=2).encode()
        digests[path.name] = _digest(data)
    return digests


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=_name(s), marks=[pytest.mark.slow] if s.stem in SLOW else []) for s in SCENARIOS],
)
def test_files_unchanged_without_the_optional_flows(scenario: Path, tmp_path: Path) -> None:
    assert outputs(scenario, tmp_path / "out") == EXPECTED[_name(scenario)]


if __name__ == "__main__":  # print EXPECTED from the code as it is now
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        found = {_name(s): outputs(s, Path(tmp) / s.stem) for s in SCENARIOS}  # those of EXPECTED
    json.dump(found, sys.stdout, indent=4)
