"""Simulated callers: many calls walked through the local app at simulated times, so the call
log (and `calls export`, and the planner's `calibrate`) can be tried without a phone.

Two sources of callers, one walk (`walk_call`, on the project's one TwiML walker):
- `simulate_callers`: Poisson arrivals at `rate_per_hour`; each caller picks a path (emergency,
  a service by speech or by keys, the operator, silence), and waits an independent random time
  (not a model of the centre: for trying the pipeline);
- `replay_model_calls`: the calls of the planner's model itself (its `calls.csv`: arrival, class,
  category, time in the menu, wait, answered or hung up, handle time), each walked through the
  real menu by key or by voice, so the log holds what the model says the centre would see.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask

from ivr import context
from ivr.errors import IvrError
from ivr.menu import QUEUE_911, Category, Menu
from ivr.tools.softphone import HttpTransport, Softphone, TwilioClient


@dataclass(frozen=True)
class CallerMix:
    """Shares of the paths callers take, and the times they spend (seconds)."""

    spanish: float = 0.2
    emergency: float = 0.08
    speech: float = 0.47
    keys: float = 0.25
    operator: float = 0.12  # the rest are silent callers
    think_s: tuple[float, float] = (2.0, 8.0)
    mean_wait_s: dict[str, float] | None = None
    mean_patience_s: dict[str, float] | None = None
    mean_talk_s: dict[str, float] | None = None

    def mean(self, table: dict[str, float] | None, queue: str, default: dict[str, float]) -> float:
        return (table or default)[queue]


WAIT_S = {"911": 15.0, "311": 90.0}
PATIENCE_S = {"911": 900.0, "311": 300.0}
TALK_S = {"911": 180.0, "311": 240.0}


STREET_ADDRESS = "100 Main Street"


def _address_answers(cat: Category) -> list[str]:
    """A service with a location asks for the street address (by voice), then a yes."""
    return [STREET_ADDRESS, "1"] if cat.address else []


def plan_inputs(rng: random.Random, menu: Menu, mix: CallerMix) -> tuple[list[str], float, str]:
    """What one caller will press or say, in order, the confidence of their speech, and the
    queue it leads to."""
    langs = list(menu.languages)
    lang = langs[1] if len(langs) > 1 and rng.random() < mix.spanish else langs[0]
    inputs = ["9"] if lang != langs[0] else []
    confidence = rng.uniform(0.35, 0.98)
    r = rng.random()
    if r < mix.emergency:
        words = menu.languages[lang].words.emergency
        inputs.append("1" if rng.random() < 0.5 else words[0])
    elif r < mix.emergency + mix.speech:
        cat = rng.choice(menu.listed)
        inputs.append(rng.choice(cat.synonyms[lang]))
        if confidence < menu.confidence_threshold:
            inputs.append("1")  # yes, that is what I said
        inputs += _address_answers(cat)
    elif r < mix.emergency + mix.speech + mix.keys:
        index = rng.randrange(len(menu.listed))
        page, position = divmod(index, menu.page_size)
        inputs += ["2", *(["9"] * page), str(position + 1), *_address_answers(menu.listed[index])]
    elif r < mix.emergency + mix.speech + mix.keys + mix.operator:
        inputs.append("0")
    else:
        inputs += [""] * (menu.max_reprompts + 1)
    return inputs, confidence, QUEUE_911 if r < mix.emergency else "311"


@dataclass(frozen=True)
class CallPlan:
    """One simulated call: what the caller does and how long each part takes (seconds)."""

    call_sid: str
    caller: str
    arrival: datetime
    inputs: list[str]
    confidence: float
    menu_s: float  # in the menu, spread evenly over the inputs
    wait_s: float  # in the queue before being answered or hanging up
    answered: bool
    talk_s: float


def walk_call(app: Flask | None, plan: CallPlan, now: list[datetime], twilio: TwilioClient | None = None) -> None:
    """Walk one planned call through `app` (or the running server `twilio` posts to); `now[0]`
    is the local app's clock, moved as time passes (a running server keeps its own clock; the
    webhooks still carry the plan's QueueTime and CallDuration)."""
    inputs = list(plan.inputs)
    per_input_s = plan.menu_s / max(1, len(inputs))
    now[0] = plan.arrival

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    def read(prompt: str) -> str:
        if prompt.startswith("[on hold]"):
            advance(plan.wait_s)
            return "" if plan.answered else "h"
        if prompt.startswith("[Enter = end"):
            advance(plan.talk_s)
            return ""
        advance(per_input_s)
        return inputs.pop(0) if inputs else ""

    phone = Softphone(
        app,
        twilio=twilio,
        caller=plan.caller,
        confidence=round(plan.confidence, 2),
        read=read,
        write=lambda line: None,
        clock=lambda: (now[0] - plan.arrival).total_seconds(),
    )
    phone.call_sid = plan.call_sid
    phone.call()


