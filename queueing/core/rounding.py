"""Whole numbers that add up: parts rounded so that they sum to their total rounded once
(Hamilton's largest-remainder method), for money printed in a column under its total and for
agents shared out between shifts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def apportion(values: Sequence[float], total: float | None = None) -> list[int]:
    """``values`` (money) rounded to whole units so that they add up to their sum rounded (or to
    ``total``, already whole): each is its floor, and the units left go to the largest remainders
    (Hamilton's method). Every part is within one unit of its value, and a printed column adds
    up to its printed total. Rounding half up, so 0.5 is 1."""
    whole = math.floor(math.fsum(values) + 0.5) if total is None else round(total)
    floors = [math.floor(v) for v in values]
    left = whole - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))  # largest remainder first
    for i in order[: max(0, min(left, len(values)))]:
        floors[i] += 1
    return floors


def printed_parts(values: list[Any], total: float | None, money: bool = False) -> list[Any]:
    """Figures printed in a column above (or beside) their total: when they are its parts (they add
    up to it) and every one is known, rounded so that the printed parts add up to the total as it is
    printed (whole units; money below 100 in cents, as ``format_money`` writes it); else as they are."""
    if total is None or any(v is None for v in values) or not math.isclose(math.fsum(values), total, abs_tol=1e-6):
        return values
    scale = 100 if money and abs(total) < 100 else 1
    whole = int(f"{total * scale:.0f}")  # the total as it is printed
    return [part / scale for part in apportion([v * scale for v in values], whole)]
