"""Schemathesis against the OpenAPI description of /open311/v2 (ivr/open311/open311.yaml, served at
/open311/v2/openapi.json), in-process through the app's WSGI interface.

Every operation gets data that fits the description (positive) and data that breaks it
(negative); half the POSTs carry a real api_key so creation is reached, not only the 403. The
property: no 5xx and no error logged; answers conform to the description's status codes,
content types and (JSON) schemas. IVR311_PROPERTY_EXAMPLES sets the depth (as for the other
properties); the examples run are counted in EXAMPLES_RUN and printed.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.ivr.open311_client import API_KEY, make_app

EXAMPLES = int(os.environ.get("IVR311_PROPERTY_EXAMPLES", "40"))
EXAMPLES_RUN: dict[str, int] = {}
STATUSES: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("schemathesis")
    app = make_app(f"sqlite:///{folder / 'calls.sqlite3'}", folder)
    app.extensions["ivr311.recorder"].start()
    yield app
    app.extensions["ivr311.store"].close()


@pytest.fixture(scope="module")
def schema(api_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", api_app)


def operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_description_covers_every_route(schema, api_app):
    """Each Open311 route (both formats) is in the description, and nothing else is."""
    described = {op.path for op in operations(schema)}
    routes = {
        str(rule)
        for rule in api_app.url_map.iter_rules()
        if rule.endpoint.startswith("open311.") and rule.endpoint != "open311.openapi"
    }
    for route in routes:
        for fmt in ("json", "xml"):
            path = (
                route.replace("<fmt>", fmt)
                .replace("/services/<name>", f"/services/{{service_code}}.{fmt}")
                .replace("/requests/<name>", f"/requests/{{service_request_id}}.{fmt}")
                .replace("/tokens/<name>", f"/tokens/{{token}}.{fmt}")
            )
            assert path in described, path
    assert len(described) == 12


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(schema, caplog, mode):
    ops = operations(schema)
    strategies = []
    for op in ops:
        strategies.append(op.as_strategy(generation_mode=mode))
        if op.method.upper() == "POST" and mode is GenerationMode.POSITIVE:
            keyed = op.as_strategy(generation_mode=mode).map(_with_key)
            strategies.append(keyed)
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]
    EXAMPLES_RUN[mode.value] = 0
    seen = STATUSES[mode.value] = Counter()

    @settings(max_examples=EXAMPLES * 10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        caplog.clear()
        response = case.call()
        case.validate_response(response, checks=checks)
        assert response.status_code < 500, (case.path, response.data[:300])
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [r.getMessage() for r in errors]
        EXAMPLES_RUN[mode.value] += 1
        seen[f"{case.method} {response.status_code}"] += 1

    run()
    print(
        f"schemathesis {mode.value}: {EXAMPLES_RUN[mode.value]} examples over {len(ops)} "
        f"operations: {dict(sorted(seen.items()))}"
    )
    assert EXAMPLES_RUN[mode.value] >= min(EXAMPLES * 10, 100) // 2


def _with_key(case: Any) -> Any:
    """The same generated request with a valid api_key and a location, so creation itself is
    exercised."""
    if isinstance(case.body, dict):
        case.body = {"address_string": "1 Main St", **case.body, "api_key": API_KEY}
    return case


def test_description_file_is_the_served_one(api_app: Any) -> None:
    import yaml

    served = api_app.test_client().get("/open311/v2/openapi.json").get_json()
    codes = served["components"]["schemas"]["NewRequest"]["properties"]["service_code"].pop("enum")
    assert "pothole" in codes and "other" in codes
    assert served == yaml.safe_load(Path("ivr/open311/open311.yaml").read_text(encoding="utf-8"))
