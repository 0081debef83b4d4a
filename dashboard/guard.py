"""The last line of defence: an error in a page becomes a plain notice, never a traceback.

Streamlit shows an uncaught exception as its error box, with a stack trace
(hidden by ``client.showErrorDetails = "none"``, but still a red box with
"Ask Google" links that are useless offline). A briefer in front of a room
should instead see one calm sentence and be able to carry on with the
sidebar. :func:`guarded` wraps a page's body: it logs the exception with its
traceback on the server, for whoever runs it, and shows the user what could
not be drawn and what to try.

Streamlit's own control flow (``st.rerun``, ``st.stop``, ``st.switch_page``)
raises ``BaseException`` subclasses, which pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geodata.render.detail import escape_markdown

LOG = logging.getLogger("cmf_atlas")

#: The first words of every failure notice (a test looks for them).
FAILURE_PREFIX = "This view could not be drawn"


def failure_text(what: str, exc: BaseException) -> str:
    """The notice for ``exc``: what failed, the error in one line, and what to try.

    >>> failure_text("the map", ValueError("unknown measure 'x'"))
    "This view could not be drawn (the map): unknown measure 'x'. Try another setting in the \
sidebar or press Reset filters; the error has been logged on the server."
    """
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if len(detail) > 200:
        detail = detail[:199] + "…"
    return (
        f"{FAILURE_PREFIX} ({what}): {detail}. Try another setting in the sidebar or press "
        "Reset filters; the error has been logged on the server."
    )


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Run a block; on an error, log it and show a plain notice in its place.

    Example
    -------
    >>> with guarded("the charts"):  # doctest: +SKIP
    ...     draw_charts()
    """
    try:
        yield
    except Exception as exc:
        LOG.exception("CMF Atlas: %s failed", what)
        # A warning, not st.error or st.exception: a notice, not an alarm. The
        # message may quote data, so it is escaped and never read as Markdown.
        st.warning(escape_markdown(failure_text(what, exc)), icon=":material/info:")