def _walk_all(app: Flask, plans: Iterable[CallPlan], progress: Callable[[int], None] | None) -> int:
    now = [datetime.now(UTC)]
    saved_clock = context.clock(app)
    context.set_clock(app, lambda: now[0])
    count = 0
    try:
        for plan in plans:
            walk_call(app, plan, now)
            count += 1
            if progress:
                progress(count)
    finally:
        context.set_clock(app, saved_clock)
    return count


def poisson_plans(
    menu: Menu, *, count: int, rate_per_hour: float, seed: int, start: datetime, mix: CallerMix | None = None
) -> Iterator[CallPlan]:
    """`count` callers arriving as a Poisson process from `start`, each on a random path."""
    mix = mix or CallerMix()
    rng = random.Random(seed)
    arrival = start
    for i in range(count):
        arrival += timedelta(seconds=rng.expovariate(rate_per_hour / 3600.0))
        inputs, confidence, queue = plan_inputs(rng, menu, mix)
        wait = rng.expovariate(1 / mix.mean(mix.mean_wait_s, queue, WAIT_S))
        patience = rng.expovariate(1 / mix.mean(mix.mean_patience_s, queue, PATIENCE_S))
        talk = rng.expovariate(1 / mix.mean(mix.mean_talk_s, queue, TALK_S))
        think = sum(rng.uniform(*mix.think_s) for _ in inputs)
        yield CallPlan(
            call_sid=f"CA{seed:08x}{i:024x}",
            caller=f"+1555{rng.randrange(10**7):07d}",
            arrival=arrival,
            inputs=inputs,
            confidence=confidence,
            menu_s=think,
            wait_s=min(wait, patience),
            answered=wait <= patience,
            talk_s=talk,
        )


def simulate_callers(
    app: Flask,
    *,
    count: int,
    rate_per_hour: float,
    seed: int,
    start: datetime,
    mix: CallerMix | None = None,
    progress: Callable[[int], None] | None = None,
) -> datetime:
    """Walk `count` Poisson calls through `app`, logging them at simulated times from `start`.
    Returns the simulated time of the last arrival."""
    menu = context.menu(app)
    last = [start]

    def noted(plans: Iterator[CallPlan]) -> Iterator[CallPlan]:
        for plan in plans:
            last[0] = plan.arrival
            yield plan

    plans = poisson_plans(menu, count=count, rate_per_hour=rate_per_hour, seed=seed, start=start, mix=mix)
    _walk_all(app, noted(plans), progress)
    return last[0]


# -- the model's calls ---------------------------------------------------------------------------


