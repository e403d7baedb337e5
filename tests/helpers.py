"""Helpers shared by the queueing tests: the repository root and a scenario in DESIGN.md's shape."""

from __future__ import annotations

from pathlib import Path

import yaml

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
