"""A call log made before an index was added gets it when the app starts, and the wallboard's
read of today's calls searches that index instead of scanning the log's years."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect

from ivr.calllog import schema
from ivr.calllog.engine import make_engine
from ivr.wallboard.board import recent_calls


def test_an_older_log_gets_the_index_of_enqueued_at_and_the_board_uses_it(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        schema.create_tables(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_calls_enqueued_at")  # as the first release made it
        assert "ix_calls_enqueued_at" not in {i["name"] for i in inspect(engine).get_indexes("calls")}
        schema.create_tables(engine)
        assert "ix_calls_enqueued_at" in {i["name"] for i in inspect(engine).get_indexes("calls")}
        query = recent_calls(datetime(2026, 5, 4, tzinfo=UTC))
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
        assert "USING INDEX ix_calls_enqueued_at" in plan, plan
    finally:
        engine.dispose()
