"""Write dataset YAML in the house style, so generated files diff like curated ones.

The curated files (``datasets/*.yaml``) are block style, one key per line,
free text double-quoted, vocabulary keys bare and short vocabulary lists in
flow style (``domains: [ai, cyber]``). The converters (ASPI import, links,
designations) and migrations write through :func:`dump_items` so a
re-run changes only the lines whose facts changed.

Example
-------
>>> print(dump_items([{"id": "org-x", "aliases": ["X", "甲"], "lat": 30.5}]), end="")
- id: org-x
  aliases:
    - "X"
    - "甲"
  lat: 30.5
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_BARE = re.compile(r"^[a-z][a-z0-9_-]*$")
_RESERVED = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
_BARE_WORD = re.compile(r"^[A-Z][A-Za-z]*$")
#: Keys whose single-word values are written bare (``province: Beijing``), as curators do.
BARE_WORD_KEYS = frozenset({"province"})
#: Keys whose lists are vocabulary keys, written in flow style on one line.
FLOW_LIST_KEYS = frozenset({"domains"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if _BARE.match(text) and text not in _RESERVED:
        return text
    # JSON's double-quoted strings are valid YAML double-quoted scalars.
    return json.dumps(text, ensure_ascii=False)


def _is_flow(key: str, value: list[Any]) -> bool:
    return key in FLOW_LIST_KEYS and all(isinstance(v, str) and _BARE.match(v) for v in value)


def _mapping(item: Mapping[str, Any], indent: int, first_prefix: str) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for n, (key, value) in enumerate(item.items()):
        lead = first_prefix if n == 0 else pad
        if isinstance(value, list):
            if not value:
                lines.append(f"{lead}{key}: []")
            elif _is_flow(key, value):
                lines.append(f"{lead}{key}: [{', '.join(value)}]")
            else:
                lines.append(f"{lead}{key}:")
                for v in value:
                    if isinstance(v, Mapping):
                        lines.extend(_mapping(v, indent + 4, pad + "  - "))
                    else:
                        lines.append(f"{pad}  - {_scalar(v)}")
        elif key in BARE_WORD_KEYS and isinstance(value, str) and _BARE_WORD.match(value):
            lines.append(f"{lead}{key}: {value}")
        elif isinstance(value, Mapping):
            lines.append(f"{lead}{key}:")
            lines.extend(_mapping(value, indent + 2, pad + "  "))
        else:
            lines.append(f"{lead}{key}: {_scalar(value)}")
    return lines


def dump_items(items: Iterable[Mapping[str, Any]], *, blank_between: bool = False) -> str:
    """A YAML list of mappings in the house style."""
    chunks = ["\n".join(_mapping(item, 2, "- ")) + "\n" for item in items]
    return ("\n" if blank_between else "").join(chunks)


def write_yaml_file(
    path: str | os.PathLike[str], items: Iterable[Mapping[str, Any]], header: str = ""
) -> Path:
    """Write ``header`` (comment lines) and the items, atomically (temp file, then rename)."""
    path = Path(path)
    body = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    body += ("\n" if header else "") + dump_items(items, blank_between=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
