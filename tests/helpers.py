"""Helpers shared by the queueing tests: the repository root and a scenario in DESIGN.md's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from click.testing import CliRunner

from queueing.core.draws import Callers

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


def callers_at(arrivals_s: list[float], handle_s: float) -> Callers:
    """Callers of one class (index 0), no IVR, no abandonment, all with the same handle time."""
    n = len(arrivals_s)
    at = np.asarray(arrivals_s, dtype=float)
    return Callers(
        cls=np.zeros(n, dtype=np.int16),
        category=np.full(n, -1, dtype=np.int16),
        arrival_s=at,
        queued_s=at.copy(),
        handle_s=np.full(n, handle_s),
        patience_s=np.full(n, np.inf),
    )
