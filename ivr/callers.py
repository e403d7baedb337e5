"""Simulated callers: many calls walked through the local app at simulated times, so the call
log (and `calls export`, and the planner's `calibrate`) can be tried without a phone.

Arrivals are Poisson at `rate_per_hour`; each caller picks a path (emergency, a service by
speech or by keys, the operator, silence), pauses between inputs, waits in the queue for a
random time and hangs up if that exceeds their patience. This is not a model of the centre
(the planner's simulator is): queue waits are independent draws, for trying the pipeline.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask

from ivr.menu import QUEUE_911, Category, Menu
from ivr.softphone import Softphone


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


def plan_inputs(rng: random.Random, menu: Menu, mix: CallerMix) -> tuple[list[str], float]:
    """What one caller will press or say, in order, and the confidence of their speech."""
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
    return inputs, confidence


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
    """Walk `count` calls through `app`, logging them at simulated times from `start`.
    Returns the simulated time of the last arrival."""
    mix = mix or CallerMix()
    menu: Menu = app.extensions["ivr311.menu"]
    rng = random.Random(seed)
    now = [start]
    saved_clock = app.extensions["ivr311.clock"]
    app.extensions["ivr311.clock"] = lambda: now[0]

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    arrival = start
    try:
        for i in range(count):
            arrival += timedelta(seconds=rng.expovariate(rate_per_hour / 3600.0))
            now[0] = arrival
            inputs, confidence = plan_inputs(rng, menu, mix)
            queue = ["311"]

            def write(line: str, queue: list[str] = queue) -> None:
                if line.startswith("[waiting in queue "):
                    queue[0] = line.removeprefix("[waiting in queue ").rstrip("]")

            def read(prompt: str, inputs: list[str] = inputs, queue: list[str] = queue) -> str:
                q = QUEUE_911 if queue[0] == QUEUE_911 else "311"
                if prompt.startswith("[on hold]"):
                    wait = rng.expovariate(1 / mix.mean(mix.mean_wait_s, q, WAIT_S))
                    patience = rng.expovariate(1 / mix.mean(mix.mean_patience_s, q, PATIENCE_S))
                    advance(min(wait, patience))
                    return "h" if patience < wait else ""
                if prompt.startswith("[Enter = end"):
                    advance(rng.expovariate(1 / mix.mean(mix.mean_talk_s, q, TALK_S)))
                    return ""
                advance(rng.uniform(*mix.think_s))
                return inputs.pop(0) if inputs else ""

            phone = Softphone(
                app,
                caller=f"+1555{rng.randrange(10**7):07d}",
                confidence=round(confidence, 2),
                read=read,
                write=write,
                clock=lambda: (now[0] - start).total_seconds(),
            )
            phone.call_sid = f"CA{seed:08x}{i:024x}"
            phone.call()
            if progress:
                progress(i + 1)
    finally:
        app.extensions["ivr311.clock"] = saved_clock
    return arrival
