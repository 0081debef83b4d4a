"""One bounded way to quote user input in messages.

Every error or warning that shows a value from a file, a URL or a command line
goes through :func:`quote_input`, so no message can grow with its input.

Example
-------
>>> quote_input("abc")
"'abc'"
>>> len(quote_input("x" * 10_000)) < 120
True
"""

from __future__ import annotations

import reprlib

from geodata.model.limits import QUOTE_MAX_CHARS


def quote_input(value: object, max_chars: int = QUOTE_MAX_CHARS) -> str:
    """``repr``-style quote of ``value``, cut to about ``max_chars`` characters.

    Containers are cut by item count before they are turned into text, so even
    a structure that expands to gigabytes is quoted in bounded time.
    """
    r = reprlib.Repr()
    r.maxstring = max_chars
    r.maxother = max_chars
    r.maxlong = max_chars
    r.maxlist = r.maxtuple = r.maxset = r.maxdict = r.maxfrozenset = 6
    r.maxlevel = 3
    text = r.repr(value)
    if len(text) > max_chars + 20:
        half = max_chars // 2
        text = f"{text[:half]}…{text[-half:]}"
    return text
