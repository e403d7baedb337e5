"""What the tests share besides fixtures, as an importable package (``tests.support``);
``conftest.py`` only provides fixtures. Bench scripts may import it too (``python -m bench.x``
from the repository root)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
