"""Issue 8: bad input never reaches the model. Every reproducer of the issue as a named test
(real files in tmp_path, the CLI as a user drives it), the mutation property, and Ctrl-C while
results are written."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import REPO, scenario_text
from mutants import mutate
from queueing.cli import main
from queueing.yamlsafe import YamlInputError, read_yaml

TEXTBOOK = (REPO / "scenarios" / "textbook.yaml").read_text(encoding="utf-8")
BASELINE = REPO / "scenarios" / "baseline.yaml"


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def _write(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _refused(result: object, path: Path, pattern: str) -> None:
    """Exit 2, no traceback, and every stderr line is `path:line: ...`; the first matches ``pattern``."""
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    lines = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert lines and all(re.match(rf"^{re.escape(str(path))}:\d+: ", line) for line in lines), lines
    assert re.search(pattern, lines[0]), lines[0]


def _edit(old: str, new: str) -> str:
    assert old in TEXTBOOK
    return TEXTBOOK.replace(old, new, 1)


# --- the YAML reader -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("nul_character", "name: a\x00b\n", r":1: name: contains the control character \\x00"),
        ("escape_character", "name: x\nseed: \x1b[31m1\n", r":2: seed: contains the control character \\x1b"),
        ("nul_by_escape", 'name: "a\\0b"\n', r":1: name: contains the control character \\x00"),
        ("key_with_newline", 'classes:\n  "9\\n11": {priority: 1}\n', r":2: classes\.9\\n11: a key must be one line"),
        ("duplicate_key", "replications: 3\nname: x\nreplications: 1000000000\n",
         r":3: replications: duplicate key: given on line 1 and again on line 3"),
        ("duplicate_key_911_and_quoted", 'classes:\n  911: {}\n  "911": {}\n', r":3: classes\.911: duplicate key"),
        ("nesting_500_deep", "a: " + "[" * 500 + "]" * 500 + "\n", r":1: a\.0\.0.*: nested deeper than 40 levels"),
        ("self_alias", "a: &a [1, *a]\n", r":1: a\.1: alias \*a refers to a node that contains it"),
    ],
)  # fmt: skip
def test_reader_refuses(name: str, text: str, expected: str, tmp_path: Path) -> None:
    path = _write(tmp_path, text)
    result = _cli("validate", str(path))
    _refused(result, path, expected)
    assert len(result.stderr.splitlines()) == 1


def test_billion_laughs_refused_in_milliseconds(tmp_path: Path) -> None:
    """The issue's 452-byte alias bomb: 39 s and 3.1 GB before; now refused while composing."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 10)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    assert 400 < path.stat().st_size < 600
    start = time.perf_counter()
    result = _cli("validate", str(path))
    assert time.perf_counter() - start < 1.0
    _refused(result, path, r":5: a4\.0: aliases expand to more than 10,000 values")


def test_non_utf8_names_the_line_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, b"name: x\nseed: 1\nhorizon: \xff\xfe\n")
    result = _cli("validate", str(path))
    _refused(result, path, r":3: horizon: not UTF-8 text \(byte 0xff at offset 25\)")


def test_reader_api_for_the_menu() -> None:
    """What ivr/menu.py will call: text + source name in, data + lines out (yes/no stay text)."""
    doc = read_yaml("confirm:\n  - yes\n  - no\nkey: 11\n", "menu.yaml", yes_no_booleans=False)
    assert doc.data == {"confirm": ["yes", "no"], "key": 11}
    assert doc.line_of(("confirm", 1)) == 3 and doc.line_of(("key",)) == 4 and doc.line_of(("nope", 2)) == 1
    assert str(doc.error(("confirm", 1), "bad")) == "menu.yaml:3: confirm.1: bad"
    with pytest.raises(YamlInputError) as info:
        read_yaml("a: 1\na: 2\n", "menu.yaml")
    assert (info.value.line, info.value.field) == (2, "a")


