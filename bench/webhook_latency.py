"""Webhook latency of the voice app under load (a benchmark, not a timed test).

Starts the app under gunicorn (2 sync workers) on loopback with a fresh SQLite call log, and
simulated callers that walk the menu exactly as Twilio would drive it (signed form posts,
following each Gather action): greeting, a menu path (emergency key, services by key, speech,
low-confidence speech with confirmation, operator), the hold music URL, the agent line, the
bridge, the queue result and the final status callback. Then the same callers, same requests,
against a Flask endpoint that returns a fixed TwiML string (same gunicorn setup), as a ceiling.

Reports requests/s, p50/p99 latency, errors, and calls lost from the log (every finished walk
must be in the export with its final status). Targets from the issue: p99 < 50 ms,
>= 500 requests/s, >= half the fixed endpoint's throughput, 0 calls lost.

    .venv/bin/python bench/webhook_latency.py                 # 50 callers, 60 s per server
    .venv/bin/python bench/webhook_latency.py --duration 10   # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-" + uuid.uuid4().hex[:8]
FIXED_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you for calling.</Say>'
    "</Response>"
)


def make_fixed_app():  # type: ignore[no-untyped-def]
    """The baseline: Flask returning a fixed TwiML string on every path, nothing else."""
    from flask import Flask, Response

    fixed = Flask("fixed_twiml")

    @fixed.post("/", defaults={"path": ""})
    @fixed.post("/<path:path>")
    def anything(path: str) -> Response:
        return Response(FIXED_TWIML, mimetype="text/xml")

    @fixed.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return fixed


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, target: str, port: int, env: dict[str, str], workers: int, log: Path):
        self.port = port
        self.log = log
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
               f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", target]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn {target} exited:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn {target} did not start:\n{log.read_text()}")

    def cpu_s(self) -> float:
        """CPU seconds used so far by the master and its workers (Linux /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.proc.pid or ppid == self.proc.pid:
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# -- callers -------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    finished_calls: list[str] = field(default_factory=list)


async def post(port: int, path: str, params: dict[str, str], validator: RequestValidator,
               base: str) -> tuple[int, bytes]:
    body = urlencode(params).encode()
    signature = validator.compute_signature(base + path, params)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    parts = status_line.split()
    return (int(parts[1]) if len(parts) > 1 else 0), payload


PATHS = ["emergency", "services", "services_page2", "speech", "confirm", "operator"]


async def caller(port: int, stop_at: float, think_s: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    validator = RequestValidator(TOKEN)
    base = f"http://127.0.0.1:{port}"

    async def hit(path: str, params: dict[str, str]) -> ET.Element | None:
        t0 = time.perf_counter()
        try:
            status, payload = await post(port, path, params, validator, base)
        except OSError:
            stats.errors += 1
            return None
        stats.latencies_s.append(time.perf_counter() - t0)
        if status != 200:
            stats.errors += 1
            return None
        if think_s:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)
        return ET.fromstring(payload)

    def action(doc: ET.Element | None, fallback: str) -> str:
        gather = doc.find("Gather") if doc is not None else None
        return gather.get("action", fallback) if gather is not None else fallback

    while time.monotonic() < stop_at:
        sid = "CA" + uuid.uuid4().hex
        common = {"CallSid": sid, "From": f"+1555{rng.randrange(10**7):07d}",
                  "To": "+15550000311", "AccountSid": "AC" + "0" * 32}
        kind = rng.choice(PATHS)
        doc = await hit("/voice", common)
        menu_url = action(doc, "/voice/menu?lang=en&n=1&a=0")
        if kind == "emergency":
            doc = await hit(menu_url, {**common, "Digits": "1"})
        elif kind == "operator":
            doc = await hit(menu_url, {**common, "Digits": "0"})
        elif kind == "speech":
            doc = await hit(menu_url, {**common, "SpeechResult": "a pothole", "Confidence": "0.9"})
        elif kind == "confirm":
            doc = await hit(menu_url, {**common, "SpeechResult": "graffiti", "Confidence": "0.3"})
            doc = await hit(action(doc, "/voice/confirm?lang=en&n=2&a=0&cat=graffiti"),
                            {**common, "SpeechResult": "yes", "Confidence": "0.8"})
        else:
            doc = await hit(menu_url, {**common, "Digits": "2"})
            url = action(doc, "/voice/services?lang=en&n=2&a=0&page=1")
            if kind == "services_page2":
                doc = await hit(url, {**common, "Digits": "9"})
                url = action(doc, "/voice/services?lang=en&n=3&a=0&page=2")
            doc = await hit(url, {**common, "Digits": str(rng.randint(1, 6))})
        enqueue = doc.find("Enqueue") if doc is not None else None
        queue = enqueue.text if enqueue is not None and enqueue.text else "311"
        wait_url = enqueue.get("waitUrl") if enqueue is not None else None
        result_url = enqueue.get("action") if enqueue is not None else None
        await hit(wait_url or f"/voice/wait?lang=en&queue={queue}",
                  {**common, "QueuePosition": "1", "QueueTime": "5", "CurrentQueueSize": "3"})
        await hit("/agent", {"CallSid": "CA" + uuid.uuid4().hex, "From": "+15550009999"})
        await hit("/voice/bridge", {**common, "QueueTime": "20", "DequeingCallSid": "CAagent"})
        await hit(result_url or f"/voice/queue-result?lang=en&queue={queue}",
                  {**common, "QueueResult": "bridged", "QueueTime": "20"})
        final = await hit("/status", {**common, "CallStatus": "completed", "CallDuration": "90",
                                      "SequenceNumber": "3"})
        if final is not None:
            stats.finished_calls.append(sid)


@dataclass
class Run:
    stats: Stats
    elapsed_s: float
    server_cpu_s: float
    client_cpu_s: float


def load(server: Server, callers: int, duration_s: float, think_s: float) -> Run:
    stats = Stats()
    cpu0, client0 = server.cpu_s(), time.process_time()
    started = time.monotonic()
    stop_at = started + duration_s

    async def everyone() -> None:
        await asyncio.gather(
            *(caller(server.port, stop_at, think_s, stats, i) for i in range(callers))
        )

    asyncio.run(everyone())
    elapsed = time.monotonic() - started
    return Run(stats, elapsed, server.cpu_s() - cpu0, time.process_time() - client0)


def summarize(name: str, run: Run) -> dict[str, float | int | str]:
    stats, elapsed_s = run.stats, run.elapsed_s
    lat = sorted(stats.latencies_s)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else [0.0] * 99
    return {
        "server": name,
        "requests": len(lat),
        "requests_per_s": round(len(lat) / elapsed_s, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "max_ms": round((lat[-1] if lat else 0.0) * 1000, 2),
        "errors": stats.errors,
        "calls": len(stats.finished_calls),
        "server_cpu_ms_per_request": round(run.server_cpu_s * 1000 / max(len(lat), 1), 3),
        "client_cpu_ms_per_request": round(run.client_cpu_s * 1000 / max(len(lat), 1), 3),
    }


def calls_lost(db_url: str, finished: list[str]) -> int:
    """Finished walks missing from the log, or logged without their final status."""
    sys.path.insert(0, str(ROOT))
    from ivr.store import CallStore

    store = CallStore(db_url, create=False)
    try:
        logged = {r["call_sid"]: r for r in store.export_rows()}
    finally:
        store.close()
    return sum(
        1 for sid in finished
        if sid not in logged or logged[sid]["status"] != "completed"
        or logged[sid]["queue_result"] != "bridged"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per server")
    parser.add_argument("--callers", type=int, default=50, help="concurrent simulated callers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean pause of a caller between webhooks (0 = closed loop)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ivr311-bench-"))
    db_url = f"sqlite:///{tmp / 'calls.sqlite3'}"
    results = []
    try:
        port = free_port()
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR311_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
               "IVR311_DATABASE_URL": db_url, "IVR311_VALIDATE_SIGNATURES": "1"}
        server = Server("app:app", port, env, args.workers, tmp / "app.log")
        try:
            run = load(server, args.callers, args.duration, args.think_ms / 1000)
        finally:
            server.stop()
        app_row = summarize("ivr app", run)
        app_row["calls_lost"] = calls_lost(db_url, run.stats.finished_calls)
        results.append(app_row)

        port = free_port()
        fixed = Server("bench.webhook_latency:make_fixed_app()", port, {}, args.workers,
                       tmp / "fixed.log")
        try:
            run = load(fixed, args.callers, args.duration, args.think_ms / 1000)
        finally:
            fixed.stop()
        results.append(summarize("fixed TwiML", run))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    app_row, fixed_row = results
    print(f"{args.callers} callers, {args.duration:g} s per server, {args.workers} gunicorn "
          f"workers, think {args.think_ms:g} ms, loopback, SQLite (WAL) call log")
    print(f"{'server':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'errors':>7} {'calls':>6} {'lost':>5} {'srv cpu ms/req':>15} {'cli cpu ms/req':>15}")
    for row in results:
        print(f"{row['server']:<12} {row['requests_per_s']:>8} {row['p50_ms']:>8} "
              f"{row['p99_ms']:>8} {row['max_ms']:>8} {row['errors']:>7} {row['calls']:>6} "
              f"{row.get('calls_lost', '-'):>5} {row['server_cpu_ms_per_request']:>15} "
              f"{row['client_cpu_ms_per_request']:>15}")
    ratio = float(app_row["requests_per_s"]) / max(float(fixed_row["requests_per_s"]), 1e-9)
    targets = {
        "p99 < 50 ms": float(app_row["p99_ms"]) < 50,
        ">= 500 req/s": float(app_row["requests_per_s"]) >= 500,
        f">= half the fixed endpoint ({ratio:.2f})": ratio >= 0.5,
        "0 calls lost": app_row["calls_lost"] == 0,
        "0 errors": app_row["errors"] == 0,
    }
    for name, ok in targets.items():
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results, "targets": targets}, indent=2))
    return 1 if args.check and not all(targets.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
