"""One document, two formats: XML and its JSON mapping by the Spark convention (GeoReport v2).

A document is a root element name and a value: a dict is an element with one child per key, a
`Many` is a wrapper element whose repeated children become a JSON array (`<services><service>`
is `[{...}]`, also with one item), a scalar is text. JSON keeps None as null and booleans and
numbers as such; XML writes None as an empty element, booleans as true/false. XML is UTF-8 with
a declaration and no namespace; JSON is UTF-8, not ASCII-escaped.

XML 1.0 cannot carry every character a string may hold (most C0 controls, lone surrogates,
U+FFFE and U+FFFF): they are left out of the XML, so one stored description cannot make the
document unreadable for every client. JSON escapes them and keeps them.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
FORMATS = ("json", "xml")
# Everything outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Many:
    """A list: in XML, one `tag` element per item inside the parent; in JSON, an array."""

    tag: str
    items: list[Any]


def to_json(value: Any) -> Any:
    if isinstance(value, Many):
        return [to_json(item) for item in value.items]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Many):
        for item in value.items:
            _fill(ET.SubElement(element, value.tag), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = NOT_XML_CHAR.sub("", str(value))


def to_xml(root: str, value: Any) -> str:
    element = ET.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


def render(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """The document as a response in `fmt` (json or xml)."""
    if fmt == "json":
        body = json.dumps(to_json(value), ensure_ascii=False, indent=1)
        return Response(body.encode("utf-8"), status=status, content_type=JSON_TYPE)
    return Response(to_xml(root, value).encode("utf-8"), status=status, content_type=XML_TYPE)