# --- validate ok => simulate runs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("infinite_rate", "{rate_per_hour: 36}", "{rate_per_hour: .inf}",
         r":13: classes\.911\.arrivals\.rate_per_hour: must be a finite number"),
        ("nan_rate", "{rate_per_hour: 36}", "{rate_per_hour: .nan}", r"rate_per_hour: must be a finite number"),
        ("infinite_profile_entry", "{rate_per_hour: 36}", "{profile_per_hour: [" + "1, " * 23 + ".inf]}",
         r"profile_per_hour\.23: must be a finite number"),
        ("huge_seed", "seed: 2005", "seed: 1.0e+308", r":6: seed: must be a whole number$"),
        ("rate_1e9", "{rate_per_hour: 36}", "{rate_per_hour: 1.0e+9}",
         r":13: classes\.911\.arrivals: about 720 billion calls per replication .*; at most 2\.1 billion"),
        ("horizon_100000d", "horizon: 30d", "horizon: 100000d", r":7: horizon: must be at most 100 years"),
        ("a_billion_agents", "agents: 10", "agents: 1000000000",
         r":19: staffing: 1 billion agents in all shifts; at most 10,000 without --large"),
        ("a_billion_replications", "replications: 10", "replications: 1000000000",
         r":9: replications: 1 billion replications; at most 1 million"),
        ("lognormal_sd_overflow", "{dist: exponential, mean: 4m}\n  \"311\"",
         "{dist: lognormal, mean: 0.001, sd: 1e9}\n  \"311\"", r"handle_time: sd must be between a millionth"),
    ],
)  # fmt: skip
def test_validate_refuses_what_simulate_cannot_run(
    name: str, old: str, new: str, expected: str, tmp_path: Path
) -> None:
    path = _write(tmp_path, _edit(old, new))
    _refused(_cli("validate", str(path)), path, expected)
    _refused(_cli("simulate", str(path), "--out", str(tmp_path / "out")), path, expected)
    assert not (tmp_path / "out").exists()


def test_surge_multiplier_inf_and_staff_with_nan(tmp_path: Path) -> None:
    text = _edit("staffing:", 'surges: [{name: s, class: "311", start: 1h, end: 2h, multiplier: .inf}]\nstaffing:')
    path = _write(tmp_path, text)
    for command in ("validate", "simulate", "staff", "analytic"):
        _refused(_cli(command, str(path)), path, r"surges\.0\.multiplier: must be a finite number")


def test_large_lifts_soft_limits_only(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit("agents: 10", "agents: 20000"))
    _refused(_cli("validate", str(path)), path, r"20,000 agents in all shifts; at most 10,000 without --large")
    assert _cli("validate", str(path), "--large").exit_code == 0
    big = _write(tmp_path, _edit("{rate_per_hour: 36}", "{rate_per_hour: 1.0e+9}"), "big.yaml")
    _refused(_cli("validate", str(big), "--large"), big, r"at most 2\.1 billion \(a limit of the model\)")


