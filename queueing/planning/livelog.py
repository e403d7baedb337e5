"""The voice app's call log read straight from its database, for the now-cast: the rows of the
calls table started in a window, as a :class:`~queueing.planning.calllog.CallLog`.

The planner shares the log's columns with the voice app, never its code: the table is read by
name (``calls``) with SQLAlchemy reflection, its columns are :data:`calllog.LOG_COLUMNS` (a test
holds those to the export's), and the rows go through calibrate's own reading
(:func:`calllog.frame_call_log`), so a row calibrate would drop is dropped here too. Unlike
``calibrate --database-url`` (the whole log, exported by ``calls export`` in a separate
process), only the window's rows are read: a now-cast runs every few minutes on a live log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..errors import ScenarioError
from .calllog import LOG_COLUMNS, CallLog, frame_call_log


def _first_line(exc: BaseException) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def read_live_log(database_url: str, since_s: float, until_s: float) -> CallLog | None:
    """The calls of the database at ``database_url`` started in [since_s, until_s) (seconds since
    1970, UTC); None when there is none. A database that cannot be read is one line,
    ``--database-url: <the driver's first line>``."""
    import pandas as pd
    from sqlalchemy import MetaData, Table, create_engine, select
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError

    try:
        engine = create_engine(database_url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ScenarioError(f"--database-url: {_first_line(exc)}") from None
    sqlite = engine.dialect.name == "sqlite"

    def bound(seconds: float) -> datetime:
        when = datetime.fromtimestamp(seconds, UTC)
        return when.replace(tzinfo=None) if sqlite else when  # SQLite keeps UTC times without a zone

    try:
        with engine.connect() as conn:
            calls = Table("calls", MetaData(), autoload_with=conn)
            missing = [c for c in LOG_COLUMNS if c not in calls.c]
            if missing:
                raise ScenarioError(f"--database-url: the calls table has no column {missing[0]}")
            query = select(*(calls.c[c] for c in LOG_COLUMNS)).where(
                calls.c.started_at >= bound(since_s), calls.c.started_at < bound(until_s)
            )
            rows = list(conn.execute(query).all())
    except NoSuchTableError:
        raise ScenarioError("--database-url: no calls table (is this the voice app's database?)") from None
    except SQLAlchemyError as exc:
        raise ScenarioError(f"--database-url: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    if not rows:
        return None
    frame = pd.DataFrame.from_records(rows, columns=list(LOG_COLUMNS))
    return frame_call_log(frame, source="--database-url")
