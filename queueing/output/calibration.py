"""What ``ivr311 calibrate`` writes and prints of a calibration.

- The calibrated scenario (YAML): demand from the log (arrivals by hour of day and, when the
  log shows a significant weekday effect, a factor per weekday; category mix, menu, handle and
  patience times; language mix and redials when the log shows them), every number with a
  comment saying how many calls it rests on, its 95%
  interval and how it was chosen; staffing, targets, roster rules, priorities, start day,
  horizon, seed and replications, and every number the log had too few calls for, from the base
  scenario. Written as planners write scenarios (:mod:`.scenario_yaml`); fitted durations are
  seconds.
- The console: per class its numbers and their intervals, one line each; on stderr, one line per
  number taken from the base.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.calendar import WEEKDAYS
from ..core.durations import DAY_S, format_duration
from ..core.scenario import Scenario
from ..planning.calibrate import MIN_FIT, MIN_REDIALS, NO_MENU_S, Calibration, ClassEstimate
from ..planning.calllog import format_time
from ..planning.demand import MIN_CATEGORY, MIN_WEEKS, Profile, WeekdayEffect
from ..planning.fits import EMPIRICAL_POINTS, DurationFit, rounded_s
from .scenario_yaml import DURATIONS_NOTE, entry, planner_duration, scalar


def calibration_yaml(
    cal: Calibration, base: Scenario, *, base_source: str = "--base", command: str = "ivr311 calibrate"
) -> str:
    """The calibrated scenario as YAML, every number with a comment saying where it comes from."""
    days = (cal.end_s - cal.start_s) / DAY_S
    by_weekday = any(_weekly(est.profile) is not None for est in cal.classes.values())
    header = [
        f"Calibrated by `{command}` from {cal.source}:",
        f"{cal.calls:,} calls started {format_time(cal.start_s)} .. {format_time(cal.end_s)} ({span(days)}; "
        "hours of day",
        f"in UTC, the log's clock); {cal.menu_only:,} of them hung up in the menu (in no queue; left out).",
        f"Staffing, targets, roster rules, priorities, start day, horizon, seed and replications from {base_source}.",
        *DURATIONS_NOTE,
        "[a, b] is a 95% interval. Rates are calls per hour.",
        "The call log has no column saying a call was transferred to another queue: transfers are not estimated"
        + (f" (those of {base_source} are kept)." if any(c.transfer for c in base.classes.values()) else "."),
    ]
    if by_weekday:
        header += [
            f"Arrivals differ by weekday (arrivals.weekdays): day 0 of a run is a {base.first_weekday.capitalize()}, "
            "and horizon: 7d simulates a week."
        ]
    lines = [f"# {line}" for line in header]
    lines += entry("name", f"{base.name} (calibrated from {Path(cal.source).name})")
    lines += entry("seed", base.seed)
    for key in ("start_day", "start_date"):
        if getattr(base, key) is not None:
            lines += entry(key, getattr(base, key))
    lines += entry("horizon", planner_duration(base.horizon))
    lines += entry("warmup", planner_duration(base.warmup))
    lines += entry("replications", base.replications)
    lines.append("classes:")
    for name in base.class_names():
        lines += _class_lines(cal.classes[name], base, base_source, cal.interval_s)
    lines.append(f"# from {base_source}")
    lines += entry("staffing", base.staffing)
    for key in ("targets", "roster"):
        if getattr(base, key):
            lines.append(f"# from {base_source}")
            lines += entry(key, getattr(base, key))
    return "\n".join(lines) + "\n"


def span(days: float) -> str:
    """A window's length: ``7.0 days``, or in hours under a day (``0.0 days`` said nothing)."""
    return f"{days:.1f} days" if days >= 1 else f"{days * 24:.1f} hours"


def _ci(low: float, high: float, fmt: str = "{:.1f}") -> str:
    return "[" + fmt.format(low) + ", " + fmt.format(high) + "]"


