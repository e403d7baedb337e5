"""Open311 GeoReport v2 conformance, sentence by sentence, in both formats.

Each test names the part of the specification (open311.github.io, GeoReport v2 and Service
Discovery) it checks; quoted phrases are the specification's own words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from ivr.calllog.schema import metadata
from ivr.calllog.servicerequests import ServiceRequests
from ivr.menu import load_menu
from tests.ivr.open311_client import API_KEY, BASE, FORMATS, OTHER_KEY, Open311, body, make_app

MENU = load_menu()
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def _started_app(db_url: str, folder: Path) -> Any:
    app = make_app(db_url, folder)
    app.extensions["ivr311.recorder"].start()
    return app


def _closed(app: Any) -> None:
    app.extensions["ivr311.recorder"].close()
    app.extensions["ivr311.store"].close()


@pytest.fixture(scope="module")
def shared_app(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One app and database per backend for the module: building them is most of a test's time."""
    app = _started_app(module_db_url, tmp_path_factory.mktemp("open311"))
    yield app
    _closed(app)


@pytest.fixture
def api_app(shared_app: Any) -> Any:
    """The app on a real SQLite file and on a real PostgreSQL server: every sentence holds on both.
    Each test starts from an empty database, as with an app of its own: the rows it wrote are
    deleted afterwards."""
    yield shared_app
    engine = shared_app.extensions["ivr311.store"].engine
    existing = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in existing:
                conn.execute(table.delete())


@pytest.fixture
def api(api_app: Any) -> Open311:
    return Open311(api_app.test_client())


@pytest.fixture
def requests_table(api_app: Any) -> ServiceRequests:
    return api_app.extensions["ivr311.store"].requests  # type: ignore[no-any-return]


def errors_of(resp: Any, fmt: str, status: int) -> list[str]:
    """Errors: "the response is an array" of `code` and `description`."""
    assert resp.status_code == status, (resp.status_code, resp.data)
    items = body(resp, fmt, as_text=True)
    assert isinstance(items, list) and items
    for item in items:
        assert set(item) == {"code", "description"}, item
        assert item["code"] == str(status) and item["description"]
    return [item["description"] for item in items]


# -- Format support ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_content_types_and_encoding(api, fmt):
    """ "XML: Content-Type: text/xml; charset=utf-8", "JSON: Content-Type: application/json;
    charset=utf-8"; "the root element must be preceded with the XML declaration including the
    encoding="UTF-8" attribute"; XML "without a namespace declaration" (checked by `body`)."""
    for path in ("services", "services/pothole", "requests", "discovery"):
        resp = api.get(path, fmt)
        assert resp.status_code == 200
        body(resp, fmt)


@pytest.mark.parametrize("suffix", ["txt", "html", "JSON", "", "json.xml", "csv"])
def test_any_other_suffix_is_404(api, suffix):
    """The client "can specify the desired format by appending the format name to the
    resource"; this server has json and xml, and nothing else exists."""
    for path in ("services", "services/pothole", "requests", "discovery", "tokens/1"):
        url = f"{BASE}/{path}.{suffix}" if suffix else f"{BASE}/{path}"
        resp = api.client.get(url)
        assert resp.status_code == 404, (url, resp.status_code)
        errors_of(resp, "xml", 404)


# -- Service discovery --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(api, fmt):
    """ "This url must end in /discovery.<format>", "Format must be both: xml, json"; "All
    fields are required": changeset, contact, key_service, endpoints with specification, url,
    changeset, type ("production" or "test") and formats (MIME types)."""
    doc = body(api.get("discovery", fmt), fmt)
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://ivr311.example.test/open311/v2"
    assert endpoint["type"] in ("production", "test")
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]
    assert all(doc[k] for k in ("changeset", "contact", "key_service"))


# -- GET Service List ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list_is_the_menu(api, fmt):
    """Each service has service_code, service_name, description, metadata (true when a service
    definition must be fetched), type (realtime: "The service request ID will be returned
    immediately"), keywords ("A comma separated list") and group."""
    services = body(api.get("services", fmt), fmt, as_text=True)
    assert [s["service_code"] for s in services] == [c.code for c in sorted(MENU.categories, key=lambda c: c.key)]
    by_code = {s["service_code"]: s for s in services}
    for cat in MENU.categories:
        s = by_code[cat.code]
        assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
        assert s["type"] == "realtime" and s["group"] == cat.group
        assert s["metadata"] == ("true" if cat.attributes else "false")
        assert s["keywords"].split(", ") == cat.synonyms["en"]
        assert s["service_name"].lower() == cat.label["en"].lower()
    assert by_code["pothole"]["metadata"] == "true" and by_code["noise"]["metadata"] == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_jurisdiction_is_no_parameter(api, fmt):
    """ "A null parameter should be treated as equivalent to a non-declared parameter"; one
    jurisdiction, so jurisdiction_id "can be ignored"."""
    plain = api.get("services", fmt).data
    assert api.get("services", fmt, jurisdiction_id="").data == plain
    assert api.get("services", fmt, jurisdiction_id="city.gov").data == plain


