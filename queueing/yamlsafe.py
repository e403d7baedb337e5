"""A YAML reader for files written by people, careless or hostile: scenarios and the voice menu.

It imports only PyYAML and the standard library, so ``ivr/`` may use it without pulling in
SimPy, numpy or pydantic (``queueing/__init__`` is lazy for that reason: importing this module
runs nothing else of the package; a test checks it). What it refuses, each as one line
``file:line: field: reason`` in a :class:`YamlInputError`:

- bytes that are not UTF-8 (the line of the first bad byte) and files over ``MAX_BYTES``;
- control characters (NUL, ESC, ...), in the text or produced by escapes such as ``"\\0"``
  (line breaks and tabs are fine in values; keys must be one line of printable text);
- a key given twice in one mapping, naming both lines (PyYAML silently keeps the last);
- nesting deeper than ``MAX_DEPTH`` (PyYAML's composer recurses: 500 levels crash it);
- aliases that expand to more than ``MAX_ALIAS_NODES`` nodes, or refer to themselves: the
  "billion laughs" file of a few hundred bytes that would expand to 10⁹ nodes is refused
  while it is composed, in milliseconds, because sizes are counted per node, never expanded.

Field paths join keys and list indexes with dots; characters that are not printable are shown
escaped (``\\n``, ``\\x00``) so that a message is always one line.

Use :func:`read_yaml` (text plus a name for messages) or :func:`read_yaml_file` (a path); both
return a :class:`YamlDocument` (the data and the line of every key and list item).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIAS_NODES = 10_000

YamlPath = tuple[str | int, ...]

# What PyYAML's reader refuses in a stream (it raises a ReaderError that carries no line).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Line breaks as PyYAML counts them, so that every line number here agrees with its marks.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class YamlInputError(ValueError):
    """A file that is not acceptable YAML: ``str()`` is ``source:line: field: reason``, one line.

    ``line`` 0 (the file as a whole: missing, too large) and ``field`` "" (a syntax error, where
    no field is known) are left out of the message.
    """

    def __init__(self, source: str, line: int, field: str, reason: str) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, reason
        super().__init__(f"{source}{f':{line}' if line else ''}: {f'{field}: ' if field else ''}{reason}")


def show(text: object) -> str:
    """``text`` with every character that is not printable escaped (``\\n``, ``\\x1b``, ``\\u2028``)."""
    out = []
    for ch in str(text):
        if ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def format_path(path: YamlPath, most: int = 12) -> str:
    """A field path for messages: ``classes.311.patience.mean``; ``(top level)`` when empty.

    Parts are shown escaped; a path longer than ``most`` parts keeps its first ones and ``...``.
    """
    if not path:
        return "(top level)"
    parts = [show(p) for p in path[:most]]
    return ".".join(parts) + (".…" if len(path) > most else "")


def _bad_char(text: str, allow_breaks: bool) -> str | None:
    """The first control or surrogate character of a scalar, if any (tabs and line breaks allowed
    in values, never in keys)."""
    for ch in text:
        if ch in "\t\n\r" and allow_breaks:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return ch
    return None


class _Refused(Exception):
    """Raised inside the composer; turned into a YamlInputError with the source's name."""

    def __init__(self, mark: Any, path: YamlPath, reason: str) -> None:
        super().__init__(reason)
        self.line = mark.line + 1 if mark is not None else 1
        self.path, self.reason = path, reason


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader whose composer checks depth, aliases, duplicate keys and control characters as it
    builds each node, so nothing expensive or recursive ever runs on a hostile document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []
        self._size: dict[int, int] = {}  # id(node) -> nodes in its expansion, once composed
        self._depth: dict[int, int] = {}  # id(node) -> nesting depth of its expansion
        self._alias_nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if index is not None and parent is not None:
            self._path.append(index if isinstance(index, int) else str(getattr(index, "value", index)))
        try:
            if len(self._path) >= MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(mark, tuple(self._path), f"nested deeper than {MAX_DEPTH} levels")
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                target = self.anchors.get(event.anchor)
                if target is not None:
                    if id(target) not in self._size:
                        raise _Refused(
                            event.start_mark,
                            tuple(self._path),
                            f"alias *{show(event.anchor)} refers to a node that contains it",
                        )
                    self._alias_nodes += self._size[id(target)]
                    if self._alias_nodes > MAX_ALIAS_NODES:
                        raise _Refused(
                            event.start_mark,
                            tuple(self._path),
                            f"aliases expand to more than {MAX_ALIAS_NODES:,} values",
                        )
                    if len(self._path) + self._depth[id(target)] > MAX_DEPTH:
                        raise _Refused(
                            event.start_mark,
                            tuple(self._path),
                            f"alias *{show(event.anchor)} nests deeper than {MAX_DEPTH} levels",
                        )
                return super().compose_node(parent, index)
            node = super().compose_node(parent, index)
            self._measure(node)
            return node
        finally:
            if index is not None and parent is not None:
                self._path.pop()

    def construct_yaml_timestamp(self, node: Any) -> Any:
        # PyYAML raises a bare ValueError on a date-shaped scalar that is no date (2026-13-01);
        # kept as text, the schema names the field and says what it must be.
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def _measure(self, node: Any) -> None:
        here = tuple(self._path)
        if isinstance(node, yaml.ScalarNode):
            bad = _bad_char(node.value, allow_breaks=True)
            if bad is not None:
                raise _Refused(node.start_mark, here, f"contains the control character {show(bad)!s}")
            children: list[Any] = []
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            seen: dict[str, int] = {}
            children = []
            for key, value in node.value:
                children += [key, value]
                if not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + 1
                bad = _bad_char(key.value, allow_breaks=False)
                if bad is not None:
                    raise _Refused(
                        key.start_mark,
                        here + (key.value,),
                        f"a key must be one line of printable text (it contains {show(bad)})",
                    )
                if key.tag == "tag:yaml.org,2002:merge":
                    continue
                if key.value in seen:
                    raise _Refused(
                        key.start_mark,
                        here + (key.value,),
                        f"duplicate key: given on line {seen[key.value]} and again on line {line}",
                    )
                seen[key.value] = line
        self._size[id(node)] = 1 + sum(self._size.get(id(c), 1) for c in children)
        self._depth[id(node)] = 1 + max((self._depth.get(id(c), 0) for c in children), default=0)


