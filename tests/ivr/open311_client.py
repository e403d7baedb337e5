"""An Open311 client for the tests: the app with API keys, and both formats read into one shape
(``tests.ivr.open311_client``, imported by the tests that open or read service requests)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from ivr import create_app
from tests.ivr.outages import GENEROUS_BUDGET_MS
from tests.ivr.twilio_sim import PUBLIC_BASE, TOKEN

API_KEY = "open311-test-key-3b9f1c"
OTHER_KEY = "second-key-for-another-app"
BASE = "/open311/v2"
FORMATS = ("json", "xml")
# XML elements whose children are a list (the Spark convention maps them to JSON arrays)
LISTS = {"services", "service_requests", "errors", "attributes", "values", "endpoints", "formats"}


def make_app(db_url: str, folder: Path, **extra: Any) -> Flask:
    return create_app(
        {
            "twilio_auth_token": TOKEN,
            "public_base_url": PUBLIC_BASE,
            "database_url": db_url,
            "caller_hash_key": "open311-key-0123456789",
            "journal_dir": folder / "journal",
            "open311_api_keys": f"{API_KEY}, {OTHER_KEY}",
            "store_budget_ms": GENEROUS_BUDGET_MS,
            "TESTING": True,
            **extra,
        }
    )


def _from_xml(element: ET.Element) -> Any:
    if element.tag in LISTS:
        return [_from_xml(child) for child in element]
    if len(element):
        return {child.tag: _from_xml(child) for child in element}
    return element.text


def _scalar(value: Any) -> Any:
    """JSON values as the XML shows them: text, or None for null/empty."""
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    if isinstance(value, dict):
        return {k: _scalar(v) for k, v in value.items()}
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def body(resp: Any, fmt: str, *, as_text: bool = False) -> Any:
    """The response in the JSON shape; `as_text` maps JSON scalars to XML text for comparing."""
    if fmt == "json":
        assert resp.content_type == "application/json; charset=utf-8", resp.content_type
        data = json.loads(resp.data.decode("utf-8"))
        return _scalar(data) if as_text else data
    assert resp.content_type == "text/xml; charset=utf-8", resp.content_type
    text = resp.data.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>'), text[:60]
    root = ET.fromstring(resp.data)
    assert "}" not in root.tag and not any("}" in e.tag for e in root.iter()), "a namespace"
    return _from_xml(root)


class Open311:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, fmt: str = "json", **params: Any) -> Any:
        return self.client.get(f"{BASE}/{path}.{fmt}", query_string=params)

    def post(self, fmt: str = "json", **form: Any) -> Any:
        return self.client.post(f"{BASE}/requests.{fmt}", data=form)

    def create(self, **form: Any) -> str:
        """A valid request (an address, the pothole's required attribute); its id."""
        data = {"api_key": API_KEY, "service_code": "noise", "address_string": "1 Main St", **form}
        if data["service_code"] == "pothole":
            data.setdefault("attribute[where]", "road")
        resp = self.post("json", **data)
        assert resp.status_code == 200, resp.data
        items = body(resp, "json")
        assert isinstance(items, list) and len(items) == 1
        return str(items[0]["service_request_id"])
