"""Helpers shared by the queueing tests: the repository root and a scenario in DESIGN.md's shape."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent


def scenario_text(
    *,
    agents: int = 10,
    rates: tuple[float, float] = (36, 96),
    handle: str = "4m",
    horizon: str = "2d",
    warmup: str = "2h",
    replications: int = 3,
    seed: int = 7,
    patience: str | None = None,
) -> str:
    """A two-class, one-shared-pool scenario in the shape of DESIGN.md's benchmark case."""
    classes = {}
    for prio, (name, rate) in enumerate(zip(("911", "311"), rates, strict=True), start=1):
        cc: dict = {
            "priority": prio,
            "arrivals": {"rate_per_hour": rate},
            "handle_time": {"dist": "exponential", "mean": handle},
        }
        if patience:
            cc["patience"] = {"dist": "exponential", "mean": patience}
        classes[name] = cc
    doc = {
        "name": "test centre",
        "seed": seed,
        "horizon": horizon,
        "warmup": warmup,
        "replications": replications,
        "classes": classes,
        "staffing": {"pools": [{"name": "call-takers", "serves": ["911", "311"], "agents": agents}]},
        "targets": {"911": [{"within": "15s", "share": 0.9}], "311": [{"within": "30s", "share": 0.8}]},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def assert_one_line_error(tmp_path: Path, text: str, expected: str) -> None:
    """``ivr311 validate`` of ``text`` (as bad.yaml) exits 2 with exactly the line ``bad.yaml:<expected>``."""
    from queueing.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"{path}:{expected}\n"
    assert "Traceback" not in result.output
