"""The planner's contract: the scenario schema (pydantic v2).

All durations are stored in seconds, all rates per hour. Validation happens here, once,
before any simulation exists. Reading a file, and naming its line in each problem, is
:mod:`queueing.core.scenario_file`'s part.

One concept past 600 lines: the models of one file, in the order a scenario reads (arrivals,
classes, surges, shifts and pools, roster rules, targets, the scenario), kept together because
the scenario's own checks reach across all of them (a target's class, a surge's class, roster
rules against the pools' hours and the horizon).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .calendar import WEEK_S, Weekday, weekday_of, weekday_of_day
from .distributions import Distribution, NonNegativeDuration, PositiveDuration
from .durations import DAY_S, HOUR_S, format_duration, format_shift_time, intervals_in

MAX_SEED = 2**63 - 1

Name = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]

# A list a planner may leave empty as ``key:`` (YAML null) or ``key: []``.
NoneIsEmpty = BeforeValidator(lambda value: [] if value is None else value)


class FieldError(ValueError):
    """A cross-field problem found by a model validator, with the path (relative to that model)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


HourlyProfile = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=24, max_length=24)]


class Arrivals(_Model):
    """Poisson arrivals: a constant rate, or one rate per hour of the day (repeating daily); on
    top of that daily profile, optionally, a factor per weekday (``weekdays``), a whole profile for
    some weekdays (``profile_per_weekday``), and special dates (``special_days``: a factor on that
    day's rates, or its own 24 rates)."""

    rate_per_hour: Annotated[float, Field(ge=0)] | None = None
    profile_per_hour: list[Annotated[float, Field(ge=0)]] | None = None
    weekdays: dict[Weekday, Annotated[float, Field(ge=0)]] | None = None
    profile_per_weekday: dict[Weekday, HourlyProfile] | None = None
    special_days: (
        Annotated[dict[dt.date, Annotated[float, Field(ge=0)] | HourlyProfile], Field(max_length=1000)] | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Arrivals:
        if (self.rate_per_hour is None) == (self.profile_per_hour is None):
            raise ValueError("give exactly one of rate_per_hour or profile_per_hour")
        if self.profile_per_hour is not None and len(self.profile_per_hour) != 24:
            raise FieldError(
                ("profile_per_hour",),
                f"needs 24 hourly rates (00:00 to 23:00), got {len(self.profile_per_hour)}",
            )
        for day in self.profile_per_weekday or {}:
            if day in (self.weekdays or {}):
                raise FieldError(
                    ("weekdays", day),
                    "this day has its own profile in profile_per_weekday (give the day one or the other)",
                )
        return self

    def hourly_rates(self, weekday: Weekday | None = None, date: dt.date | None = None) -> list[float]:
        """The 24 rates per hour, hour of day 0 to 23: of the daily profile, or of a day that is a
        ``weekday`` (its own profile, else the daily one times its factor) on ``date`` (a special
        day's profile, or its factor on the weekday's rates)."""
        if weekday is not None and self.profile_per_weekday and weekday in self.profile_per_weekday:
            rates = list(self.profile_per_weekday[weekday])
        elif self.profile_per_hour is not None:
            rates = list(self.profile_per_hour)
        else:
            rates = [float(self.rate_per_hour or 0.0)] * 24
        if weekday is not None and self.weekdays and weekday in self.weekdays:
            rates = [r * self.weekdays[weekday] for r in rates]
        special = (self.special_days or {}).get(date) if date is not None else None
        if isinstance(special, list):
            return list(special)
        if special is not None:
            rates = [r * special for r in rates]
        return rates

    @property
    def varies_by_day(self) -> bool:
        """Whether some day's rates differ from the daily profile (weekday factors or profiles,
        special days)."""
        return bool(
            any(f != 1.0 for f in (self.weekdays or {}).values()) or self.profile_per_weekday or self.special_days
        )


class Category(_Model):
    """A 311 category: its share of the class's calls and, optionally, its own handle time."""

    share: Annotated[float, Field(gt=0, le=1)]
    handle_time: Distribution | None = None


def _bare_duration_is_deterministic(value: Any) -> Any:
    """``20s`` (or a number of seconds) for ``{dist: deterministic, value: 20s}``."""
    return {"dist": "deterministic", "value": value} if isinstance(value, (str, int, float)) else value


TimeOrDistribution = Annotated[Distribution, BeforeValidator(_bare_duration_is_deterministic)]
Share = Annotated[float, Field(ge=0, le=1)]
LanguageShare = Annotated[float, Field(gt=0, le=1)]


def _share_or_hourly(value: Any) -> Any:
    """One share (0 to 1) or 24 of them, one per hour of the day: one message for either."""
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(value) != 24:
        raise ValueError(f"needs one share or 24 hourly shares (00:00 to 23:00), got {len(value)}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"must be a share from 0 to 1 (or 24 of them, one per hour), got {v!r}")
    return value


ShareOrHourly = Annotated[float | list[float], BeforeValidator(_share_or_hourly)]


class Transfer(_Model):
    """Calls of this class that belong to another: ``share`` of them (one number, or 24 hourly
    values by the hour the caller arrives) are triaged at this class's priority for
    ``triage_time`` (the leg's handle time), then transferred to class ``to``, where they queue
    again. ``diverted``: a share of those callers who dial ``to`` directly instead (a campaign);
    they arrive as ``to``'s calls and never reach this class."""

    to: Name
    share: ShareOrHourly
    triage_time: TimeOrDistribution
    diverted: Share = 0.0

    def share_at(self, t_s: float) -> float:
        """The transferred share (diverted callers included) of callers arriving at ``t_s``."""
        if isinstance(self.share, list):
            return self.share[int(t_s % DAY_S // HOUR_S)]
        return self.share


class Redial(_Model):
    """A caller who abandons calls again with ``probability``, ``delay`` after hanging up (then
    through the IVR again, with the same business: the same handle time)."""

    probability: Share
    delay: TimeOrDistribution


class Callback(_Model):
    """Virtual hold: a caller whose expected wait on joining passes ``offer_after`` is offered a
    callback and accepts with probability ``accept`` (keeps the place in the queue, never
    abandons). The agent reaching the call rings for ``ring_time``; answered with probability
    ``answer`` (then the call's handle time), else the call ends unanswered."""

    offer_after: NonNegativeDuration
    accept: Share
    answer: Share = 1.0
    ring_time: NonNegativeDuration = 0.0


class CallClass(_Model):
    """A class of calls (``911``, ``311``): priority 1 is answered first. ``transfer``,
    ``redial``, ``callback``, ``languages`` (shares of callers by language) and ``interpreter``
    (the extra handle time when no agent on duty speaks the caller's language; without it such a
    caller waits for a speaker) are the routed model's (:mod:`queueing.core.routing`)."""

    priority: Annotated[int, Field(ge=1)]
    arrivals: Arrivals
    handle_time: Distribution | None = None
    ivr_time: Distribution | None = None
    patience: Distribution | None = None
    categories: Annotated[dict[Name, Category], Field(max_length=1000)] | None = None
    transfer: Transfer | None = None
    redial: Redial | None = None
    callback: Callback | None = None
    languages: Annotated[dict[Name, LanguageShare], Field(min_length=1, max_length=100)] | None = None
    interpreter: NonNegativeDuration | None = None

    @model_validator(mode="after")
    def _categories_consistent(self) -> CallClass:
        if self.categories is not None:
            if not self.categories:
                raise FieldError(("categories",), "must not be empty (leave it out instead)")
            total = sum(c.share for c in self.categories.values())
            if abs(total - 1.0) > 1e-6:
                raise FieldError(("categories",), f"shares must add up to 1, they add up to {total:g}")
            if self.handle_time is None:
                for name, cat in self.categories.items():
                    if cat.handle_time is None:
                        raise FieldError(
                            ("categories", name, "handle_time"),
                            "required (the class has no handle_time to fall back on)",
                        )
        elif self.handle_time is None:
            raise FieldError(("handle_time",), "required")
        if self.languages is not None:
            total = sum(self.languages.values())
            if abs(total - 1.0) > 1e-6:
                raise FieldError(("languages",), f"shares must add up to 1, they add up to {total:g}")
        if self.interpreter is not None and self.languages is None:
            raise FieldError(("interpreter",), "applies to callers' languages: give languages too")
        return self

    @property
    def routed(self) -> bool:
        """Whether the class uses a behaviour of the routed model (transfers, redials, callbacks,
        languages)."""
        return any(x is not None for x in (self.transfer, self.redial, self.callback, self.languages))

    def mean_handle_s(self) -> float:
        """Mean handle time over the class's calls (category shares weighted), in seconds."""
        if not self.categories:
            assert self.handle_time is not None
            return self.handle_time.mean_s
        return sum(c.share * self.category_handle(n).mean_s for n, c in self.categories.items())

    def category_handle(self, name: str) -> Any:
        """The handle-time distribution of one category (its own, else the class's)."""
        assert self.categories is not None
        dist = self.categories[name].handle_time or self.handle_time
        assert dist is not None
        return dist


class Surge(_Model):
    """Arrivals of one class multiplied over a window of simulated time (not repeated daily)."""

    name: Name
    class_: Annotated[str, Field(alias="class")]
    start: NonNegativeDuration
    end: PositiveDuration
    multiplier: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Surge:
        if self.end <= self.start:
            raise FieldError(("end",), "must be after start")
        return self


def _daily_span(start: float, end: float, keys: tuple[str, str], reasons: tuple[str, str]) -> None:
    """Check a span repeating daily: ``start`` a time of day, ``end`` after it and at most 24h later
    (past 24h: the next morning). ``reasons``: messages for an end too early, a span too long."""
    if start >= DAY_S:
        raise FieldError((keys[0],), "must be a time of day before 24h")
    if end <= start:
        raise FieldError((keys[1],), reasons[0])
    if end - start > DAY_S:
        raise FieldError((keys[1],), reasons[1])


class Break(_Model):
    """A break of every agent of a shift: ``start`` is an offset from the shift's start.

    Non-preemptive: an agent on a call at ``start`` finishes it, then takes the whole break."""

    start: NonNegativeDuration
    length: PositiveDuration


class Shift(_Model):
    """Agents on duty from ``start`` to ``end`` (times of day; ``end`` may pass midnight) on each
    of ``days`` (the weekdays the shift starts on; every day without them), off duty during their
    ``breaks``. ``absent`` more agents of the shift are rostered and paid but away (shrinkage:
    leave, sickness, training): they cost as the others and answer no call."""

    start: NonNegativeDuration
    end: PositiveDuration
    agents: Annotated[int, Field(ge=0)]
    absent: Annotated[int, Field(ge=0)] | None = None
    breaks: Annotated[list[Break], Field(max_length=24)] | None = None
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] | None = None

    @model_validator(mode="after")
    def _within_a_day(self) -> Shift:
        _daily_span(self.start, self.end, ("start", "end"), ("must be after start", "a shift lasts at most 24h"))
        if self.days is not None and len(set(self.days)) != len(self.days):
            raise FieldError(("days",), "lists a day twice")
        length = self.end - self.start
        previous: tuple[int, Break] | None = None
        for j, b in sorted(enumerate(self.breaks or []), key=lambda jb: jb[1].start):
            if b.start + b.length > length:
                raise FieldError(
                    ("breaks", j),
                    f"must lie within the shift (it ends {format_duration(b.start + b.length)} after the shift's "
                    f"start, the shift lasts {format_duration(length)})",
                )
            if previous is not None and b.start < previous[1].start + previous[1].length:
                raise FieldError(("breaks", j), f"overlaps break {previous[0]} (breaks must not overlap)")
            previous = (j, b)
        return self

    def break_spans(self) -> list[tuple[float, float]]:
        """Each break as (start, end) offsets from the shift's start, in time order."""
        return sorted((b.start, b.start + b.length) for b in self.breaks or [])


class Hours(_Model):
    """A pool's daily opening hours: times of day; ``close`` past 24h runs into the next morning."""

    open: NonNegativeDuration
    close: PositiveDuration

    @model_validator(mode="after")
    def _within_a_day(self) -> Hours:
        _daily_span(
            self.open,
            self.close,
            ("open", "close"),
            ("must be after open (past 24h for the next morning)", "opening hours last at most 24h"),
        )
        return self

    def contains(self, start: float, end: float) -> bool:
        """Whether the daily span [start, end) (times of day, end may pass 24h) lies within the hours.
        Hours of a whole day (``0h`` to ``24h``, ``6h`` to ``30h``) hold every span of at most 24h."""
        if self.close - self.open >= DAY_S:
            return end - start <= DAY_S
        return any(self.open + d <= start and end <= self.close + d for d in (-DAY_S, 0.0, DAY_S))

    def describe(self) -> str:
        """``7h to 19h``, ``20h to 30h``: as the file writes them (hours past midnight)."""
        return f"{format_shift_time(self.open)} to {format_shift_time(self.close)}"


class Pool(_Model):
    """A group of interchangeable agents serving one or more classes, highest priority first."""

    name: Name
    serves: Annotated[list[Name], Field(min_length=1)]
    agents: Annotated[int, Field(ge=0)] | None = None
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None
    hours: Hours | None = None
    languages: Annotated[list[Name], Field(min_length=1, max_length=100)] | None = None  # None: every one

    @model_validator(mode="after")
    def _staffed_one_way(self) -> Pool:
        if (self.agents is None) == (self.shifts is None):
            raise ValueError("give exactly one of agents (constant) or shifts")
        if len(set(self.serves)) != len(self.serves):
            raise FieldError(("serves",), "lists a class twice")
        if self.languages is not None and len(set(self.languages)) != len(self.languages):
            raise FieldError(("languages",), "lists a language twice")
        if self.hours is not None:
            for j, s in enumerate(self.shifts or []):
                if not self.hours.contains(s.start, s.end):
                    raise FieldError(("shifts", j), f"must lie within the pool's hours ({self.hours.describe()})")
        return self

    def shift_list(self) -> list[Shift]:
        """Shifts, with a constant ``agents: N`` read as one shift of N agents over the opening
        hours (24 hours without them)."""
        if self.shifts is not None:
            return list(self.shifts)
        if self.hours is not None:
            return [Shift(start=self.hours.open, end=self.hours.close, agents=self.agents or 0)]
        return [Shift(start=0.0, end=DAY_S, agents=self.agents or 0)]

    def is_open(self, t_s: float) -> bool:
        """Whether the pool is open at simulated time ``t_s`` (always, without opening hours)."""
        if self.hours is None:
            return True
        tod = t_s % DAY_S
        return self.hours.open <= tod < self.hours.close or self.hours.open <= tod + DAY_S < self.hours.close

    def agents_at(self, t_s: float, first_weekday: Weekday = "mon") -> int:
        """Agents on duty at simulated time ``t_s`` (seconds since the start, day 0 at 00:00, a
        ``first_weekday``), by the schedule: agents on a scheduled break are not on duty."""
        tod = t_s % DAY_S
        today = int(t_s // DAY_S)
        total = 0
        for s in self.shift_list():
            for at, started in ((tod, today), (tod + DAY_S, today - 1)):
                if s.start <= at < s.end:
                    if s.days is not None and weekday_of_day(first_weekday, started) not in s.days:
                        continue
                    if not any(a <= at - s.start < b for a, b in s.break_spans()):
                        total += s.agents
                    break
        return total


class Staffing(_Model):
    pools: Annotated[list[Pool], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_names(self) -> Staffing:
        seen: set[str] = set()
        for i, pool in enumerate(self.pools):
            if pool.name in seen:
                raise FieldError(("pools", i, "name"), f"pool name {pool.name!r} is used twice")
            seen.add(pool.name)
        return self

    def pools_for(self, class_name: str) -> list[int]:
        """Indexes of the pools serving ``class_name``, first choice first: the routing rule
        "specialists first". An arriving call goes to an idle agent of a pool serving fewer
        classes before one of a shared pool (then in file order), keeping shared agents free for
        higher priorities; the staffing search adds a failing class's agents to its first pool."""
        serving = [p for p, pool in enumerate(self.pools) if class_name in pool.serves]
        return sorted(serving, key=lambda p: (len(self.pools[p].serves), p))


class BreakRule(_Model):
    """A break every rostered shift takes: ``length`` long, starting between ``earliest`` and
    ``latest`` after the shift's start (offsets; the roster picks the start on its interval grid)."""

    length: PositiveDuration
    earliest: NonNegativeDuration
    latest: NonNegativeDuration

    @model_validator(mode="after")
    def _window(self) -> BreakRule:
        if self.latest < self.earliest:
            raise FieldError(("latest",), "must not be before earliest")
        return self


# Bounds of the roster's rules: what a roster can be built from, and every product of them (pay
# x hours x overtime over any horizon a run can have) a finite number. A pay rate of a million an
# agent-hour is past any currency's; overtime paid ten times over is past any contract's; a floor of
# 100,000 agents on duty is past any centre's (and 2,000 bytes an agent in a run: 200 MB).
MAX_COST_PER_HOUR = 1e6
MAX_OVERTIME_MULTIPLIER = 10.0
MAX_MIN_AGENTS = 100_000
# A tenth of the rostered agents coming is already a roster ten times the need; past it the
# rostered count grows without bound (0.999999: 53 million agents for a city's calls).
MAX_SHRINKAGE = 0.9
MIN_ROSTER_INTERVAL_S = 60.0  # as staff --interval: finer grids measure nothing a minute does not
MIN_WEEKLY_HOURS_S = HOUR_S
MAX_WEEKLY_HOURS_S = 7 * DAY_S


class PoolRates(_Model):
    """What the roster knows of one pool: its pay and its floor."""

    # per paid agent-hour, breaks included
    cost_per_hour: Annotated[float, Field(ge=0, le=MAX_COST_PER_HOUR)] | None = None
    # on duty in every interval the pool is open
    min_agents: Annotated[int, Field(ge=0, le=MAX_MIN_AGENTS)] = 0


class LineKind(_Model):
    """Weekly lines of ``shifts`` shifts a week, each ``length`` long (paid, breaks included):
    ``{shifts: 5, length: 8h30m}`` or ``{shifts: 4, length: 10h30m}``."""

    shifts: Annotated[int, Field(ge=1, le=7)]
    length: PositiveDuration


class DaysOff(_Model):
    """Days off every weekly line has: at least ``count``; with ``consecutive``, ``count`` of them
    in a row (the week repeats, so Sunday and Monday are in a row)."""

    count: Annotated[int, Field(ge=0, le=6)]
    consecutive: bool = False


class LineHours(_Model):
    """Paid hours a weekly line may add up to (shifts x length, breaks included)."""

    min: NonNegativeDuration = 0.0
    max: PositiveDuration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LineHours:
        if self.max is not None and self.max < self.min:
            raise FieldError(("max",), "must not be below min")
        return self


def _multiple_of(value_s: float, step_s: float) -> bool:
    """Whether ``value_s`` is a whole number of ``step_s``: 0 is, a positive duration shorter than
    one step is not (a millionth of a second is no multiple of 30m, though it rounds to 0 of them)."""
    n = value_s / step_s
    return abs(n - round(n)) <= 1e-9 and (value_s == 0 or round(n) >= 1)


class RosterRules(_Model):
    """How shifts may be built and what they cost (``ivr311 roster``; cost in every plan's summary).

    Times are offsets on the planning grid: ``interval`` divides a day; shift starts fall every
    ``start_every``; shift lengths (paid, breaks included) and break offsets and lengths are
    multiples of ``interval``. ``shrinkage`` is the share of rostered agents away (leave,
    sickness, training): a requirement of N on duty rosters N / (1 - shrinkage).
    """

    interval: PositiveDuration = 1800.0
    start_every: PositiveDuration = 1800.0
    shift_lengths: Annotated[list[PositiveDuration], Field(min_length=1, max_length=12)] | None = None
    breaks: Annotated[list[BreakRule], Field(max_length=4), NoneIsEmpty] = []
    shrinkage: Annotated[float, Field(ge=0, le=MAX_SHRINKAGE)] = 0.0
    overtime_multiplier: Annotated[float, Field(ge=1, le=MAX_OVERTIME_MULTIPLIER)] = 1.5
    weekly_hours: PositiveDuration = 40 * HOUR_S  # paid time of one full-time equivalent
    currency: Annotated[str, StringConstraints(max_length=4)] = "$"
    pools: dict[Name, PoolRates] = {}
    # Weekly lines (a scenario of 7 days): an agent's week is one shift type worked on a set of days.
    shifts_per_week: Annotated[list[LineKind], Field(min_length=1, max_length=12)] | None = None
    days_off: DaysOff | None = None
    # at most this many distinct shift start times in a pool (one number for every pool, or per pool)
    max_start_times: Annotated[int, Field(ge=1)] | dict[Name, Annotated[int, Field(ge=1)]] | None = None
    line_hours: LineHours | None = None  # paid hours of one weekly line

    @model_validator(mode="after")
    def _on_the_grid(self) -> RosterRules:
        step = self.interval
        if intervals_in(DAY_S, step) is None:
            raise FieldError(("interval",), "must divide a day evenly (15m, 30m, 1h, 2h...)")
        if step < MIN_ROSTER_INTERVAL_S:
            raise FieldError(("interval",), f"must be at least {format_duration(MIN_ROSTER_INTERVAL_S)}")
        if not _multiple_of(self.start_every, step) or intervals_in(DAY_S, self.start_every) is None:
            if "start_every" not in self.model_fields_set:  # name the key the file has
                raise FieldError(
                    ("interval",),
                    f"must divide start_every ({format_duration(self.start_every)} when not given): give "
                    f"start_every, a multiple of {format_duration(step)} that divides a day",
                )
            raise FieldError(
                ("start_every",), f"must be a multiple of interval ({format_duration(step)}) that divides a day"
            )
        if not MIN_WEEKLY_HOURS_S <= self.weekly_hours <= MAX_WEEKLY_HOURS_S:
            raise FieldError(
                ("weekly_hours",),
                f"must be between {format_duration(MIN_WEEKLY_HOURS_S)} and {format_duration(MAX_WEEKLY_HOURS_S)} "
                "(the paid time of a full-time week)",
            )
        for j, length in enumerate(self.shift_lengths or []):
            if not _multiple_of(length, step):
                raise FieldError(("shift_lengths", j), f"must be a multiple of interval ({format_duration(step)})")
            if length > DAY_S:
                raise FieldError(("shift_lengths", j), "a shift lasts at most 24h")
        if self.shift_lengths is not None and len(set(self.shift_lengths)) != len(self.shift_lengths):
            raise FieldError(("shift_lengths",), "lists a length twice")
        shortest = min(self.shift_lengths or [DAY_S])
        for j, rule in enumerate(self.breaks):
            for key in ("length", "earliest", "latest"):
                if not _multiple_of(getattr(rule, key), step):
                    raise FieldError(("breaks", j, key), f"must be a multiple of interval ({format_duration(step)})")
            if rule.latest + rule.length > shortest:
                raise FieldError(
                    ("breaks", j, "latest"),
                    f"a break starting at {format_duration(rule.latest)} ends after the shortest shift "
                    f"({format_duration(shortest)})",
                )
        self._check_lines()
        return self

    def _check_lines(self) -> None:
        """The weekly fields agree with each other and with shift_lengths."""
        kinds = self.shifts_per_week or []
        lengths = self.shift_lengths or []
        for j, kind in enumerate(kinds):
            if kind.length not in lengths:
                raise FieldError(
                    ("shifts_per_week", j, "length"),
                    f"{format_duration(kind.length)} is not one of shift_lengths "
                    f"({', '.join(format_duration(n) for n in lengths) or 'none given'})",
                )
            off = 7 - kind.shifts
            if self.days_off is not None and off < self.days_off.count:
                raise FieldError(
                    ("shifts_per_week", j, "shifts"),
                    f"{kind.shifts} shifts a week leave {off} day(s) off, fewer than days_off.count "
                    f"({self.days_off.count})",
                )
        if len({(k.shifts, k.length) for k in kinds}) != len(kinds):
            raise FieldError(("shifts_per_week",), "lists a line kind twice")
        if kinds:
            for j, length in enumerate(lengths):
                if not any(k.length == length for k in kinds):
                    raise FieldError(
                        ("shift_lengths", j),
                        f"{format_duration(length)} has no shifts_per_week entry (say how many shifts a week "
                        "of it a line works, or drop it)",
                    )
        bounds = self.line_hours
        if bounds is not None and kinds:
            fit = [k for k in kinds if bounds.min <= k.shifts * k.length <= (bounds.max or math.inf)]
            if not fit:
                raise FieldError(
                    ("line_hours",),
                    "no line of shifts_per_week has its paid hours within these bounds ("
                    + ", ".join(f"{k.shifts} x {format_duration(k.length)}" for k in kinds)
                    + ")",
                )
        if not kinds:
            for key in ("days_off", "line_hours"):
                if getattr(self, key) is not None:
                    raise FieldError((key,), "applies to weekly lines: give shifts_per_week too")

    def start_limit(self, pool: str) -> int | None:
        """At most this many distinct shift start times in ``pool`` (None: no limit)."""
        limit = self.max_start_times
        if isinstance(limit, dict):
            return limit.get(pool)
        return limit

    @property
    def costed(self) -> bool:
        """Whether the rules give pay rates (then every pool has one: the scenario checks it)."""
        return any(r.cost_per_hour is not None for r in self.pools.values())

    def rate_per_hour(self, pool: str) -> float:
        """The pool's pay per paid agent-hour (0 without rates)."""
        rates = self.pools.get(pool)
        return (rates.cost_per_hour or 0.0) if rates is not None else 0.0

    def min_agents(self, pool: str) -> int:
        """Agents the pool must have on duty in every interval it is open."""
        rates = self.pools.get(pool)
        return rates.min_agents if rates is not None else 0


Over = Literal["interval", "hour", "busy_hour", "day", "week"]
OVER: tuple[Over, ...] = get_args(Over)


class Target(_Model):
    """Service-level target: ``share`` of offered calls answered within ``within``, in every
    window ``over`` marks out: each ``interval`` of the planning grid (absent: the default), each
    clock ``hour``, each day's ``busy_hour``, each ``day`` or each ``week``
    (:mod:`queueing.core.targets` defines the windows and judges them)."""

    within: NonNegativeDuration
    share: Annotated[float, Field(gt=0, le=1)]
    over: Over | None = None  # None: "interval" (not written back, so older files read and write the same)

    @field_validator("over", mode="before")
    @classmethod
    def _one_of(cls, value: Any) -> Any:
        if value is not None and value not in OVER:
            raise ValueError(f"must be one of {', '.join(OVER)}, got {value!r}")
        return value

    @property
    def window(self) -> Over:
        """The window the share is measured over (``over``, ``interval`` when absent)."""
        return self.over or "interval"


class Scenario(_Model):
    """A whole scenario: demand, staffing, targets, and how to run it."""

    name: Name
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    start_day: Weekday | None = None  # the weekday of day 0 (Monday when neither this nor start_date)
    start_date: dt.date | None = None  # the calendar date of day 0
    horizon: PositiveDuration
    warmup: NonNegativeDuration = 0.0
    replications: Annotated[int, Field(ge=1)] = 10
    classes: Annotated[dict[Name, CallClass], Field(min_length=1, max_length=100)]
    surges: Annotated[list[Surge], Field(max_length=100), NoneIsEmpty] = []
    staffing: Staffing
    targets: dict[Name, list[Target]] = {}
    roster: RosterRules | None = None

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if self.warmup >= self.horizon:
            raise FieldError(("warmup",), "must be shorter than horizon")
        if self.start_day is not None and self.start_date is not None and weekday_of(self.start_date) != self.start_day:
            raise FieldError(
                ("start_day",),
                f"{self.start_date.isoformat()} (start_date) is a "
                f"{weekday_of(self.start_date)}, not a {self.start_day}",
            )
        known = ", ".join(repr(c) for c in self.classes)
        by_priority: dict[int, str] = {}
        for name, cc in self.classes.items():
            if cc.priority in by_priority:
                raise FieldError(
                    ("classes", name, "priority"),
                    f"{cc.priority} is also the priority of class {by_priority[cc.priority]!r}; priorities must differ",
                )
            by_priority[cc.priority] = name
        served: set[str] = set()
        for i, pool in enumerate(self.staffing.pools):
            for j, cname in enumerate(pool.serves):
                if cname not in self.classes:
                    raise FieldError(
                        ("staffing", "pools", i, "serves", j),
                        f"unknown class {cname!r} (classes: {known})",
                    )
                served.add(cname)
        for cname in self.classes:
            if cname not in served:
                raise FieldError(("classes", cname), "no pool serves this class")
        for i, surge in enumerate(self.surges):
            if surge.class_ not in self.classes:
                raise FieldError(("surges", i, "class"), f"unknown class {surge.class_!r} (classes: {known})")
            if surge.start >= self.horizon:
                raise FieldError(("surges", i, "start"), "starts after the horizon")
        for cname, cc in self.classes.items():
            if cc.arrivals.special_days and self.start_date is None:
                raise FieldError(
                    ("classes", cname, "arrivals", "special_days"),
                    "dates need the date of day 0: give start_date (for example start_date: 2026-12-07)",
                )
        for cname in self.targets:
            if cname not in self.classes:
                raise FieldError(("targets", cname), f"unknown class {cname!r} (classes: {known})")
        self._check_routing(known)
        if self.roster is not None:
            self._check_roster(self.roster)
        return self

    def _check_routing(self, known: str) -> None:
        """Transfers name another class; every pool language is some class's."""
        for cname, cc in self.classes.items():
            if cc.transfer is None:
                continue
            if cc.transfer.to not in self.classes:
                raise FieldError(
                    ("classes", cname, "transfer", "to"), f"unknown class {cc.transfer.to!r} (classes: {known})"
                )
            if cc.transfer.to == cname:
                raise FieldError(("classes", cname, "transfer", "to"), "a class cannot transfer to itself")
        spoken = [lang for cc in self.classes.values() for lang in cc.languages or {}]
        for i, pool in enumerate(self.staffing.pools):
            for j, lang in enumerate(pool.languages or []):
                if lang not in spoken:
                    known_languages = ", ".join(dict.fromkeys(spoken))
                    why = (
                        f"no class has callers speaking {lang!r} (callers' languages: {known_languages})"
                        if spoken
                        else "no class has languages (give the classes' callers languages first)"
                    )
                    raise FieldError(("staffing", "pools", i, "languages", j), why)

    def _check_roster(self, rules: RosterRules) -> None:
        pools = {p.name: p for p in self.staffing.pools}
        names = ", ".join(repr(p) for p in pools)
        for name in rules.pools:
            if name not in pools:
                raise FieldError(("roster", "pools", name), f"unknown pool {name!r} (pools: {names})")
        if isinstance(rules.max_start_times, dict):
            for name in rules.max_start_times:
                if name not in pools:
                    raise FieldError(("roster", "max_start_times", name), f"unknown pool {name!r} (pools: {names})")
        if rules.shifts_per_week is not None and self.horizon != WEEK_S:
            raise FieldError(
                ("roster", "shifts_per_week"),
                f"weekly lines plan a week: the horizon must be 7d (it is {format_duration(self.horizon)})",
            )
        if rules.costed:
            for name in pools:
                if rules.pools.get(name, PoolRates()).cost_per_hour is None:
                    raise FieldError(
                        ("roster", "pools"), f"no cost_per_hour for pool {name!r} (give every pool a rate, or none)"
                    )
        for name, pool in pools.items():
            if pool.hours is None or rules.shift_lengths is None:
                continue
            starts = [k * rules.start_every for k in range(int(round(DAY_S / rules.start_every)))]
            if not any(pool.hours.contains(s, s + n) for n in rules.shift_lengths for s in starts):
                shortest = min(rules.shift_lengths)
                why = (
                    f"the shortest shift ({format_duration(shortest)}) is longer than the opening hours"
                    if shortest > pool.hours.close - pool.hours.open
                    else f"no shift can start on the {format_duration(rules.start_every)} grid and end by closing"
                )
                raise FieldError(
                    ("roster", "shift_lengths"),
                    f"no shift fits in the hours of pool {name!r} ({pool.hours.describe()}): {why}",
                )

    # --- convenience views -------------------------------------------------------------
    @property
    def first_weekday(self) -> Weekday:
        """The weekday of day 0: ``start_day``, else that of ``start_date``, else Monday."""
        if self.start_day is not None:
            return self.start_day
        if self.start_date is not None:
            return weekday_of(self.start_date)
        return "mon"

    def hourly_rates_on(self, class_name: str, day: int) -> list[float]:
        """The 24 arrival rates per hour of class ``class_name`` on simulation day ``day`` (its
        weekday's, and its date's when ``start_date`` is given), before surges."""
        date = self.start_date + dt.timedelta(days=day) if self.start_date is not None else None
        return self.classes[class_name].arrivals.hourly_rates(weekday_of_day(self.first_weekday, day), date)

    def class_names(self) -> list[str]:
        """Class names, highest priority (lowest number) first."""
        return sorted(self.classes, key=lambda c: self.classes[c].priority)

    def languages(self) -> list[str]:
        """The callers' languages in the order the file first names them (classes, then pools);
        empty when no class has languages."""
        seen = [lang for c in self.classes.values() for lang in c.languages or {}]
        seen += [lang for p in self.staffing.pools for lang in p.languages or []]
        return list(dict.fromkeys(seen))

    @property
    def routed(self) -> bool:
        """Whether some class transfers, redials, offers callbacks or has languages: the routed
        model runs it (:mod:`queueing.core.routed_model`), else the fast one."""
        return any(cc.routed for cc in self.classes.values())

    def to_data(self) -> dict[str, Any]:
        """The scenario as plain data (durations in seconds), ready to edit and re-validate."""
        return self.model_dump(by_alias=True, exclude_none=True)
