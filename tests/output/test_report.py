"""report.html: structure, verdicts recounted from the calls, and the page as headless Chromium shows it.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-separated JSON), so the test needs nothing beyond the standard library
and the Debian ``chromium`` package (``make test`` installs it when missing; without it the test
fails, it does not skip).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from matplotlib.image import imread

from queueing import Scenario, load_scenario, parse_scenario, simulate
from queueing.core.metric_names import format_money, format_value
from queueing.core.records import ANSWERED
from queueing.core.runner import SimulationResult
from queueing.core.scenario_file import with_overrides
from queueing.core.statistics import paired_difference
from queueing.output.plots import hourly, pool_agents_by_hour
from queueing.output.report import render_report, verdicts, write_report
from tests.support import REPO
from tests.support.cli import invoke
from tests.support.scenarios import rated_plan

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ["baseline", "plus one"]


# --- fixtures ----------------------------------------------------------------------------------


def plus_one_call_taker(scenario: Scenario) -> Scenario:
    """The scenario with one more call-taker on the day shift of its first pool."""
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data["name"] += ", one more day call-taker"
    data["staffing"]["pools"][0]["shifts"][1]["agents"] += 1
    return Scenario.model_validate(data)


def paired_rows(results: list[SimulationResult], labels: list[str]) -> list[dict[str, Any]]:
    """comparison.csv-shaped rows for a few class metrics: B − A paired over replications."""
    a, b = results
    rows = []
    for name in a.scenario.class_names():
        for metric, key in (("wait_s.mean", ("wait_s", "mean")), ("abandoned.share", ("abandoned", "share"))):
            full = ("classes", name, *key)
            xa = np.array([r.measures[full] for r in a.replications])
            xb = np.array([r.measures[full] for r in b.replications])
            diff, lo, hi = paired_difference(xa, xb)
            rows.append({
                "metric": metric, "class": name, "scenario_a": labels[0], "scenario_b": labels[1],
                "a_value": float(xa.mean()), "b_value": float(xb.mean()), "diff": diff,
                "diff_ci_low": lo, "diff_ci_high": hi,
            })  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def runs() -> list[SimulationResult]:
    base = with_overrides(load_scenario(REPO / "scenarios" / "baseline.yaml"), replications=3)
    return [simulate(s, keep_calls=True) for s in (base, plus_one_call_taker(base))]


@pytest.fixture(scope="module")
def report(runs: list[SimulationResult], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    rows = paired_rows(runs, LABELS)
    out = tmp_path_factory.mktemp("report")
    path = write_report(out / "report.html", runs, LABELS, rows, "Baseline & one more", png_dir=out / "plots")
    return path, rows


class Page(HTMLParser):
    """The tags of a page: img sources, table rows per table, scripts, external references."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables: list[list[str]] = []
        self.tags: list[str] = []
        self.references: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "table":
            self.tables.append([])
        if tag == "tr" and self.tables:
            self.tables[-1].append(values.get("class") or "")
        for name in ("src", "href", "srcset", "action"):
            if values.get(name):
                self.references.append(values[name] or "")


# --- the page's structure ------------------------------------------------------------------------


def test_every_image_is_an_embedded_png_and_nothing_is_fetched(report: tuple[Path, list[dict]]) -> None:
    text = report[0].read_text(encoding="utf-8")
    page = Page(text)
    assert len(page.images) == 4  # service level, wait CDF, queue and agents, abandonment
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(PNG_SIGNATURE)
        height, width = imread(io.BytesIO(png), format="png").shape[:2]
        assert width >= 1000 and height >= 300
    files = sorted((report[0].parent / "plots").glob("*.png"))
    assert [f.stem for f in files] == ["abandonment_by_hour", "queue_and_agents", "service_level_by_hour", "wait_cdf"]
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in page.images}
    assert {f.read_bytes() for f in files} == embedded  # the PNG files are the very images of the page
    assert all(ref.startswith("data:") for ref in page.references)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "url(" not in text and "@import" not in text


