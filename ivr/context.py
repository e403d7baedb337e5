"""The app's state, one typed accessor each: what `create_app` builds once and every request reads
(the settings, the menu, the call log and its recorder, the caller hasher, the clock).

Inside a request each accessor reads the current app; outside one (commands, simulated callers,
tests) it takes the app. Flask keeps the values in `app.extensions`, under these keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nothing at run time: the commands import this without Flask
    from flask import Flask

    from ivr.calllog.callerhash import CallerHasher
    from ivr.calllog.recorder import Recorder
    from ivr.calllog.sealing import NumberSeal
    from ivr.calllog.servicerequests import RequestStore
    from ivr.config import Settings
    from ivr.menu import Menu

Clock = Callable[[], datetime]

SETTINGS = "ivr311.settings"
MENU = "ivr311.menu"
STORE = "ivr311.store"
RECORDER = "ivr311.recorder"
HASHER = "ivr311.hasher"
WAIT_STALE_S = "ivr311.wait_stale_s"
CLOCK = "ivr311.clock"
SEAL = "ivr311.seal"


def install(
    app: Flask,
    *,
    settings: Settings,
    menu: Menu,
    store: RequestStore,
    recorder: Recorder,
    hasher: CallerHasher,
    wait_stale_s: float,
    clock: Clock,
    seal: NumberSeal | None = None,
) -> None:
    """Hand the app's parts to every request (called once, by `create_app`)."""
    app.extensions.update(
        {
            SETTINGS: settings,
            MENU: menu,
            STORE: store,
            RECORDER: recorder,
            HASHER: hasher,
            WAIT_STALE_S: wait_stale_s,
            CLOCK: clock,
            SEAL: seal,
        }
    )


def _get(key: str, app: Flask | None) -> Any:
    from flask import current_app

    return (app if app is not None else current_app).extensions[key]


def settings(app: Flask | None = None) -> Settings:
    found: Settings = _get(SETTINGS, app)
    return found


def menu(app: Flask | None = None) -> Menu:
    found: Menu = _get(MENU, app)
    return found


def store(app: Flask | None = None) -> RequestStore:
    """The call log with its service-requests table."""
    found: RequestStore = _get(STORE, app)
    return found


def recorder(app: Flask | None = None) -> Recorder:
    found: Recorder = _get(RECORDER, app)
    return found


def hasher(app: Flask | None = None) -> CallerHasher:
    found: CallerHasher = _get(HASHER, app)
    return found


def seal(app: Flask | None = None) -> NumberSeal | None:
    """What seals a callback's number; None when callbacks are not configured."""
    found: NumberSeal | None = _get(SEAL, app)
    return found


def wait_stale_s(app: Flask | None = None) -> float:
    """How long a waiting caller may go unheard before the agent line stops counting them."""
    found: float = _get(WAIT_STALE_S, app)
    return found


def clock(app: Flask | None = None) -> Clock:
    """The app's clock (UTC); `ivr311 callers` replaces it to log calls at simulated times."""
    found: Clock = _get(CLOCK, app)
    return found


def set_clock(app: Flask, new: Clock) -> None:
    app.extensions[CLOCK] = new


def now(app: Flask | None = None) -> datetime:
    """The time on the app's clock."""
    return clock(app)()