# -- GET Service Definition ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_with_attributes(api, fmt):
    """service_definition: service_code "the same one submitted", attributes with variable,
    code, datatype, required, datatype_description, order ("1 is shown first"), description,
    and values (key, name) for the list datatypes."""
    doc = body(api.get("services/pothole", fmt), fmt, as_text=True)
    assert doc["service_code"] == "pothole"
    where, hazards = doc["attributes"]
    assert where == {
        "variable": "true",
        "code": "where",
        "datatype": "singlevaluelist",
        "required": "true",
        "datatype_description": None,
        "order": "1",
        "description": "Where is the hole?",
        "values": [
            {"key": "road", "name": "In the road"},
            {"key": "sidewalk", "name": "On the sidewalk"},
            {"key": "bike_lane", "name": "In a bike lane"},
        ],
    }
    assert hazards["datatype"] == "multivaluelist" and hazards["order"] == "2"
    assert hazards["required"] == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_without_attributes_and_unknown(api, fmt):
    """A service without metadata has an empty attribute list; "404 - service_code ... not
    found"."""
    doc = body(api.get("services/noise", fmt), fmt)
    assert doc["service_code"] == "noise" and doc["attributes"] in ([], None)
    assert "not found" in errors_of(api.get("services/no_such", fmt), fmt, 404)[0]


# -- POST Service Request -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_and_answers_one_item_list(api, fmt, requests_table):
    """Response: service_requests with one request holding service_request_id (and no token,
    "This should not be returned if service_request_id is returned")."""
    resp = api.post(
        fmt,
        api_key=API_KEY,
        service_code="pothole",
        lat="37.76524078",
        long="-122.4212043",
        **{"attribute[where]": "sidewalk"},
        description="A large sinkhole is destroying the street",
        email="smit333@sfgov.edu",
        phone="111111111",
        first_name="john",
    )
    assert resp.status_code == 200, resp.data
    (item,) = body(resp, fmt, as_text=True)
    assert "token" not in item
    number = item["service_request_id"]
    stored = requests_table.get(number)
    assert stored is not None and stored["service_code"] == "pothole"
    assert (stored["lat"], stored["long"]) == (37.76524078, -122.4212043)
    assert stored["attributes"] == {"where": "sidewalk"} and stored["status"] == "open"
    # contact fields are accepted and not kept
    assert "111111111" not in repr(stored) and "sfgov" not in repr(stored)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", [None, "", "wrong-key", API_KEY + "x", API_KEY[:-1]])
def test_post_missing_or_wrong_key_is_403(api, fmt, key):
    """ "403 for errors because of wrong or missing api_key"."""
    form = {"service_code": "noise", "address_string": "1 Main St"}
    if key is not None:
        form["api_key"] = key
    errors_of(api.post(fmt, **form), fmt, 403)


def test_every_configured_key_works(api):
    """Keys come from IVR311_OPEN311_API_KEYS, a comma-separated list."""
    assert api.create(api_key=API_KEY) != api.create(api_key=OTHER_KEY)


