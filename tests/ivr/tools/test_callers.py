"""Simulated callers never touch the live call log: `ivr311 callers` (Poisson callers, or the
model's calls with --scenario / --model-calls) logs to a database of its own unless told
otherwise, says where on stderr, keeps a journal of its own, and the service requests it opens
are marked simulated, which the public Open311 list never shows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ivr.tools.cli
from ivr.calllog.engine import make_engine
from ivr.calllog.servicerequests import ServiceRequests
from ivr.tools.cli import callers
from tests.ivr.open311_client import Open311, body, make_app


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's own call log and journal, as its environment names them; the instance folder
    in tmp_path (not the repository's)."""
    path = tmp_path / "live.sqlite3"
    monkeypatch.setenv("IVR311_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("IVR311_JOURNAL_DIR", str(tmp_path / "live-journal"))
    monkeypatch.setenv("IVR311_CALLER_HASH_KEY", "simulated-callers-test-key-0123")
    monkeypatch.setattr(ivr.tools.cli, "instance_folder", lambda: tmp_path / "instance")
    return path


def model_results(folder: Path) -> Path:
    """A results folder as `simulate --calls` writes it: a few 311 calls in listed categories."""
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"meta": {"horizon_s": 3600, "replications": 1}}))
    columns = "replication call_id class category arrival_s queued_s answered_s ended_s wait_s pool agent outcome"
    with (folder / "calls.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns.split())
        for i, category in enumerate(["noise", "rodents", "noise", "other"]):
            at = 60.0 * i
            writer.writerow([0, i, "311", category, at, at + 20, at + 50, at + 200, 30, "desk", 1, "answered"])
    return folder


@pytest.mark.parametrize("mode", ["poisson", "model"])
def test_simulated_callers_log_apart_and_their_requests_are_not_public(live, tmp_path, mode):
    args = ["--count", "25", "--rate-per-hour", "300", "--seed", "4"]
    if mode == "model":
        args = ["--model-calls", str(model_results(tmp_path / "model")), "--seed", "4"]
    result = CliRunner().invoke(callers, args)
    assert result.exit_code == 0, result.output
    own = tmp_path / "instance" / "simulated-callers.sqlite3"
    assert f"simulated callers log to sqlite:///{own}" in result.stderr
    assert not live.exists(), "the live call log was written"
    assert not (tmp_path / "live-journal").exists(), "the live journal was written"
    engine = make_engine(f"sqlite:///{own}")
    try:
        made = ServiceRequests(engine).query(limit=10_000)
    finally:
        engine.dispose()
    assert made and all(r["simulated"] for r in made)
    app: Any = make_app(f"sqlite:///{own}", tmp_path)
    try:
        api = Open311(app.test_client())
        assert body(api.get("requests", start_date="2000-01-01T00:00:00Z"), "json") == []
        assert api.get(f"requests/{made[0]['service_request_id']}").status_code == 404
    finally:
        app.extensions["ivr311.store"].close()
        app.extensions["ivr311.open311_gate"].close()


def test_an_explicit_database_is_used_and_still_marked(live, tmp_path):
    chosen = f"sqlite:///{tmp_path / 'chosen.sqlite3'}"
    result = CliRunner().invoke(callers, ["--count", "10", "--rate-per-hour", "300", "--database-url", chosen])
    assert result.exit_code == 0, result.output
    assert "a database of their own" not in result.stderr and chosen in result.stderr
    engine = make_engine(chosen)
    try:
        made = ServiceRequests(engine).query(limit=10_000)
        assert made and all(r["simulated"] for r in made)
        assert ServiceRequests(engine).query(public=True) == []
    finally:
        engine.dispose()
    assert not live.exists()