def model_call_plans(
    rows: Iterable[Mapping[str, str]],
    menu: Menu,
    *,
    start: datetime,
    horizon_s: float,
    seed: int,
    spanish: float = 0.2,
) -> Iterator[CallPlan]:
    """Plans for the calls of a model run (`calls.csv` rows): replication r is laid after
    replication r-1 (r x `horizon_s` later), so N replications of a one-day scenario are N days.
    Class 911 presses 1 or says an emergency word; a 311 category the menu lists is chosen by
    voice or by keys (with the street address where the menu asks one); any other category goes
    to the operator. Time in the menu, wait, outcome and handle time are the model's."""
    rng = random.Random(seed)
    listed = {c.code: (i, c) for i, c in enumerate(menu.listed)}
    langs = list(menu.languages)
    for n, row in enumerate(rows):
        try:
            replication = int(row["replication"])
            arrival_s = float(row["arrival_s"])
            queued_s = float(row["queued_s"] or arrival_s)
            wait_s = float(row["wait_s"] or 0.0)
            answered = row["outcome"] == "answered"
            talk_s = float(row["ended_s"]) - float(row["answered_s"]) if answered else 0.0
        except (KeyError, ValueError) as exc:
            raise IvrError(f"calls.csv row {n + 2}: not a model call ({exc})") from None
        lang = langs[1] if len(langs) > 1 and rng.random() < spanish else langs[0]
        inputs = ["9"] if lang != langs[0] else []
        confidence = rng.uniform(0.35, 0.98)
        if row["class"] == QUEUE_911:
            inputs.append("1" if rng.random() < 0.5 else menu.languages[lang].words.emergency[0])
        elif row.get("category") in listed:
            index, cat = listed[row["category"]]
            if rng.random() < 0.5:
                inputs.append(rng.choice(cat.synonyms[lang]))
                if confidence < menu.confidence_threshold:
                    inputs.append("1")
            else:
                page, position = divmod(index, menu.page_size)
                inputs += ["2", *(["9"] * page), str(position + 1)]
            inputs += _address_answers(cat)
        else:
            inputs.append("0")
        yield CallPlan(
            call_sid=f"CA{seed:08x}{replication:08x}{n:016x}",
            caller=f"+1555{rng.randrange(10**7):07d}",
            arrival=start + timedelta(seconds=replication * horizon_s + arrival_s),
            inputs=inputs,
            confidence=confidence,
            menu_s=max(0.0, queued_s - arrival_s),
            wait_s=max(0.0, wait_s),
            answered=answered,
            talk_s=max(0.0, talk_s),
        )


def replay_model_calls(
    app: Flask,
    rows: Iterable[Mapping[str, str]],
    *,
    start: datetime,
    horizon_s: float,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Walk the model's calls through `app` at their simulated times; returns how many."""
    menu = context.menu(app)
    return _walk_all(app, model_call_plans(rows, menu, start=start, horizon_s=horizon_s, seed=seed), progress)


@dataclass
class RemoteRun:
    """What driving a running server measured."""

    calls: int
    lost: list[str]  # calls some webhook of which was not answered with TwiML (must be none)
    latencies_s: list[float]  # of each webhook the server answered
    elapsed_s: float
    failed_posts: int = 0  # webhooks that got no answer at all (refused, reset, timed out)

    @property
    def requests_per_s(self) -> float:
        """Webhooks answered per second (those that failed are not throughput)."""
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0

    def quantile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def drive_server(
    url: str,
    token: str | None,
    plans: Iterable[CallPlan],
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> RemoteRun:
    """Walk `plans` against the server at `url`, `concurrency` calls at a time, signed with
    `token`; each call is walked whole (no waiting out the simulated times)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()
    transports: list[HttpTransport] = []
    lost: list[str] = []
    lock = threading.Lock()
    done = [0]

    def one(plan: CallPlan) -> None:
        client = getattr(local, "client", None)
        if client is None:
            transport = HttpTransport(url)
            client = local.client = TwilioClient(transport, token, url)
            with lock:
                transports.append(transport)
        try:
            walk_call(None, plan, [plan.arrival], twilio=client)
        except IvrError as exc:
            with lock:
                lost.append(f"{plan.call_sid}: {exc}")
        with lock:
            done[0] += 1
            if progress:
                progress(done[0])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, plans))
    elapsed = time.perf_counter() - started
    latencies = [s for t in transports for s in t.latencies_s]
    return RemoteRun(done[0], lost, latencies, elapsed, sum(t.failures for t in transports))