def test_verdicts_are_on_the_page_and_match_the_calls(runs: list[SimulationResult], report: tuple) -> None:
    """Each verdict's window counts, recounted from the raw calls (not from the interval rows): the
    baseline's targets are over every interval, here the run's 15-minute intervals of the day."""
    text = report[0].read_text(encoding="utf-8")
    sentences = verdicts(runs, LABELS)
    assert len(sentences) == 3  # 911 within 15 s and 20 s, 311 within 30 s
    for sentence in sentences:
        assert escape(sentence) in text
    counts = {}
    for res, label in zip(runs, LABELS, strict=True):
        sc = res.scenario
        for k, name in enumerate(sc.class_names()):
            for t in sc.targets[name]:
                assert t.window == "interval" and res.interval_s == 900
                shares = np.full((len(res.replications), 96), np.nan)
                for r, rep in enumerate(res.replications):
                    rec = rep.records
                    assert rec is not None
                    c = rec.callers
                    quarter = (c.arrival_s % 86400 // 900).astype(int)
                    for h in range(96):
                        mine = (c.cls == k) & (quarter == h) & (c.arrival_s >= sc.warmup)
                        if mine.any():
                            in_time = mine & (rec.outcome == ANSWERED) & (rec.wait_s <= t.within)
                            shares[r, h] = in_time.sum() / mine.sum()
                with_calls = ~np.all(np.isnan(shares), axis=0)
                mean = np.nanmean(shares[:, with_calls], axis=0)
                counts[label, name, t.within] = (int((mean >= t.share).sum()), int(with_calls.sum()))
    expected = []
    for name, within, share in (("911", 15.0, 0.9), ("911", 20.0, 0.95), ("311", 30.0, 0.8)):
        (met_a, hours_a), (met_b, hours_b) = counts["baseline", name, within], counts["plus one", name, within]
        assert hours_a == hours_b >= 90  # a quarter-hour of the night may have no 311 call
        expected.append(
            f"baseline meets {name} {share * 100:g}% within {within:g} s in {met_a} of {hours_a} intervals; "
            f"plus one in {met_b}."
        )
    assert sentences == expected
    # One more call-taker on the day shift, same callers: never fewer intervals met.
    for name, within, _ in (("911", 15.0, 0.9), ("311", 30.0, 0.8)):
        assert counts["plus one", name, within][0] >= counts["baseline", name, within][0]


def test_differences_table_has_a_row_per_comparison_and_marks_intervals_excluding_zero(report: tuple) -> None:
    path, rows = report
    text = path.read_text(encoding="utf-8")
    assert "<h2>Differences</h2>" in text
    table = Page(text[text.index("<h2>Differences</h2>") :]).tables[0]
    assert len(table) == 1 + len(rows)  # header row, then one per comparison row
    for row, css in zip(rows, table[1:], strict=True):
        excludes_zero = row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0
        assert (css == "sig") == excludes_zero
    # metrics by their display names (the files keep machine names)
    assert "mean wait" in text and "hung up waiting" in text and "wait_s.mean" not in text
    assert re.search(r"[−-]?\d+(\.\d+)? s", text)  # waits carry their unit


def test_meta_and_headline_figures(runs: list[SimulationResult], report: tuple) -> None:
    text = report[0].read_text(encoding="utf-8")
    assert "<title>Baseline &amp; one more</title>" in text
    for res in runs:
        assert escape(res.scenario.name) in text
    assert "seed 311; 3 replications each" in text
    assert "<h3>Class 911</h3>" in text and "<h3>Class 311</h3>" in text
    assert "call-takers" in text and "311-desk" in text
    # Shares read as percent, like every console table: the headline's service-level cells too.
    share = runs[0].summary["classes"]["911"]["service_level"][0]["share"]["value"]
    assert re.search(rf'<td class="num"><span class="(un)?met">{100 * share:.1f}%</span><br>', text)


# --- hour-of-day folding, a single scenario, escaping --------------------------------------------


def small_scenario(name: str = "small centre", horizon: str = "2d", warmup: str = "2h", agents: int = 4) -> Scenario:
    doc = {
        "name": name, "seed": 5, "horizon": horizon, "warmup": warmup, "replications": 2,
        "classes": {
            "911": {"priority": 1, "arrivals": {"rate_per_hour": 20},
                    "handle_time": {"dist": "exponential", "mean": "4m"}},
            "311": {"priority": 2, "arrivals": {"rate_per_hour": 30},
                    "handle_time": {"dist": "exponential", "mean": "4m"},
                    "patience": {"dist": "exponential", "mean": "3m"}},
        },
        "staffing": {"pools": [{"name": "call-takers", "serves": ["911", "311"], "agents": agents}]},
        "targets": {"911": [{"within": "15s", "share": 0.9}], "311": [{"within": "30s", "share": 0.8}]},
    }  # fmt: skip
    return parse_scenario(yaml.safe_dump(doc))


def test_days_fold_into_hours_and_the_warm_up_is_left_out() -> None:
    scenario = small_scenario()
    result = simulate(scenario, keep_calls=True, interval_s=1800)
    folded = hourly(result)
    for k, name in enumerate(scenario.class_names()):
        for r, rep in enumerate(result.replications):
            assert rep.records is not None
            c = rep.records.callers
            kept = (c.cls == k) & (c.arrival_s >= scenario.warmup)
            expected = np.bincount((c.arrival_s[kept] % 86400 // 3600).astype(int), minlength=24)
            assert folded[name].arrivals[r].tolist() == expected.tolist()
            abandoned = kept & (rep.records.outcome == 1)
            expected_ab = np.bincount((c.arrival_s[abandoned] % 86400 // 3600).astype(int), minlength=24)
            assert folded[name].abandoned[r].tolist() == expected_ab.tolist()
        # Hours 0 and 1 come from day 2 only (day 1's are warm-up): about half the calls of other hours.
        per_hour = folded[name].arrivals.sum(axis=0)
        assert per_hour[:2].sum() < 0.75 * per_hour[2:4].sum()
        assert np.allclose(folded[name].agents[~np.isnan(folded[name].agents)], 4)


def test_agents_on_duty_count_each_agent_once_in_its_own_pool() -> None:
    dedicated = load_scenario(REPO / "scenarios" / "dedicated-pools.yaml")
    shared = load_scenario(REPO / "scenarios" / "shared-pool.yaml")
    totals = []
    for scenario in (dedicated, shared):
        by_pool = pool_agents_by_hour(scenario)
        assert list(by_pool) == [p.name for p in scenario.staffing.pools]
        for pool in scenario.staffing.pools:
            expected = [pool.agents_at(h * 3600 + 1800) for h in range(24)]
            assert by_pool[pool.name].tolist() == pytest.approx(expected)
        totals.append(sum(by_pool.values()))
    # The same people, pooled or not: a shared pool is not more staff than dedicated ones.
    assert totals[0].tolist() == pytest.approx(totals[1].tolist())


def test_single_scenario_report_without_calls_escapes_everything(tmp_path: Path) -> None:
    scenario = small_scenario(name="<b>centre</b> & co", horizon="12h", warmup="0s", agents=5)
    result = simulate(scenario, interval_s=3600)
    label = "<script>alert(1)</script>"
    path = write_report(tmp_path / "out" / "report.html", [result], [label], [], "")
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert "script" not in page.tags and "b" not in page.tags
    assert escape(label) in text and escape(scenario.name) in text
    assert len(page.images) == 3 and "Not drawn: the calls were not kept" in text
    assert "<h2>Differences</h2>" not in text and "Day by day" not in text  # no days in a run of 12 hours
    assert render_report([result], [label]) == text  # same results, same bytes: no time stamp
    (sentence_911, sentence_311) = verdicts([result], [label])
    assert re.fullmatch(re.escape(label) + r" meets 911 90% within 15 s in \d+ of 12 intervals\.", sentence_911)
    assert escape(sentence_311) in text


def test_a_hostile_scenario_name_comes_out_as_text(tmp_path: Path) -> None:
    """The template autoescapes: markup, ampersands and both quotes in a name stay text everywhere."""
    name = """<script>alert(1)</script> & "double" 'single'"""
    result = simulate(small_scenario(name=name, horizon="12h", warmup="0s", agents=5), interval_s=3600)
    row = {"metric": "offered", "class": "911", "scenario_a": name, "scenario_b": name}
    row |= {"a_value": 1.0, "b_value": 2.0, "diff": 1.0, "diff_ci_low": 0.5, "diff_ci_high": 1.5}
    text = write_report(tmp_path / "report.html", [result], [name], [row]).read_text(encoding="utf-8")

    class Texts(Page):
        def __init__(self, text: str) -> None:
            self.data: list[str] = []
            super().__init__(text)

        def handle_data(self, data: str) -> None:
            self.data.append(data)

    page = Texts(text)
    assert "script" not in page.tags
    assert "<script>" not in text and '"double"' not in text and "'single'" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;double&#34; &#39;single&#39;" in text
    # title, h1, scenario table, verdict sentences, headline rows and both comparison cells
    assert page.data.count(name) >= 6, page.data


def test_intervals_must_divide_the_hour() -> None:
    result = simulate(small_scenario(horizon="12h", warmup="0s"), interval_s=7200)
    with pytest.raises(ValueError, match="must divide 1 h"):
        render_report([result], ["x"])


# --- headless Chromium -------------------------------------------------------------------------


class DevTools:
    """A headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:  # in the child: our pipe ends become Chromium's fds 3 (in) and 4 (out)
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)  # first out of the way of 3 and 4
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            [binary, *flags, "about:blank"],
            preexec_fn=child_fds,
            close_fds=False,  # keep 3 and 4 (everything else Python opens is non-inheritable anyway)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, timeout_s: float = 20.0) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        sent = self._next_id
        reply = self.wait(lambda m: m.get("id") == sent, timeout_s)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]

    def wait(self, wanted: Callable[[dict[str, Any]], bool], timeout_s: float = 20.0) -> dict[str, Any]:
        """Read messages (keeping events) until one is ``wanted``."""
        deadline = time.monotonic() + timeout_s
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise EOFError(f"Chromium exited (status {self.process.poll()})")
                self._buffer += chunk

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, EOFError, AssertionError):
            self.send("Browser.close", timeout_s=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is needed to check report.html but was not found: install the Debian package "
        "`chromium` (`make test` does: apt-get install -y chromium)",
        pytrace=False,
    )


def test_report_in_headless_chromium(report: tuple[Path, list[dict]], tmp_path: Path) -> None:
    """Every image decodes, no console error, nothing but the file and data: URIs is requested,
    and the full-page screenshot shows a substantial amount of non-white content (set
    IVR311_KEEP_SCREENSHOT=/some/file.png to keep it for a look)."""
    path = report[0]
    browser = DevTools(chromium(), tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False,
        })  # fmt: skip
        browser.send("Page.navigate", {"url": path.as_uri()})
        browser.wait(lambda m: m.get("method") == "Page.loadEventFired")
        images = browser.send("Runtime.evaluate", {
            "expression": "Array.from(document.images, i => [i.complete, i.naturalWidth, i.naturalHeight])",
            "returnByValue": True,
        })["result"]["value"]  # fmt: skip
        size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })["data"]  # fmt: skip
    finally:
        browser.close()

    broken = [i for i, (complete, width, height) in enumerate(images) if not (complete and width > 0 and height > 0)]
    assert not broken, f"images {broken} of {len(images)} did not decode: {images}"
    assert len(images) == 4, images
    errors = [
        e["params"] for e in browser.events
        if (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
        or e["method"] == "Network.loadingFailed"
    ]  # fmt: skip
    assert not errors, errors
    requested = [e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"]
    assert requested[0] == path.as_uri()
    assert all(url == path.as_uri() or url.startswith("data:") for url in requested), requested

    png = base64.b64decode(shot)
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(png)
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    height, width = pixels.shape[:2]
    assert width == 1280 and height > 3000, (width, height)  # the whole page, not a blank viewport
    ink = np.any(pixels < 0.9, axis=-1)
    assert ink.mean() > 0.05, f"screenshot {screenshot} is nearly blank ({ink.mean():.1%} non-white pixels)"
    rows_with_ink = ink.any(axis=1).mean()
    assert rows_with_ink > 0.5, f"screenshot {screenshot}: content on only {rows_with_ink:.0%} of the rows"
    keep = os.environ.get("IVR311_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(screenshot, keep)


# --- simulate --report -------------------------------------------------------------------------


def test_report_shows_the_cost(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(rated_plan(12, 38.5, break_=True))
    out = tmp_path / "out"
    result = invoke("simulate", str(path), "--out", str(out), "--report", "-q", "-r", "2")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    cost = summary["cost"]
    section = html[html.index("<h3>Cost</h3>") :]
    for text in (
        format_money(cost["per_day"]["value"], "$"),
        format_money(cost["per_answered_call"]["value"], "$"),
        format_value("cost.paid_hours_per_day", cost["paid_hours_per_day"]),
    ):
        assert text in section
    pool = summary["pools"]["call-takers"]["cost_per_day"]
    assert format_money(pool["value"], "$") in html[html.index("<h3>Pools</h3>") :]


def test_simulate_report_for_one_scenario(write_scenario, tmp_path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "simulate", str(write_scenario(horizon="1d", replications=2)), "--report", "--calls", "--out", str(out), "-q"
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "meets 911 90% within 15 s in" in html
    assert (out / "wait_cdf.png").exists() and (out / "service_level_by_hour.png").exists()


def test_a_run_longer_than_a_day_has_a_day_by_day_section() -> None:
    week = simulate(small_scenario(horizon="9d", warmup="0s", agents=5), interval_s=3600)
    text = render_report([week, week], ["a", "b"])
    section = text[text.index("<h2>Day by day</h2>") :]
    page = Page(section[: section.index("<h2>", 5)])
    # per class, a table by day (9 days, 2 runs) and one by weekday (7 weekdays, 2 runs)
    assert [len(rows) - 1 for rows in page.tables] == [18, 14, 18, 14]
    node = week.summary["days"][8]["classes"]["911"]
    assert f'day 8 (Tue) · b</td><td class="num">{format_value("offered", node["offered"]["value"])}' in section
    assert "Mon (2 days) · a" in section


def test_agents_on_duty_panels_fit_every_scenario_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    # The larger plan second: a shared axis set from the first panel's data cut it off.
    from queueing.output import plots

    small = with_overrides(load_scenario(REPO / "scenarios" / "baseline.yaml"), replications=2)
    large = plus_one_call_taker(plus_one_call_taker(plus_one_call_taker(small)))
    results = [simulate(s, interval_s=3600.0) for s in (small, large)]
    figures: list[Any] = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    plots.queue_and_agents(results, ["small", "large"])
    (fig,) = figures
    panels = [ax for ax in fig.get_axes() if ax.get_ylabel() == "agents on duty"]
    assert len(panels) == 2
    for ax, res in zip(panels, results, strict=True):
        total = sum(pool_agents_by_hour(res.scenario).values())
        assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= np.nanmax(total)


def test_the_reports_pool_costs_add_up_to_its_cost_a_day() -> None:
    """The report's pool table rounded each pool alone ($7,426 and $995) under a cost section of
    $8,420; the pools' cost is now a share of the cost a day as the page prints it."""
    from types import SimpleNamespace

    from queueing.output.report import _cost_rows, _pool_rows

    def est(v: float) -> dict[str, object]:
        return {"value": v, "ci95": [v - 5, v + 5]}

    summary = {
        "pools": {
            "a": {"utilization": est(0.5), "agent_hours": est(100.5), "cost_per_day": est(7425.683)},
            "b": {"utilization": est(0.8), "agent_hours": est(30.5), "cost_per_day": est(994.726)},
        },
        "cost": {
            "currency": "$", "per_day": est(7425.683 + 994.726), "per_answered_call": est(4.1),
            "paid_hours_per_day": 131.0, "overtime_hours_per_day": est(0.0),
        },
    }  # fmt: skip
    result = SimpleNamespace(summary=summary)
    rows = _pool_rows([result], ["baseline"])  # type: ignore[list-item]
    assert [r["cost"] for r in rows] == ["$7,425", "$995"]
    cells = _cost_rows([result], ["baseline"])[0]["cells"]  # type: ignore[list-item]
    assert "$8,420" in str(cells)