def test_replications_override_is_named(tmp_path: Path, write_scenario) -> None:
    result = _cli("simulate", str(write_scenario()), "--replications", "1000000000", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.stderr == "--replications: 1 billion replications; at most 1 million (a limit of the model)\n"


def test_analytic_with_no_agents_says_the_formulas_do_not_apply(tmp_path: Path) -> None:
    path = _write(tmp_path, _edit("agents: 10", "agents: 0"))
    result = _cli("analytic", str(path))
    assert result.exit_code == 0, result.output
    assert "pool call-takers: no agents" in result.stdout


# --- options checked before any work ------------------------------------------------------


def test_out_under_a_file_fails_up_front(tmp_path: Path, write_scenario) -> None:
    (tmp_path / "afile").write_text("x")
    start = time.perf_counter()
    result = _cli("simulate", str(write_scenario(horizon="30d")), "--out", str(tmp_path / "afile" / "sub"))
    assert time.perf_counter() - start < 2.0  # before the simulation, not after
    assert result.exit_code == 2
    assert result.stderr == f"--out {tmp_path / 'afile' / 'sub'}: {tmp_path / 'afile'} is a file, not a folder\n"


def test_out_folder_of_other_files_is_not_replaced(tmp_path: Path, write_scenario) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = _cli("simulate", str(write_scenario()), "--out", str(tmp_path / "mine"))
    assert result.exit_code == 2 and "holds files ivr311 did not write (notes.txt)" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_out_is_created_and_replaced_whole(tmp_path: Path, write_scenario) -> None:
    out = tmp_path / "new" / "deeper"
    path = write_scenario(horizon="4h", warmup="0s")
    assert _cli("simulate", str(path), "--out", str(out), "--calls", "-q").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["calls.csv", "hourly.csv", "intervals.csv", "summary.json"]
    assert _cli("simulate", str(path), "--out", str(out), "-q").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "hourly.csv",
        "intervals.csv",
        "summary.json",
    ]  # no stale calls.csv
    assert [p.name for p in out.parent.iterdir()] == ["deeper"]  # no partial or old folder left


def test_interval_of_a_nanosecond_is_refused(write_scenario) -> None:
    result = _cli("simulate", str(write_scenario()), "--interval", "0.000000001s")
    assert result.exit_code == 2 and "must be at least 1s" in result.stderr


def test_many_intervals_are_a_soft_limit(tmp_path: Path, write_scenario) -> None:
    result = _cli("simulate", str(write_scenario(horizon="30d")), "--interval", "1s", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "2.6 million intervals of --interval per replication; at most 100,000 without --large" in result.stderr


def test_dask_address_that_does_not_parse_fails_at_once(write_scenario) -> None:
    start = time.perf_counter()
    result = _cli("simulate", str(write_scenario()), "--dask", "not a url", "-q")
    assert time.perf_counter() - start < 2.0
    assert result.exit_code == 2
    assert result.stderr == "--dask 'not a url': expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786\n"


def test_jobs_are_capped_at_the_replications(write_scenario, tmp_path: Path, monkeypatch) -> None:
    from queueing.core import runner

    started = []
    monkeypatch.setattr(
        runner,
        "ProcessPoolExecutor",
        lambda max_workers: (
            started.append(max_workers) or (__import__("concurrent.futures").futures.ThreadPoolExecutor(max_workers))
        ),
    )
    path = write_scenario(horizon="2h", warmup="0s", replications=2)
    result = _cli("simulate", str(path), "--jobs", "10000", "--out", str(tmp_path / "o"), "-q")
    assert result.exit_code == 0, result.output
    assert started == [2]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("seed=1,2", "seed=3,4"),
        ("staffing.pools.0.agents=2,3", "staffing.pools.call-takers.agents=4,5"),
    ],
)
def test_sweep_refuses_the_same_field_twice(write_scenario, first: str, second: str) -> None:
    result = _cli("sweep", str(write_scenario()), "--set", first, "--set", second)
    assert result.exit_code == 2 and f"{first!r} and {second!r} set the same field" in result.stderr


