"""The safe YAML reader both halves use: refused input as one line naming line and field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from queueing.yamlsafe import YamlInputError, read_yaml
from tests.support.cli import assert_refused, invoke, write_file


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("nul_character", "name: a\x00b\n", r":1: name: contains the control character \\x00"),
        ("escape_character", "name: x\nseed: \x1b[31m1\n", r":2: seed: contains the control character \\x1b"),
        ("nul_by_escape", 'name: "a\\0b"\n', r":1: name: contains the control character \\x00"),
        ("key_with_newline", 'classes:\n  "9\\n11": {priority: 1}\n', r":2: classes\.9\\n11: a key must be one line"),
        ("duplicate_key", "replications: 3\nname: x\nreplications: 1000000000\n",
         r":3: replications: duplicate key: given on line 1 and again on line 3"),
        ("duplicate_key_911_and_quoted", 'classes:\n  911: {}\n  "911": {}\n', r":3: classes\.911: duplicate key"),
        ("nesting_500_deep", "a: " + "[" * 500 + "]" * 500 + "\n", r":1: a\.0\.0.*: nested deeper than 40 levels"),
        ("self_alias", "a: &a [1, *a]\n", r":1: a\.1: alias \*a refers to a node that contains it"),
    ],
)  # fmt: skip
def test_reader_refuses(name: str, text: str, expected: str, tmp_path: Path) -> None:
    path = write_file(tmp_path, text)
    result = invoke("validate", str(path))
    assert_refused(result, path, expected)
    assert len(result.stderr.splitlines()) == 1


def test_billion_laughs_refused_in_milliseconds(tmp_path: Path) -> None:
    """A 452-byte alias bomb (a billion strings if expanded, 39 s and 3.1 GB unchecked) is refused while
    composing."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 10)]
    path = write_file(tmp_path, "\n".join(lines) + "\n")
    assert 400 < path.stat().st_size < 600
    start = time.perf_counter()
    result = invoke("validate", str(path))
    assert time.perf_counter() - start < 1.0
    assert_refused(result, path, r":5: a4\.0: aliases expand to more than 10,000 values")


def test_non_utf8_names_the_line_and_field(tmp_path: Path) -> None:
    path = write_file(tmp_path, b"name: x\nseed: 1\nhorizon: \xff\xfe\n")
    result = invoke("validate", str(path))
    assert_refused(result, path, r":3: horizon: not UTF-8 text \(byte 0xff at offset 25\)")


def test_reader_api_for_the_menu() -> None:
    """What ivr/menu.py will call: text + source name in, data + lines out (yes/no stay text)."""
    doc = read_yaml("confirm:\n  - yes\n  - no\nkey: 11\n", "menu.yaml", yes_no_booleans=False)
    assert doc.data == {"confirm": ["yes", "no"], "key": 11}
    assert doc.line_of(("confirm", 1)) == 3 and doc.line_of(("key",)) == 4 and doc.line_of(("nope", 2)) == 1
    assert str(doc.error(("confirm", 1), "bad")) == "menu.yaml:3: confirm.1: bad"
    with pytest.raises(YamlInputError) as info:
        read_yaml("a: 1\na: 2\n", "menu.yaml")
    assert (info.value.line, info.value.field) == (2, "a")