def _fit_note(fit: DurationFit) -> str:
    aic = ", ".join(f"{f} {v:,.0f}" for f, v in fit.aic.items())
    verdict = (
        f"{fit.family} (smallest AIC)"
        if fit.family != "empirical"
        else f"empirical: {EMPIRICAL_POINTS} quantiles ({fit.best} had the smallest AIC but KS rejects it)"
    )
    return (
        f"{fit.n:,} calls; {verdict}; AIC {aic}; KS D={fit.ks_d:.4f} p={fit.ks_p:.3g}; "
        f"mean {fit.mean:.1f} s {_ci(fit.mean_low, fit.mean_high)}"
    )


def _wrap(prefix: str, items: Sequence[str], per_line: int) -> list[str]:
    return [prefix + "   ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]


def _weekly(profile: Profile | None) -> WeekdayEffect | None:
    """The weekday factors a profile's class is written with: its significant weekday effect
    against the mean day of a week; None without one."""
    if profile is None or profile.weekday is None or not profile.weekday.significant:
        return None
    return profile.weekday.of_a_week()


def weekday_lines(effect: WeekdayEffect | None) -> list[str]:
    """What the file (and the console) say of the weekday effect."""
    if effect is None:
        return [f"weekday effect: not tested (fewer than {MIN_WEEKS} whole days of each weekday)"]
    if not effect.significant:
        return [f"weekday effect: none significant over {int(effect.days.sum())} whole days (p = {effect.p_value:.2g})"]
    return [
        f"weekday effect: significant (p = {effect.p_value:.2g}, {int(effect.days.sum())} whole days): each "
        "weekday's volume against the",
        "mean day of a week, in weekdays below with its 95% interval; profile_per_hour is that mean day",
    ]


def _arrival_lines(p: Profile) -> list[str]:
    """``arrivals:`` of a class the log measured: its profile and, with a significant weekday
    effect, the factors (each with its interval and days as a comment)."""
    weekly = _weekly(p)
    if weekly is None:
        return entry("arrivals", {"profile_per_hour": [round(float(r), 3) for r in p.rate]}, 4)
    scale = p.weekday.mean_factor if p.weekday is not None else 1.0
    out = []
    if abs(scale - 1) >= 5e-4:
        out.append(
            f"    # the profile is the rates above x{scale:.3f}: the log holds more days of some weekdays, "
            "so its mean day is not a week's"
        )
    out += [
        "    arrivals:",
        *entry("profile_per_hour", [round(float(r) * scale, 3) for r in p.rate], 6),
        "      weekdays:",
    ]
    for wd, f, lo, hi, n in zip(WEEKDAYS, weekly.factor, weekly.low, weekly.high, weekly.days, strict=True):
        out.append(f"        {wd}: {f:.3f}   # {_ci(lo, hi, '{:.3f}')}, {int(n)} days")
    return out


def _class_lines(est: ClassEstimate, base: Scenario, base_source: str, interval_s: float) -> list[str]:
    cc = base.classes[est.name]
    out = [f"  {scalar(est.name)}:", *entry("priority", cc.priority, 4)]
    p = est.profile
    if p is not None:
        out.append(
            f"    # arrivals: {p.calls:,} calls over {span(p.days)}, per hour of day pooled by "
            f"{format_duration(interval_s)}; rate [95% interval]:"
        )
        cells = [f"{h:02d}h {p.rate[h]:.2f} {_ci(p.low[h], p.high[h], '{:.2f}')}" for h in range(0, 24)]
        out += _wrap("    #   ", cells, 4)
        for date, n, expected in p.surges:
            ratio = f"{n / expected:.2f}x" if expected > 0 else "none expected in its hours"
            out.append(
                f"    # candidate surge (left out of the profile): {date}, {n:,} calls, "
                f"profile expects {expected:,.0f} ({ratio})"
            )
        out += [f"    # {line}" for line in weekday_lines(p.weekday)]
        out += _arrival_lines(p)
    else:
        out.append(f"    # arrivals from {base_source} (too few calls in the log: {est.calls})")
        out += entry("arrivals", cc.arrivals, 4)
    handle: Any = est.handle.dist if est.handle else cc.handle_time
    if est.handle:
        out.append(f"    # handle time (answered -> ended): {_fit_note(est.handle)}")
    elif handle is not None:
        out.append(f"    # handle time from {base_source} (too few answered calls in the log)")
    if est.mix is not None and handle is None and len(est.handle_by_category) < len(est.mix.shares):
        handle = {"dist": "exponential", "mean": rounded_s(cc.mean_handle_s())}
        out.append(f"    # handle time: the mean of {base_source}'s categories, exponential")
    if handle is not None:
        out += entry("handle_time", handle, 4)
    if est.menu and est.menu.mean < NO_MENU_S:
        out.append(
            f"    # no menu time: {est.menu.n:,} calls queued {est.menu.mean:.2f} s after they started on average"
        )
    elif est.menu:
        out.append(f"    # menu time (started -> enqueued): {_fit_note(est.menu)}")
        out += entry("ivr_time", est.menu.dist, 4)
    elif cc.ivr_time is not None:
        out.append(f"    # menu time from {base_source} (too few calls in the log)")
        out += entry("ivr_time", cc.ivr_time, 4)
    pf = est.patience
    if pf is not None:
        km = pf.km
        median = km.median()
        checkpoints = []
        for t in (30.0, 60.0, 120.0, 300.0, 600.0):
            s, lo, hi = km.at(t)
            if math.isnan(s):
                checkpoints.append(f"S({format_duration(t)}) n/a (fewer than 20 still waiting)")
            else:
                checkpoints.append(f"S({format_duration(t)}) {s:.3f} {_ci(lo, hi, '{:.3f}')}")
        aic = ", ".join(f"{f} {v:,.0f}" for f, v in pf.aic.items())
        out += [
            f"    # patience, right-censored: {pf.hangups:,} hung up in the queue (patience seen), {pf.answered:,}",
            "    # answered (patience longer than their wait). Kaplan-Meier: median "
            + (f"{median:.1f} s" if median is not None else "beyond the longest wait")
            + ";",
            *_wrap("    #   ", checkpoints, 3),
            f"    # censored MLE: {pf.family} (smallest AIC; {aic}); largest gap to Kaplan-Meier",
            f"    # {pf.km_distance:.3f} (where 20 or more still wait);",
            f"    # mean {pf.mean:.1f} s {_ci(pf.mean_low, pf.mean_high)}. Ignoring the censoring (mean wait of those",
            f"    # who hung up) would say {pf.naive_mean:.1f} s.",
            *entry("patience", pf.dist, 4),
        ]
    elif cc.patience is not None:
        out.append(f"    # patience from {base_source} (too few hang-ups in the log)")
        out += entry("patience", cc.patience, 4)
    mix = est.mix
    if mix is not None:
        out.append(f"    # category shares of {mix.calls:,} calls with a category [95% interval]")
        if mix.merged:
            named = ", ".join(f"{c} ({n})" for c, n in sorted(mix.merged.items()))
            out.append(f"    # merged into other (fewer than {MIN_CATEGORY} calls each): {named}")
        out.append("    categories:")
        for cat, share in mix.shares.items():
            category: dict[str, Any] = {"share": share}
            note = f"{mix.counts[cat]:,} calls {_ci(mix.low[cat], mix.high[cat], '{:.4f}')}"
            fit = est.handle_by_category.get(cat)
            if fit is None:
                note += f"; handle time: the class's (fewer than {MIN_FIT} answered)"
            out.append(f"      # {cat}: {note}")
            if fit is not None:
                category["handle_time"] = fit.dist
                out.append(f"      # {cat} handle time: {_fit_note(fit)}")
            out += entry(cat, category, 6)
    elif cc.categories:
        out.append(f"    # categories from {base_source} (too few calls with a category in the log)")
        out += entry("categories", cc.categories, 4)
    return out + _flow_lines(est, base, base_source)


def _flow_lines(est: ClassEstimate, base: Scenario, base_source: str) -> list[str]:
    """The class's redials and language mix as the log shows them (else the base's), and its
    transfer, callback and interpreter from the base (the log cannot show them)."""
    cc = base.classes[est.name]
    out = _redial_lines(est, cc, base_source)
    out += _from_base(cc, base_source, ("transfer", "callback"))
    return out + _language_lines(est, cc, base_source)


def _redial_lines(est: ClassEstimate, cc: Any, base_source: str) -> list[str]:
    found, delay = est.redials, est.redial_delay
    if found is None:
        return _from_base(cc, base_source, ("redial",))
    window = format_duration(found.window_s)
    seen = (
        f"{found.redialled:,} of {found.hangups:,} hang-ups in the queue were followed by a call of the same "
        f"(hashed) number within {window} (hang-ups in the log's last {window} left out)"
    )
    if delay is None:
        return [
            f"    # redials: {seen}; fewer than {MIN_REDIALS}: none written",
            *_from_base(cc, base_source, ("redial",)),
        ]
    return [
        f"    # redials: {seen}: {found.share:.4f} {_ci(found.low, found.high, '{:.4f}')};",
        "    # the arrivals above are the other calls (the model makes the redials).",
        f"    # delay (hang-up -> call): {_fit_note(delay)}",
        *entry("redial", {"probability": round(found.share, 4), "delay": delay.dist}, 4),
    ]


def _from_base(cc: Any, base_source: str, keys: Sequence[str]) -> list[str]:
    out = []
    for key in keys:
        if getattr(cc, key) is not None:
            out += [f"    # {key} from {base_source} (the call log does not show it)", *entry(key, getattr(cc, key), 4)]
    return out


def _language_lines(est: ClassEstimate, cc: Any, base_source: str) -> list[str]:
    mix = est.languages
    if mix is None:
        return _from_base(cc, base_source, ("languages", "interpreter"))
    out = [f"    # languages of {mix.calls:,} calls with one (the menu's choice) [95% interval]:"]
    out += [
        f"    #   {lang}: {mix.counts[lang]:,} calls {_ci(mix.low[lang], mix.high[lang], '{:.4f}')}"
        for lang in mix.shares
    ]
    out += entry("languages", mix.shares, 4)
    return out + _from_base(cc, base_source, ("interpreter",))


def summary_lines(cal: Calibration) -> str:
    """What calibrate prints: per class, the numbers and their intervals, one line each."""
    lines = [f"{cal.calls:,} call{'s' if cal.calls != 1 else ''} from {cal.source}"]
    for name, est in cal.classes.items():
        parts = [f"{name}:"]
        if est.profile is not None:
            p = est.profile
            daily = float(p.rate.sum())
            parts.append(f"{daily:,.0f} calls/day over {span(p.days)}")
            if p.surges:
                parts.append(f"{len(p.surges)} candidate surge day(s)")
            if p.weekday is not None and p.weekday.significant:
                parts.append(f"weekday effect significant (p = {p.weekday.p_value:.2g}; factors in arrivals.weekdays)")
        if est.handle is not None:
            h = est.handle
            parts.append(f"handle {h.family} mean {h.mean:.0f}s [{h.mean_low:.0f}, {h.mean_high:.0f}]")
        if est.patience is not None:
            pf = est.patience
            parts.append(
                f"patience {pf.family} mean {pf.mean:.0f}s [{pf.mean_low:.0f}, {pf.mean_high:.0f}] "
                f"(censoring ignored: {pf.naive_mean:.0f}s)"
            )
        if est.mix is not None:
            parts.append(f"{len(est.mix.shares)} categories" + (f" ({len(est.mix.merged)} merged into other)"
                                                               if est.mix.merged else ""))  # fmt: skip
        if est.languages is not None:
            parts.append("languages " + " ".join(f"{k} {v * 100:.0f}%" for k, v in est.languages.shares.items()))
        if est.redial_delay is not None and est.redials is not None:
            r = est.redials
            parts.append(f"redials {r.share * 100:.1f}% of hang-ups, delay mean {est.redial_delay.mean:.0f}s")
        if len(parts) == 1:  # every number of the class from the base (stderr says why, number by number)
            parts.append("nothing measured (too few calls)")
        lines.append("  " + "; ".join(parts[:1] + [", ".join(parts[1:])]).replace(":;", ":"))
    return "\n".join(lines)


def warning_lines(cal: Calibration, base_source: str) -> list[str]:
    """What calibrate says on stderr: each number the log had too few calls for (taken from the
    base) and each queue of the log that is no class of the base."""
    return [
        f"calibrate: {line}; taken from {base_source}" if "too few" in line else f"calibrate: {line}"
        for line in cal.warnings
    ]