def test_sweep_takes_two_fields_of_one_pool(write_scenario, tmp_path: Path) -> None:
    result = _cli(
        "sweep",
        str(write_scenario(horizon="2h", warmup="0s", replications=2)),
        "-q",
        "--out",
        str(tmp_path / "s"),
        "--set",
        "staffing.pools.0.agents=2,3",
        "--set",
        "staffing.pools.call-takers.name=a,b",
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("other", "expected"),
    [({"horizon": "30d"}, "their horizons differ (2d vs 30d)"), ({"warmup": "0s"}, "their warm-ups differ (2h vs 0s)")],
)
def test_compare_refuses_different_runs_and_names_the_files(other: dict, expected: str, tmp_path: Path) -> None:
    a = _write(tmp_path, scenario_text(), "a.yaml")
    b = _write(tmp_path, scenario_text(**other), "b.yaml")
    result = _cli("compare", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 2
    assert result.stderr == f"cannot compare {a} and {b}: {expected}\n"


def test_compare_of_different_classes_names_the_files(tmp_path: Path) -> None:
    a = _write(tmp_path, scenario_text(), "a.yaml")
    b = _write(tmp_path, scenario_text().replace('"311"', '"312"').replace("'311'", "'312'"), "b.yaml")
    result = _cli("compare", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"cannot compare {a} and {b}: their call classes differ")


# --- saying when the queue does not settle ------------------------------------------------


def test_overload_is_warned_and_unserved_shown(tmp_path: Path, write_scenario) -> None:
    """5x capacity: before, 0% abandoned and short waits were all one saw."""
    path = write_scenario(agents=2, rates=(36, 96), horizon="2d", warmup="0s", replications=2)
    result = _cli("simulate", str(path), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "unserved" in result.stdout.splitlines()[2]
    assert "warning: arrivals bring about 422 agent-hours of calls, the shifts give 96 (4.4 times)" in result.stderr
    assert re.search(
        r"warning: class 311: [\d,]+ of [\d,]+ calls per replication \(\d+%\) still unanswered", result.stderr
    )


def test_settled_runs_say_nothing(tmp_path: Path) -> None:
    result = _cli("simulate", str(BASELINE), "-r", "2", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0 and result.stderr == ""


# --- Ctrl-C while results are written -----------------------------------------------------


def _interrupt_while_writing(path: Path, out: Path, seed: int) -> subprocess.CompletedProcess:
    """Run simulate --calls in a subprocess and send SIGINT once it is writing its files."""
    cmd = [
        sys.executable,
        "-c",
        "from queueing.cli import main; main()",
        "simulate",
        str(path),
        "--calls",
        "--out",
        str(out),
        "--seed",
        str(seed),
        "-j",
        "1",
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in out.parent.glob(f".{out.name}.partial-*") if (p / "intervals.csv").exists()]
        if partial:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.002)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
def test_ctrl_c_while_writing_leaves_old_results_or_none(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="20d", warmup="0s", replications=2, rates=(360, 960), agents=60)
    out = tmp_path / "results"
    run = _interrupt_while_writing(path, out, seed=1)
    assert run.returncode != 0, run.stderr
    assert f"interrupted: {out} left as it was (nothing was written there)" in run.stderr
    assert not out.exists()
    # A complete run, then another seed interrupted: the folder is entirely the first run's.
    assert _cli("simulate", str(path), "--calls", "--out", str(out), "--seed", "1", "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    run = _interrupt_while_writing(path, out, seed=2)
    assert f"interrupted: {out} left as it was (its previous results are kept)" in run.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- the property: mutated shipped scenarios -----------------------------------------------

EXAMPLES = int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rng=st.randoms(use_true_random=False))
def test_mutated_scenarios_validate_or_fail_cleanly_and_valid_ones_simulate(rng: random.Random, tmp_path: Path) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_bytes(mutate(rng))
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.perf_counter() - start < 5.0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith(f"{path}:") for line in lines), lines
        return
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["simulate", str(path), "-r", "2", "-j", "1", "-q", "--out", str(out)])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code == 0, run.output
    assert (out / "summary.json").exists()


def _with_file_size_limit(limit_bytes: int) -> None:
    """In the child: files may not grow past ``limit_bytes`` (a full disk, as far as writes see)."""
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))


def test_a_full_disk_is_one_line_and_keeps_the_old_results(tmp_path: Path, write_scenario) -> None:
    path = write_scenario(horizon="4h", warmup="0s", replications=2)
    out = tmp_path / "out"
    assert _cli("simulate", str(path), "--out", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cmd = [sys.executable, "-m", "queueing.cli", "simulate", str(path), "--out", str(out), "--calls", "-q"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, preexec_fn=lambda: _with_file_size_limit(64 * 1024), timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"--out {out}: cannot write the results (File too large); its previous results are kept\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial folder left
