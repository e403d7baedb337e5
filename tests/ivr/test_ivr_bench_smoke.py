"""bench/webhook_latency.py still runs end to end (gunicorn, signed callers, the log checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_webhook_benchmark_runs_and_loses_no_call(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/webhook_latency.py", "--duration", "1.5", "--callers", "5",
         "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(out.read_text())
    app, fixed = report["results"]
    assert app["calls"] > 0 and app["calls_lost"] == 0 and app["errors"] == 0
    assert fixed["requests"] > 0 and fixed["errors"] == 0