_GuardedLoader.add_constructor("tag:yaml.org,2002:timestamp", _GuardedLoader.construct_yaml_timestamp)


def _yes_no_free(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """A subclass of ``base`` where only true/false (any case) are booleans, not YAML 1.1's yes/no/on/off."""

    class Loader(base):  # type: ignore[valid-type, misc]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return Loader


_STRICT_BOOL_LOADER = _yes_no_free(_GuardedLoader)


@dataclass(frozen=True)
class YamlDocument:
    """What :func:`read_yaml` read: ``data`` (plain dicts, lists and scalars) and ``lines``, the
    1-based line of every key and list item by its path (mapping keys as text)."""

    data: Any
    lines: dict[YamlPath, int]
    source: str

    def line_of(self, path: YamlPath) -> int:
        """The line of ``path``, or of its deepest ancestor the file has (1 for none)."""
        for n in range(len(path), -1, -1):
            prefix = tuple(str(p) if isinstance(p, str) else p for p in path[:n])
            if prefix in self.lines:
                return self.lines[prefix]
            as_keys = tuple(str(p) for p in path[:n])
            if as_keys in self.lines:
                return self.lines[as_keys]
        return 1

    def error(self, path: YamlPath, reason: str) -> YamlInputError:
        """A YamlInputError for ``path`` in this document (its line, the path shown escaped)."""
        return YamlInputError(self.source, self.line_of(path), format_path(path), reason)


def _lines(node: Any, path: YamlPath, lines: dict[YamlPath, int]) -> None:
    """Record the line of every key and list item below ``node`` (aliases followed: bounded above)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = path + (str(key_node.value),)
            lines.setdefault(key, key_node.start_mark.line + 1)
            _lines(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault(path + (i,), item.start_mark.line + 1)
            _lines(item, path + (i,), lines)


def _line_at(text: str, offset: int) -> int:
    return 1 + len(_LINE_BREAK.findall(text, 0, offset))


def _path_at(text: str, offset: int, yes_no_booleans: bool) -> YamlPath:
    """The path of the deepest node spanning character ``offset``, if the text composes."""
    try:
        node = _compose(text, yes_no_booleans)
    except (yaml.YAMLError, _Refused):
        return ()
    best: YamlPath = ()
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        inner = None
        for i, item in enumerate(node.value):
            key, value = item if isinstance(node, yaml.MappingNode) else (None, item)
            start = (key or value).start_mark.index
            if start > offset:
                break
            if offset <= value.end_mark.index:
                inner, part = value, (str(key.value) if key is not None else i)
        if inner is None:
            break
        best += (part,)
        node = inner
    return best


def _error_at(text: str, offset: int, source: str, yes_no_booleans: bool, reason: str) -> YamlInputError:
    """An error at character ``offset`` of ``text``, naming the field there when the text, with that
    character replaced by a letter (neutral in plain or quoted scalars and comments), reads as YAML."""
    blanked = text[:offset] + "x" + text[offset + 1 :]
    return YamlInputError(
        source, _line_at(text, offset), format_path(_path_at(blanked, offset, yes_no_booleans)), reason
    )


def _compose(text: str, yes_no_booleans: bool) -> Any:
    loader = (_GuardedLoader if yes_no_booleans else _STRICT_BOOL_LOADER)(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def read_yaml(text: str, source: str, *, yes_no_booleans: bool = True) -> YamlDocument:
    """Parse one YAML document from ``text`` (``source`` names it in messages) with every guard above.

    ``yes_no_booleans=False`` reads only true/false as booleans (``yes``, ``no``, ``on`` stay text),
    as a voice menu full of "yes" and "no" wants. Raises :class:`YamlInputError`.
    """
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        raise _error_at(
            text,
            bad.start(),
            source,
            yes_no_booleans,
            f"contains the control character {show(bad.group())} (not allowed in YAML)",
        )
    loader = (_GuardedLoader if yes_no_booleans else _STRICT_BOOL_LOADER)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise YamlInputError(source, exc.line, format_path(exc.path), exc.reason) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = f"{exc.problem} ({exc.context})" if exc.problem and exc.context else exc.problem or exc.context
        raise YamlInputError(source, line, "", f"not valid YAML: {show(problem)}") from None
    except yaml.YAMLError as exc:
        raise YamlInputError(source, 1, "", f"not valid YAML: {show(exc)}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps every recursion shallow
        raise YamlInputError(source, 1, "(top level)", f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    lines: dict[YamlPath, int] = {}
    if node is not None:
        _lines(node, (), lines)
    return YamlDocument(data, lines, source)


def decode_yaml_bytes(raw: bytes, source: str, *, yes_no_booleans: bool = True) -> str:
    """``raw`` as UTF-8 text (a UTF-8 byte-order mark allowed); else a YamlInputError naming the
    line (and field, when it can be told) of the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8")
        rest = raw[exc.start :].decode("utf-8", errors="replace")
        reason = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8"
        raise _error_at(good + rest, len(good), source, yes_no_booleans, reason) from None


def read_yaml_file(path: str | Path, *, yes_no_booleans: bool = True) -> YamlDocument:
    """Read and parse a YAML file (at most ``MAX_BYTES``); every problem is a YamlInputError."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlInputError(str(p), 0, "", "no such file") from None
    except IsADirectoryError:
        raise YamlInputError(str(p), 0, "", "is a folder, not a file") from None
    except OSError as exc:
        raise YamlInputError(str(p), 0, "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise YamlInputError(str(p), 0, "", f"larger than {MAX_BYTES // 2**20} MiB; not a scenario or menu")
    text = decode_yaml_bytes(raw, str(p), yes_no_booleans=yes_no_booleans)
    return read_yaml(text, str(p), yes_no_booleans=yes_no_booleans)
