"""Read a YAML list of records from untrusted text, with bounded time and memory.

The one YAML reader of CMF Atlas: curated datasets, a data folder
(``$CMF_ATLAS_DATA``) and a user's saved ``.yaml`` upload all go through
:func:`read_yaml_list`. It builds plain Python values from libyaml's *event*
stream, so it never holds a node graph, and it makes a few YAML features that
only ever surprise a dataset's reader impossible:

* **Aliases** (``*name``) are refused, at the alias's own line. Records are
  written out in full; an alias is how a "billion laughs" file of 500 bytes
  expands to gigabytes, in the data and in every message that quotes it.
* **Duplicate keys** are reported (YAML keeps the last one silently: a
  latitude of 39.9 becomes 22.5).
* **Plain scalars resolve as in YAML 1.2's core schema, decimal only**: ``33:37``
  (YAML 1.1 base 60), ``0x7E1`` (hex), ``0o17``, ``0b11`` and ``1_000`` are
  reported rather than read as 2017 or kept as text, since another YAML tool
  would read them as numbers; quote them if they are text. ``2018-11-14``
  stays text and ``yes``/``no`` are text, not booleans.
* **Numbers longer than** :data:`geodata.model.limits.NUMBER_MAX_CHARS` are
  reported, never converted (Python refuses ints of over 4,300 digits with an
  error that names no file or line).
* **Tags** other than YAML's own ``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``, ``!!seq`` and ``!!map`` are refused.
* **A list longer than** ``max_items`` stops reading at the first item over
  the limit, before anything is validated.

Problems that concern one item (a duplicate key, a long number, a YAML 1.1
number) come back with the item's index, so the loader can report them with
every other problem of the file; an alias or a malformed document refuses the
whole file (:class:`RefusedYamlError`).

Example
-------
>>> result = read_yaml_list("- {id: a, year: 2017}\\n- {id: b, year: 0x7E1}\\n")
>>> result.items
[{'id': 'a', 'year': 2017}, {'id': 'b', 'year': None}]
>>> result.lines, [(p.index, p.field) for p in result.problems]
([1, 2], [(1, 'year')])
>>> read_yaml_list("- &a {id: a}\\n- *a\\n")
Traceback (most recent call last):
...
geodata.io.safe_yaml.RefusedYamlError: line 2: an alias (*a) repeats another part of the file; \
expected every record written out in full (anchors and aliases are not supported)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events

from geodata.io.quoting import quote_input
from geodata.model.limits import NUMBER_MAX_CHARS

# libyaml's C parser when the wheel has it: ~10x faster than the pure-Python one.
_Parser = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_TAG = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
#: Plain scalars a YAML 1.1 reader (PyYAML's default, many other tools) reads as
#: a number although YAML 1.2 does not: base 60, hex, octal, binary, digit groups.
_YAML11_NUMBER = re.compile(
    r"[-+]?(?:[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"  # 33:37, 1:02:03.5
    r"|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+"  # 0x7E1, 0o17, 017, 0b11
    r"|[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)\Z"  # 1_000
)
_SCALAR_TAGS = frozenset(f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null"))


class RefusedYamlError(ValueError):
    """The text is not a YAML file this reader accepts; ``line`` is 1-based or ``None``."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ItemProblem:
    """Something wrong inside one list item: its index, line, field (or ``"-"``), message."""

    index: int
    line: int
    field: str
    message: str


@dataclass
class YamlList:
    """The items of a YAML list, the line each starts on, and per-item problems."""

    items: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)


class _Frame:
    """One open sequence or mapping while events are turned into values.

    Marks (libyaml's positions) are kept rather than line numbers: a line is
    worked out only for a message, which keeps the hot loop lean.
    """

    __slots__ = ("key", "key_mark", "mark", "value")

    def __init__(self, value: list | dict, mark: Any):
        self.value = value
        self.mark = mark
        self.key: Any = _NO_KEY
        self.key_mark = mark


_NO_KEY = object()


def read_yaml_list(text: str, *, max_items: int | None = None) -> YamlList | None:
    """The items of the YAML list in ``text``; ``None`` for an empty document.

    Parameters
    ----------
    text
        The whole file, decoded.
    max_items
        Refuse a list with more items than this, as soon as the first extra
        item starts (nothing after it is read).

    Raises
    ------
    RefusedYamlError
        Not valid YAML, not a list, more than one document, an alias, an
        unsupported tag, a non-scalar key, or over ``max_items``.
    """
    parser = _Parser(text)
    try:
        return _read(parser, max_items)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise RefusedYamlError(f"not valid YAML: {problem}", line) from None
    finally:
        parser.dispose()


def _read(parser: Any, max_items: int | None) -> YamlList | None:
    get = parser.get_event
    get()  # StreamStart
    if isinstance(parser.peek_event(), events.StreamEndEvent):
        return None
    get()  # DocumentStart
    first = parser.peek_event()
    line = first.start_mark.line + 1
    if not isinstance(first, events.SequenceStartEvent):
        if isinstance(first, events.ScalarEvent) and first.tag is None and first.value in _NULL:
            return None
        what = "mapping" if isinstance(first, events.MappingStartEvent) else "single value"
        raise RefusedYamlError(f"expected a YAML list of records, got a {what}", line)
    result = YamlList()
    _check_collection_tag(first, "seq")
    get()
    while not isinstance(parser.peek_event(), events.SequenceEndEvent):
        index = len(result.items)
        if max_items is not None and index >= max_items:
            raise RefusedYamlError(
                f"file has more than {max_items:,} records; the limit is {max_items:,} "
                "per import (max_rows) — split the file",
                parser.peek_event().start_mark.line + 1,
            )
        start = parser.peek_event().start_mark.line + 1
        result.items.append(_read_node(parser, index, result.problems))
        result.lines.append(start)
    get()  # SequenceEnd
    get()  # DocumentEnd
    extra = get()
    if not isinstance(extra, events.StreamEndEvent):
        raise RefusedYamlError(
            "the file holds more than one YAML document (a second '---'); expected one list "
            "of records",
            extra.start_mark.line + 1,
        )
    return result


