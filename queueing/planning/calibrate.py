"""``ivr311 calibrate``: a call log (as ``ivr311 calls export`` writes it) becomes the estimates
of a scenario.

Per class (the log's ``queue`` column) it estimates, with numpy and pandas over whole columns:
arrivals per hour of day and the category mix (:mod:`.demand`), menu time (started ->
enqueued), handle time (answered -> ended; per class and per category with enough calls) and
patience, right-censored (:mod:`.fits`); with the log's languages the language mix, with its
hashed caller numbers the redials (:mod:`.demand`: the share of hang-ups that called again within
an hour, and the delay, fitted as the other durations). The log has no column saying a call was
transferred, so transfers are not estimated (the written scenario says so). The log is read, and checked row by row, by
:mod:`.calllog`; the rows it dropped or doubted are the first warnings. A log whose calls all
started at one instant, or with a week without calls, is refused (its rates would be made up).
A number the log has too few calls for (or arrivals of a window that leaves hours of the day
out) is left out with a warning: the scenario written
(:mod:`queueing.output.calibration`) takes it, with staffing, targets, horizon, seed and
replications, from the base scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from os import PathLike
from typing import Any

import numpy as np

from ..core.durations import DAY_S, HOUR_S, format_duration
from ..core.scenario import Scenario
from ..errors import ScenarioError
from .calllog import CallLog, format_time, frame_call_log, read_call_log, time_window
from .demand import Mix, Profile, Redials, arrival_profile, category_mix, find_redials, hours_covered, language_mix
from .fits import DurationFit, PatienceFit, fit_durations, fit_patience

MIN_ARRIVALS = 20  # calls of a class in the window, for its arrival profile
MIN_MIX = 50  # calls of a class with a category, for the category mix
MIN_FIT = 50  # durations, for a fitted menu or handle time (per class or per category)
MIN_HANGUPS = 20  # hang-ups in the queue, for a patience estimate
MIN_REDIALS = 20  # redials of a class, for a redial probability and delay
NO_MENU_S = 0.5  # a mean menu time below this is no menu (911 calls go straight to the queue)


@dataclass
class ClassEstimate:
    """Every number of one class the log had enough calls for (None: too few, see the warnings)."""

    name: str
    calls: int
    profile: Profile | None = None
    mix: Mix | None = None
    menu: DurationFit | None = None
    handle: DurationFit | None = None
    handle_by_category: dict[str, DurationFit] = field(default_factory=dict)
    patience: PatienceFit | None = None
    menu_hangups: int = 0
    languages: Mix | None = None  # two languages or more among calls with one
    redials: Redials | None = None  # the log's hashed numbers show (enough or too few: see redial)
    redial_delay: DurationFit | None = None  # with MIN_REDIALS redials or more


@dataclass
class Calibration:
    """What calibrate found: per-class estimates over the window [start_s, end_s) of the log,
    arrivals pooled over ``interval_s``, and one line per number that had too few calls (the
    scenario takes it from the base)."""

    source: str
    start_s: float
    end_s: float
    interval_s: float
    calls: int
    menu_only: int
    classes: dict[str, ClassEstimate]
    warnings: list[str]


def _window(log: CallLog, since_s: float | None, until_s: float | None) -> tuple[CallLog, float, float]:
    mask = np.ones(len(log), dtype=bool)
    if since_s is not None:
        mask &= log.started >= since_s
    if until_s is not None:
        mask &= log.started < until_s
    sub = log.select(mask)
    if not len(sub):
        span = " ".join(
            p
            for p in (
                f"since {format_time(since_s)}" if since_s else "",
                f"until {format_time(until_s)}" if until_s else "",
            )
            if p
        )
        raise ScenarioError(f"{log.source}: no calls {span}".rstrip() + " (nothing to calibrate)")
    start = since_s if since_s is not None else math.floor(float(sub.started.min()) / DAY_S) * DAY_S
    end = until_s if until_s is not None else math.ceil(float(sub.started.max()) / DAY_S + 1e-12) * DAY_S
    return sub, start, end


MAX_GAP_S = 7 * DAY_S  # a week without one call: the log joins spans apart (or a clock was wrong)


def _calls(n: int) -> str:
    return f"{n:,} call" + ("s" if n != 1 else "")


def _refuse_gaps(log: CallLog) -> None:
    """ScenarioError when a week or more passes without a call: the days between would count as
    days without calls (a stray call dated 1970 would spread a log's calls over 54 years)."""
    started = np.sort(log.started)
    gaps = np.flatnonzero(np.diff(started) >= MAX_GAP_S)
    if len(gaps):
        i = int(gaps[np.argmax(np.diff(started)[gaps])])  # the longest
        raise ScenarioError(
            f"{log.source}: no call from {format_time(started[i])} to {format_time(started[i + 1])} "
            f"({(started[i + 1] - started[i]) / DAY_S:,.0f} days; {_calls(i + 1)} before, "
            f"{_calls(len(started) - i - 1)} after): choose the span to calibrate with --since and --until"
        )


def estimate_class(
    name: str,
    log: CallLog,
    start_s: float,
    end_s: float,
    interval_s: float,
    has_categories: bool,
    warn: Any,
    last_call_s: float | None = None,
) -> ClassEstimate:
    """Every number of one class that the log has enough calls for; ``warn(line)`` for the others.
    ``last_call_s``: the start of the log's last call (a hang-up later than an hour before it
    cannot show its redial); default the class's last."""
    est = ClassEstimate(name=name, calls=len(log))
    import pandas as pd

    queued = ~np.isnan(log.enqueued)
    result = pd.Series(log.queue_result, dtype=object).str.lower().to_numpy(dtype=object)
    was_answered = ~np.isnan(log.answered)
    hung_up = queued & (result == "hangup") & ~was_answered
    left = np.where(~np.isnan(log.ended), log.ended - log.enqueued, log.queue_time_s)
    first_calls = log
    if (log.caller != "").any():
        last = float(log.started.max()) if last_call_s is None else last_call_s
        est.redials = find_redials(log.caller, log.started, hung_up, log.enqueued + left, last)
        if est.redials.redialled >= MIN_REDIALS:
            est.redial_delay = fit_durations(est.redials.delays_s)
            first_calls = log.select(~est.redials.is_redial)  # the model makes the redials
    spoken = log.language[log.language != ""]
    if len(np.unique(spoken.astype(str))) > 1:
        if len(spoken) >= MIN_MIX:
            est.languages = language_mix(spoken)
        else:
            warn(f"{name} language mix: too few calls with a language ({len(spoken)}, need {MIN_MIX})")
    est.profile = _profile(name, first_calls, start_s, end_s, interval_s, warn)
    _menu_and_mix(est, name, log, has_categories, warn)
    # patience: hang-ups in the queue are events, answered callers censored at their wait
    # (other results, e.g. leave or queue-full, are censored at their wait; no result and no
    # answer: still waiting when the log was exported, left out)
    wait = np.where(was_answered, log.answered - log.enqueued, left)
    known = queued & ~np.isnan(wait) & (was_answered | (result != ""))
    if int(hung_up.sum()) >= MIN_HANGUPS:
        est.patience = fit_patience(np.maximum(wait[known], 0.0), hung_up[known])
    else:
        warn(f"{name} patience: too few hang-ups in the queue ({int(hung_up.sum())}, need {MIN_HANGUPS})")
    return est


def _profile(name: str, log: CallLog, start_s: float, end_s: float, interval_s: float, warn: Any) -> Profile | None:
    """The class's arrival profile, or None (``warn`` says why)."""
    hours = hours_covered(start_s, end_s, interval_s)
    if len(log) < MIN_ARRIVALS:
        warn(f"{name} arrivals: too few calls ({len(log)}, need {MIN_ARRIVALS})")
    elif hours < 24:  # a rate of 0 for the hours the window leaves out would be made up
        warn(
            f"{name} arrivals: too few hours of the day in the window ({format_time(start_s)} .. "
            f"{format_time(end_s)} covers {hours} of 24, pooled by {format_duration(interval_s)})"
        )
    elif float(np.ptp(log.started)) == 0:
        warn(f"{name} arrivals: too few distinct start times (all {len(log):,} calls at {format_time(log.started[0])})")
    else:
        return arrival_profile(log.started, start_s, end_s, interval_s)
    return None


def _menu_and_mix(est: ClassEstimate, name: str, log: CallLog, has_categories: bool, warn: Any) -> None:
    """The class's category mix, menu time and handle times (per category with enough calls)."""
    categorized = log.category != ""
    category = np.where(categorized, log.category, "other")
    if has_categories:
        if int(categorized.sum()) >= MIN_MIX:
            est.mix = category_mix(log.category[categorized])
        else:
            warn(f"{name} category mix: too few calls with a category ({int(categorized.sum())}, need {MIN_MIX})")
    queued = ~np.isnan(log.enqueued)
    menu = (log.enqueued - log.started)[queued]
    if len(menu) >= MIN_FIT:
        est.menu = fit_durations(np.maximum(menu, 0.0))
    else:
        warn(f"{name} menu time: too few calls that reached the queue ({len(menu)}, need {MIN_FIT})")
    answered = ~np.isnan(log.answered) & ~np.isnan(log.ended)
    handle = np.maximum(log.ended - log.answered, 0.0)
    if int(answered.sum()) >= MIN_FIT:
        est.handle = fit_durations(handle[answered])
    else:
        warn(f"{name} handle time: too few answered calls ({int(answered.sum())}, need {MIN_FIT})")
    if est.mix is not None:
        merged = np.isin(category, list(est.mix.merged)) if est.mix.merged else np.zeros(len(log), dtype=bool)
        category = np.where(merged, "other", category)
        for cat in est.mix.shares:
            mask = answered & (category == cat)
            if int(mask.sum()) >= MIN_FIT:
                est.handle_by_category[cat] = fit_durations(handle[mask])


def calibrate(
    log: CallLog | str | PathLike[str] | Any,
    base: Scenario,
    *,
    interval_s: float = HOUR_S,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    base_source: str = "--base",
) -> Calibration:
    """``ivr311 calibrate``: estimate every class of ``base`` from the call log ``log`` (a CSV or
    JSON export's path, a pandas DataFrame with its columns, or a :class:`.calllog.CallLog`),
    arrivals pooled over ``interval_s`` (whole hours dividing a day), only the calls started in
    [``since``, ``until``) (ISO 8601 texts or datetimes; naive is UTC). ``base_source`` names the
    base in the warnings. The calibrated scenario is
    :func:`queueing.output.calibration.calibration_yaml` (``parse_scenario`` of it)."""
    if interval_s < HOUR_S or interval_s % HOUR_S or DAY_S % interval_s:
        raise ScenarioError("--interval: must be whole hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)")
    since_s, until_s = time_window(since, until)
    if isinstance(log, str | PathLike):
        log = read_call_log(log)
    elif not isinstance(log, CallLog):
        log = frame_call_log(log)
    log, start, end = _window(log, since_s, until_s)
    if len(log) > 1 and float(np.ptp(log.started)) == 0:
        raise ScenarioError(
            f"{log.source}: all {len(log):,} calls started at the same instant ({format_time(log.started[0])}): "
            "arrivals are measured from calls spread over hours or days"
        )
    _refuse_gaps(log)
    warnings = [f"{log.source}: {note.sentence()}" for note in log.notes]
    in_queue = log.queue != ""
    names, counts = np.unique(log.queue[in_queue].astype(str), return_counts=True)
    for q, c in zip(names, counts, strict=True):
        if q not in base.classes:
            warnings.append(f"queue {q!r}: {c} calls, not a class of {base_source}; left out")
    classes: dict[str, ClassEstimate] = {}
    for name in base.class_names():
        mine = log.select(log.queue == name)
        categorized = bool(base.classes[name].categories) or bool((mine.category != "").any())
        last = float(log.started.max())
        classes[name] = estimate_class(name, mine, start, end, interval_s, categorized, warnings.append, last)
    return Calibration(
        source=log.source,
        start_s=start,
        end_s=end,
        interval_s=interval_s,
        calls=len(log),
        menu_only=int((~in_queue).sum()),
        classes=classes,
        warnings=warnings,
    )
