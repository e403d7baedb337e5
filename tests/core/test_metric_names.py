"""The one registry of metric names: display names, units and money."""

from __future__ import annotations

import math

from queueing.core.metric_names import display, format_money, format_value, metric


def test_format_money() -> None:
    assert format_money(1554.2, "$", diff=True) == "+$1,554"
    assert format_money(-40320.4, "$") == "-$40,320"
    assert format_money(18.953, "€") == "€18.95"
    assert format_money(-0.001, "$", diff=True) == "$0.00"
    assert format_money(None, "$") == format_money(math.nan, "$") == "–"
    assert format_money(12, "CHF") == "CHF 12.00"
    assert format_value("cost.per_answered_call", 4.5, currency="£") == "£4.50"


def test_metric_registry_names_and_units() -> None:
    """One registry: files keep machine names, people read display names with units."""

    assert display("service_level.15s", "911") == "911 answered within 15 s"
    assert display("wait_s.p90") == "90th percentile wait" and metric("wait_s.p90").unit == "s"
    assert format_value("abandoned.share", 0.0574) == "5.7%"
    assert format_value("service_level.30s", -0.0349, diff=True) == "-3.5 pp"
    assert format_value("wait_s.mean", 19.34) == "19.3 s" and format_value("overtime_h", 0.5) == "0.500 h"
    assert format_value("answered", 811) == "811" and format_value("utilization", None) == "–"
    assert display("something_new") == "something_new"  # unknown: shown as it is