def _check_collection_tag(event: Any, kind: str) -> None:
    if event.tag not in (None, "!", f"{_TAG}{kind}"):
        raise RefusedYamlError(
            f"the tag {quote_input(event.tag)} is not supported; expected plain YAML lists, "
            "mappings and values",
            event.start_mark.line + 1,
        )


_ScalarEvent = events.ScalarEvent
_SequenceStart = events.SequenceStartEvent
_MappingStart = events.MappingStartEvent
_Alias = events.AliasEvent
#: First characters of every plain scalar that may be null, a bool or a number.
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")


def _read_node(parser: Any, index: int, problems: list[ItemProblem]) -> Any:
    """One complete value (scalar, or a whole nested structure) from the event stream.

    Iterative, with an explicit stack, so deep nesting cannot exhaust Python's
    recursion limit. Plain text, the bulk of any file, takes the shortest path.
    """
    get = parser.get_event
    stack: list[_Frame] = []
    while True:
        event = get()
        kind = type(event)
        if kind is _ScalarEvent:
            text = event.value
            if event.tag is None and (event.style or not text or text[0] not in _MAYBE_TYPED):
                value: Any = text if text or event.style else None
            else:
                top = stack[-1] if stack else None
                key = top.key if top is not None and type(top.value) is dict else _NO_KEY
                value = _scalar(event, index, key, problems)
            mark = event.start_mark
        elif kind is _MappingStart or kind is _SequenceStart:
            _check_collection_tag(event, "map" if kind is _MappingStart else "seq")
            stack.append(_Frame({} if kind is _MappingStart else [], event.start_mark))
            continue
        elif kind is _Alias:
            raise RefusedYamlError(
                f"an alias (*{event.anchor}) repeats another part of the file; expected "
                "every record written out in full (anchors and aliases are not supported)",
                event.start_mark.line + 1,
            )
        else:  # SequenceEnd or MappingEnd
            frame = stack.pop()
            value, mark = frame.value, frame.mark
        if not stack:
            return value
        top = stack[-1]
        container = top.value
        if type(container) is list:
            container.append(value)
        else:
            _add_to_mapping(top, value, mark, index, problems)


def _add_to_mapping(
    frame: _Frame, value: Any, mark: Any, index: int, problems: list[ItemProblem]
) -> None:
    container = frame.value
    if frame.key is _NO_KEY:
        if isinstance(value, (list, dict)):
            raise RefusedYamlError(
                "a mapping key must be a plain value, not a list or mapping", mark.line + 1
            )
        frame.key, frame.key_mark = value, mark
        return
    key = frame.key
    frame.key = _NO_KEY
    if key in container:
        problems.append(ItemProblem(
            index, frame.key_mark.line + 1, str(key),
            f"the key {quote_input(key)} appears more than once in one mapping; expected each "
            "key once (YAML would silently keep the last value)",
        ))
        return
    container[key] = value


def _scalar(event: Any, index: int, key: Any, problems: list[ItemProblem]) -> Any:
    text: str = event.value
    line = event.start_mark.line + 1
    field_ = "-" if key is _NO_KEY else str(key)
    tag = event.tag
    if tag == "!" or (tag is None and event.style):  # quoted, block or '!': a string
        return text
    if tag is not None and tag not in _SCALAR_TAGS:
        raise RefusedYamlError(
            f"the tag {quote_input(tag)} is not supported; expected plain YAML lists, "
            "mappings and values",
            line,
        )
    if tag == f"{_TAG}str":
        return text
    value = _resolve(text)
    if value is _UNRESOLVED:
        if _YAML11_NUMBER.match(text):
            problems.append(ItemProblem(
                index, line, field_,
                f"{quote_input(text)} is a number in YAML 1.1 (base 60, hex, octal, binary or "
                "with digit groups), which other YAML tools read differently; expected a "
                "decimal number such as 2017, or the text in quotes",
            ))
            return None
        value = text
    elif value is _TOO_LONG:
        problems.append(ItemProblem(
            index, line, field_,
            f"a number {len(text):,} characters long; expected at most "
            f"{NUMBER_MAX_CHARS} characters",
        ))
        return None
    if tag is not None and not _matches_tag(value, tag):
        problems.append(ItemProblem(
            index, line, field_,
            f"{quote_input(text)} is not a valid {tag.removeprefix(_TAG)}",
        ))
        return None
    return float(value) if tag == f"{_TAG}float" else value


_UNRESOLVED = object()
_TOO_LONG = object()


def _resolve(text: str) -> Any:
    """A plain scalar under YAML 1.2's core schema, decimal numbers only."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text or text[0] not in "0123456789+-.":
        return _UNRESOLVED
    if _INT.match(text):
        if len(text) > 1 and text.lstrip("+-")[:1] == "0" and len(text.lstrip("+-")) > 1:
            return _UNRESOLVED  # 017: octal 15 in YAML 1.1, 17 in YAML 1.2
        return _TOO_LONG if len(text) > NUMBER_MAX_CHARS else int(text)
    if _FLOAT.match(text):
        return _TOO_LONG if len(text) > NUMBER_MAX_CHARS else float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return _UNRESOLVED


def _matches_tag(value: Any, tag: str) -> bool:
    kind = tag.removeprefix(_TAG)
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True