def test_no_keys_configured_refuses_every_post(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'c.sqlite3'}", tmp_path, open311_api_keys="")
    try:
        resp = Open311(app.test_client()).post("json", api_key="", service_code="noise", address_string="1 Main St")
        errors_of(resp, "json", 403)
    finally:
        app.extensions["ivr311.store"].close()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "form, status, phrase",
    [
        ({"address_string": "1 Main St"}, 400, "service_code is required"),
        ({"service_code": "", "address_string": "1 Main St"}, 400, "service_code is required"),
        ({"service_code": "no_such", "address_string": "1 Main St"}, 404, "not found"),
        ({"service_code": "noise"}, 400, "a location is required"),
        ({"service_code": "noise", "lat": "", "long": "", "address_string": ""}, 400, "a location is required"),
        ({"service_code": "noise", "lat": "37.7"}, 400, "lat and long must be sent together"),
        ({"service_code": "noise", "long": "-122.4"}, 400, "lat and long must be sent together"),
        ({"service_code": "noise", "lat": "91", "long": "0"}, 400, "lat: must be between"),
        ({"service_code": "noise", "lat": "nan", "long": "0"}, 400, "lat: must be between"),
        ({"service_code": "noise", "lat": "north", "long": "0"}, 400, "lat: not a number"),
        (
            {"service_code": "noise", "address_string": "x", "description": "d" * 4001},
            400,
            "description: at most 4,000 characters",
        ),
        ({"service_code": "pothole", "address_string": "x"}, 400, "attribute[where] is required"),
        ({"service_code": "pothole", "address_string": "x", "attribute[where]": "moon"}, 400, "is not one of"),
        (
            {"service_code": "pothole", "address_string": "x", "attribute[where]": ["road", "sidewalk"]},
            400,
            "one value only",
        ),
        ({"service_code": "noise", "address_string": "x", "attribute[volume]": "11"}, 400, "no such attribute"),
        ({"service_code": "noise", "address_string": "x", "media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
def test_post_errors(api, fmt, form, status, phrase):
    """Required: service_code ("400 - service_code ... was not provided", "404 - service_code
    ... was not found"); "A full location parameter must be submitted": "One of lat & long or
    address_string or address_id", "lat & long both need to be sent"; description "limited to
    4,000 characters"; attribute "required if the service_code requires a service definition
    with required fields"."""
    descriptions = errors_of(api.post(fmt, api_key=API_KEY, **form), fmt, status)
    assert any(phrase in d for d in descriptions), descriptions


def test_post_reports_every_problem_at_once(api):
    """ "Multiple errors codes and descriptions can be returned in the body"."""
    descriptions = errors_of(
        api.post("json", api_key=API_KEY, service_code="pothole", lat="1", description="x" * 4001), "json", 400
    )
    assert len(descriptions) == 3, descriptions


@pytest.mark.parametrize(
    "location",
    [
        {"address_string": "8TH AVE and JUDAH ST"},
        {"address_id": "545483"},
        {"lat": "37.762221815", "long": "-122.4651145"},
    ],
)
def test_each_kind_of_location_is_enough(api, location):
    number = api.create(**{"address_string": "", **location})
    doc = body(api.get(f"requests/{number}"), "json")[0]
    assert doc["address"] == location.get("address_string")
    assert doc["address_id"] == location.get("address_id")
    assert doc["lat"] == (float(location["lat"]) if "lat" in location else None)


def test_description_of_exactly_4000_characters_and_line_breaks(api):
    """ "This may contain line breaks ... free form text limited to 4,000 characters"."""
    text = ("line one\r\nline two\n" + "é" * 4000)[:4000]
    number = api.create(description=text)
    assert body(api.get(f"requests/{number}"), "json")[0]["description"] == text.strip()


def test_multivaluelist_attribute(api, requests_table):
    """ "multiple values for the same code in the case of a multivaluelist datatype
    (attribute[code1][]=value1&attribute[code1][]=value2...)"."""
    number = api.create(
        service_code="pothole", **{"attribute[where]": "bike_lane", "attribute[hazards][]": ["deep", "water", "deep"]}
    )
    stored = requests_table.get(number)
    assert stored["attributes"] == {"where": "bike_lane", "hazards": ["deep", "water"]}
    errors_of(
        api.post(
            "json",
            api_key=API_KEY,
            service_code="pothole",
            address_string="x",
            **{"attribute[where]": "road", "attribute[hazards][]": ["deep", "lava"]},
        ),
        "json",
        400,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_ascii_round_trip(api, fmt):
    """ "UTF-8 is required everywhere"; "All text received ... must be decoded" as UTF-8."""
    text = "Bache enorme en la calle Ñandú — 東京 🚧 «profundo»\nsegunda línea"
    address = "Avenida São João 42, Zürich"
    number = api.create(description=text, address_string=address)
    doc = body(api.get(f"requests/{number}", fmt), fmt)[0]
    assert doc["description"] == text and doc["address"] == address


def test_control_characters_are_dropped_not_rejected(api):
    """XML 1.0 cannot carry NUL and most control characters; they are removed on the way in."""
    number = api.create(description="a\x00b\x1bc\x7f", address_string="1\x00 Main St")
    doc = body(api.get(f"requests/{number}", "xml"), "xml")[0]
    assert doc["description"] == "abc" and doc["address"] == "1 Main St"


# -- GET Service Requests -----------------------------------------------------------------------


REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_fields_and_w3c_datetimes(api, fmt):
    """Each request has the spec's fields; datetimes "must be formatted in a common subset of
    ISO 8601 as per the w3 note. Timezone information ... must be included"."""
    number = api.create(service_code="graffiti", media_url="https://example.test/a.jpg")
    (doc,) = body(api.get(f"requests/{number}", fmt), fmt, as_text=True)
    assert set(doc) == REQUEST_FIELDS
    assert doc["status"] == "open" and doc["service_code"] == "graffiti"
    assert doc["service_name"] == "Graffiti removal"
    assert W3C.match(doc["requested_datetime"]) and W3C.match(doc["updated_datetime"])
    assert doc["media_url"] == "https://example.test/a.jpg"


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_is_still_a_list_and_unknown_is_404(api, fmt):
    number = api.create()
    items = body(api.get(f"requests/{number}", fmt), fmt)
    assert isinstance(items, list) and len(items) == 1
    errors_of(api.get("requests/1234567890", fmt), fmt, 404)


def _at(requests_table: ServiceRequests, days_ago: float, code: str = "noise") -> str:
    now = datetime.now(UTC) - timedelta(days=days_ago)
    return requests_table.create(code, address="1 Main St", now=now)


def _ids(resp: Any, fmt: str = "json") -> list[str]:
    assert resp.status_code == 200, resp.data
    return [str(r["service_request_id"]) for r in body(resp, fmt)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_default_window_is_the_last_90_days_newest_first(api, fmt, requests_table):
    """start_date/end_date: "When not specified, the range defaults to most recent 90 days";
    newest first."""
    old = _at(requests_table, 91)
    a, b, c = _at(requests_table, 89), _at(requests_table, 10), _at(requests_table, 0.01)
    assert _ids(api.get("requests", fmt), fmt) == [c, b, a]
    assert old not in _ids(api.get("requests", fmt, start_date="", end_date="", status=""), fmt)


def test_window_from_one_end(api, requests_table):
    """Only start_date: 90 days from it; only end_date: the 90 days before it."""
    a, b = _at(requests_table, 200), _at(requests_table, 150)
    _at(requests_table, 50)
    start = (datetime.now(UTC) - timedelta(days=201)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api.get("requests", start_date=start)) == [b, a]
    end = (datetime.now(UTC) - timedelta(days=149)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert _ids(api.get("requests", end_date=end)) == [b, a]


@pytest.mark.parametrize("fmt", FORMATS)
def test_window_may_not_span_more_than_90_days(api, fmt):
    """start_date/end_date "may not span more than 90 days"; dates "Must use w3 format"."""
    errors_of(api.get("requests", fmt, start_date="2024-01-01T00:00:00Z", end_date="2024-04-01T00:00:01Z"), fmt, 400)
    errors_of(api.get("requests", fmt, start_date="2024-03-01T00:00:00Z", end_date="2024-01-01T00:00:00Z"), fmt, 400)
    for bad in ("yesterday", "2024-01-01T00:00:00", "2024-02-30", "9999-12-31T23:59:59-12:00"):
        errors_of(api.get("requests", fmt, start_date=bad), fmt, 400)
    assert (
        api.get("requests", fmt, start_date="2024-01-01T00:00:00Z", end_date="2024-03-31T00:00:00Z").status_code == 200
    )


def test_w3c_offsets_and_dates(api, requests_table):
    number = requests_table.create("noise", address="x", now=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    for start, end in [
        ("2024-05-01", "2024-05-02"),
        ("2024-05-01T13:59:00+02:00", "2024-05-01T14:01:00+02:00"),
        ("2024-05-01T07:00-05:00", "2024-05-01T07:00:00.5-05:00"),
    ]:
        assert _ids(api.get("requests", start_date=start, end_date=end)) == [number], (start, end)


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters_service_code_and_status_lists(api, fmt, requests_table):
    """service_code and status "can be declared multiple times, comma delimited"; status is
    open or closed, default all."""
    noise, graffiti, rodents = (_at(requests_table, 1, c) for c in ("noise", "graffiti", "rodents"))
    requests_table.set_status(graffiti, "closed", "painted over")
    assert set(_ids(api.get("requests", fmt, service_code="noise,graffiti"), fmt)) == {noise, graffiti}
    assert _ids(api.get("requests", fmt, status="closed"), fmt) == [graffiti]
    assert set(_ids(api.get("requests", fmt, status="open"), fmt)) == {noise, rodents}
    assert len(_ids(api.get("requests", fmt, status="open,closed"), fmt)) == 3
    assert _ids(api.get("requests", fmt, service_code="noise", status="closed"), fmt) == []
    assert "status" in errors_of(api.get("requests", fmt, status="pending"), fmt, 400)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_list_overrides_the_other_arguments(api, fmt, requests_table):
    """service_request_id: "multiple service_request_id can be declared; comma delimited.
    This overrides all other arguments." (even the 90-day window)."""
    old, new = _at(requests_table, 400, "graffiti"), _at(requests_table, 1)
    got = _ids(
        api.get(
            "requests",
            fmt,
            service_request_id=f"{old},{new},1234567890",
            service_code="rodents",
            status="closed",
            start_date="bad",
        ),
        fmt,
    )
    assert got == [new, old]


def _next_page(resp: Any) -> str | None:
    found = re.search(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
    return found.group(1) if found else None


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_first_1000_results_come_in_pages(api, fmt, requests_table):
    """ "Default query limit is a span of 90 days or first 1000 requests returned": the first
    1,000, newest first, in pages (`page_size` 50 by default, at most 200), each naming the next
    in a Link header (RFC 8288), so no answer is ever the whole log."""
    now = datetime.now(UTC)
    made = [requests_table.create("noise", address="x", now=now - timedelta(seconds=i)) for i in range(1005)]
    first = api.get("requests", fmt, status="open")
    assert _ids(first, fmt) == made[:50]
    url: str | None = f"{BASE}/requests.{fmt}?status=open&page_size=200"
    seen: list[str] = []
    while url is not None:
        resp = api.client.get(url)
        seen += _ids(resp, fmt)
        assert len(seen) <= 1000
        url = _next_page(resp)
    assert seen == made[:1000]
    page3 = api.get("requests", fmt, page=3, page_size=10, status="open")
    assert _ids(page3, fmt) == made[20:30]
    assert "page=2" in page3.headers["Link"] and 'rel="prev"' in page3.headers["Link"]
    assert "status=open" in str(_next_page(page3))
    for bad in ({"page_size": "201"}, {"page_size": "0"}, {"page": "0"}, {"page": "x"}, {"page": "1001"}):
        assert "page" in errors_of(api.get("requests", fmt, **bad), fmt, 400)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_closing_shows_status_notes_and_updated_datetime(api, fmt, requests_table):
    """updated_datetime: "For requests with status=closed, this will be the date the request
    was closed"; status_notes explains the status."""
    number = api.create()
    later = datetime.now(UTC) + timedelta(hours=2)
    requests_table.set_status(number, "closed", "Quiet now; officer visited.", now=later)
    (doc,) = body(api.get(f"requests/{number}", fmt), fmt, as_text=True)
    assert doc["status"] == "closed" and doc["status_notes"] == "Quiet now; officer visited."
    assert doc["updated_datetime"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["updated_datetime"] > doc["requested_datetime"]


# -- tokens and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_tokens_are_never_issued(api, fmt):
    """Every service is realtime, so no token exists: "404 - ... token not found"."""
    assert "token" in errors_of(api.get("tokens/12345", fmt), fmt, 404)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_bodies(api, fmt):
    """Errors: code and description, "the response is an array"; "404 for resources that
    don't exist ... basically 400 for any other error"."""
    errors_of(api.client.get(f"{BASE}/nothing_here.{fmt}"), fmt, 404)
    errors_of(api.client.post(f"{BASE}/services.{fmt}"), fmt, 400)  # wrong method
    errors_of(api.client.delete(f"{BASE}/requests.{fmt}"), fmt, 400)
    big = {"api_key": API_KEY, "service_code": "noise", "description": "x" * 70_000}
    errors_of(api.client.post(f"{BASE}/requests.{fmt}", data=big), fmt, 400)  # body too large


def test_database_down_is_a_400_in_the_spec_shape(any_db_url, tmp_path):
    """ "400 - General Service Error (Any failure during create request processing, eg CRM is
    down)"; the voice line is unaffected (see the voice tests). The database is held by another
    connection: SQLite locked whole, PostgreSQL's requests table locked."""
    from sqlalchemy import create_engine, text

    app = _started_app(any_db_url, tmp_path)  # its own: the gate remembers the database as down
    api = Open311(app.test_client())
    engine = create_engine(any_db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
            else:
                conn.execute(text("LOCK TABLE service_requests IN ACCESS EXCLUSIVE MODE"))
            resp = api.post("json", api_key=API_KEY, service_code="noise", address_string="x")
            assert "not answering" in errors_of(resp, "json", 400)[0]
            conn.rollback()
    finally:
        engine.dispose()
        _closed(app)
