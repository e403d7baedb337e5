"""Hostile and careless edits of the shipped scenarios, for the robustness property and its benchmark.

``mutate(rng)`` picks a shipped scenario (shortened to a 6-hour horizon so that a file that
validates also simulates in a moment) and applies one to three edits, as a
careless or hostile user would: structural ones on the data (delete a key, replace a value by
inf, nan, a huge or negative number, a string, a list...; rename a key to one with odd
characters) and textual ones on the YAML (duplicate or delete a line, insert a control character
or bytes that are not UTF-8, nest very deep, add an alias bomb). ``rng`` is a ``random.Random``;
hypothesis passes its own (``st.randoms()``), so failures shrink and replay.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

from tests.support import REPO

BASES = [
    p.read_text(encoding="utf-8")
    .replace("\nhorizon: 30d", "\nhorizon: 6h")
    .replace("\nhorizon: 24h", "\nhorizon: 6h")
    .replace("\nwarmup: 1d", "\nwarmup: 1h")
    for p in sorted((REPO / "scenarios").glob("*.yaml"))
]

VALUES: list[Any] = [
    float("inf"), float("-inf"), float("nan"), 1.0e308, -1.0e308, 1.0e9, 1.0e-300, -1, 0, 0.5, 1, 3, 2**63, 10**30,
    -(2**70), "soon", "", " ", "1e400s", "100000d", "-5m", "0s", "1ns", "4m", ".inf", True, False, None, [], {},
    [1, 2], {"dist": "exponential", "mean": "1e-300s"}, {"dist": "lognormal", "mean": "1s", "sd": "1e300s"},
    {"dist": "gamma", "mean": "1e300s", "sd": "1e-300s"}, {"dist": "empirical", "values": [0, 0]},
    {"dist": "uniform", "low": "0s", "high": "1e-320s"}, "é\u2028x", "a\nb",
]  # fmt: skip

ODD_KEYS = ["9\n11", "tab\tkey", "null\x00", "esc\x1b[31m", "\u202eevil", "", "  ", "a.b", "<<", "x" * 300]

CONTROL = ["\x00", "\x1b", "\x07", "\x7f", "\ufeff", "\x85", "\u2028", "\x0c", "\x08"]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, path + (i,))
    return out


def _edit_data(data: Any, rng: random.Random) -> Any:
    paths = [p for p in _paths(data) if p]
    if not paths:
        return data
    path = rng.choice(paths)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    kind = rng.choice(["delete", "value", "value", "value", "rename", "scale"])
    if kind == "delete":
        del parent[last]
    elif kind == "rename" and isinstance(parent, dict):
        parent[rng.choice(ODD_KEYS)] = parent.pop(last)
    elif kind == "scale" and isinstance(parent[last], int | float) and not isinstance(parent[last], bool):
        parent[last] = parent[last] * rng.choice([1e3, 1e6, 1e9, -1, 1e-9])
    else:
        parent[last] = rng.choice(VALUES)
    return data


def _edit_text(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    kind = rng.choice(["dup", "del", "control", "control", "deep", "laughs", "anchor", "bytes"])
    if kind == "dup":
        lines.insert(i, lines[i])
    elif kind == "del":
        del lines[i]
    elif kind == "control":
        j = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:j] + rng.choice(CONTROL) + lines[i][j:]
    elif kind == "deep":
        n = rng.choice([30, 60, 500, 5000])
        lines.append("deep: " + "[" * n + "]" * n if rng.random() < 0.5 else "deep: " + "{a: " * n + "1" + "}" * n)
    elif kind == "laughs":
        lines.append('l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
        for k in range(1, rng.choice([3, 9])):
            lines.append(f"l{k}: &l{k} [" + ",".join([f"*l{k - 1}"] * 9) + "]")
    elif kind == "anchor":
        lines.append("x: &self [1, *self]" if rng.random() < 0.5 else "x: *nowhere")
    else:
        return text + "\n__BYTES__"
    return "\n".join(lines)


def mutate(rng: random.Random) -> bytes:
    """One mutated scenario file, as bytes (some are not UTF-8 on purpose)."""
    text = rng.choice(BASES)
    n_data, n_text = rng.choice([(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1)])
    if n_data:  # structural edits first: the text edits may leave YAML no one should load
        data = yaml.safe_load(text)
        for _ in range(n_data):
            data = _edit_data(data, rng)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for _ in range(n_text):
        text = _edit_text(text, rng)
    raw = text.encode("utf-8", errors="surrogatepass")
    if b"__BYTES__" in raw:
        raw = raw.replace(b"\n__BYTES__", b"")
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + bytes(rng.choice([[0xFF], [0xC3], [0xFE, 0xFF], [0xE2, 0x82]])) + raw[at:]
    return raw
