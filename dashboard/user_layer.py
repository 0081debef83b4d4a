"""The session's own datasets: where they live, the upload cap, and the save folder.

A user's records live in ``st.session_state`` only, so every browser session
has its own and none sees another's (the pure logic is
:mod:`geodata.store.userdata`). Streamlit drops a session's state when its tab
closes; nothing reaches the disk unless the user presses *Save*.

The upload cap has one source, Streamlit's ``server.maxUploadSize`` (MB, set
in ``.streamlit/config.toml``, or ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``): the
server enforces it on every upload request, the upload widget states it and
checks it in the browser, and the importer is given the same number of bytes.
"""

from __future__ import annotations

import os
from collections.abc import Set
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import streamlit as st

from geodata.io.importer import ImportPreview
from geodata.query.filters import RecordFilter
from geodata.render.layers import ScriptJSON, user_layer_json
from geodata.store.userdata import (
    UserDataset,
    add_dataset,
    filter_user_records,
    mark_saved,
    remove_dataset,
    save_dataset,
    user_frame,
)

#: The session's datasets, a tuple of :class:`~geodata.store.userdata.UserDataset`.
USER_DATASETS_KEY = "user_datasets"
#: The sidebar checkbox that shows or hides the user's layer.
USER_LAYER_KEY = "layer_user"
#: The combined frame of the session's datasets, with the digests it was built from.
_FRAME_KEY = "_user_frame"
#: The records the filters keep and their serialised map layer, with what they came from.
_SHOWN_KEY = "_user_shown"

#: Set to the folder where "Save to disk" writes; default ``user_data/`` at the repo root.
USER_DIR_ENV = "CMF_ATLAS_USER_DIR"
DEFAULT_USER_DIR = Path(__file__).resolve().parents[1] / "user_data"


def upload_cap_mb() -> int:
    """The largest file, in MB, that may be uploaded and imported (``server.maxUploadSize``)."""
    return int(st.get_option("server.maxUploadSize"))


def user_dir() -> Path:
    """The folder "Save to disk" writes to: ``$CMF_ATLAS_USER_DIR`` or ``user_data/``."""
    return Path(os.environ.get(USER_DIR_ENV) or DEFAULT_USER_DIR).resolve()


def session_datasets() -> tuple[UserDataset, ...]:
    """This session's datasets, oldest first."""
    return tuple(st.session_state.get(USER_DATASETS_KEY, ()))


def has_user_records() -> bool:
    """Whether this session holds any records of its own."""
    return any(d.records for d in session_datasets())


def user_layer_on() -> bool:
    """Whether the session has records and the "Your data" checkbox is ticked."""
    return has_user_records() and bool(st.session_state.get(USER_LAYER_KEY, True))


def session_user_frame() -> gpd.GeoDataFrame:
    """All of this session's records as one frame, rebuilt only when the datasets change.

    Kept in the session's own state rather than a Streamlit cache: a cache is
    shared by every session, and these records belong to one.
    """
    datasets = session_datasets()
    digests = tuple(d.digest for d in datasets)
    cached = st.session_state.get(_FRAME_KEY)
    if cached is None or cached[0] != digests:
        cached = (digests, user_frame(datasets))
        st.session_state[_FRAME_KEY] = cached
    return cached[1]


def session_user_layer(flt: RecordFilter) -> tuple[gpd.GeoDataFrame, ScriptJSON]:
    """This session's records that ``flt`` keeps, and their map layer, serialised.

    Rebuilt only when the datasets or a filter that applies to them change: a
    curated layer's checkbox does not, so ticking *Funds* with 50,000 records
    of one's own does not serialise them again (about 2 s). Kept in the
    session's state, like the records themselves.
    """
    key = (tuple(d.digest for d in session_datasets()), replace(flt, kinds=frozenset()))
    cached = st.session_state.get(_SHOWN_KEY)
    if cached is None or cached[0] != key:
        shown = filter_user_records(session_user_frame(), flt)
        cached = (key, shown, user_layer_json(shown))
        st.session_state[_SHOWN_KEY] = cached
    return cached[1], cached[2]


def add_to_session(
    preview: ImportPreview, digest: str, reserved: Set[str] = frozenset()
) -> UserDataset:
    """Add the accepted records of ``preview`` to the session; return the dataset.

    ``reserved`` is the map's own record ids, which the user's never take.
    """
    datasets = add_dataset(session_datasets(), preview, digest, reserved)
    st.session_state[USER_DATASETS_KEY] = datasets
    return next(d for d in datasets if d.digest == digest)


def remove_from_session(digest: str) -> None:
    """Drop one dataset from the session (a saved file stays on disk)."""
    st.session_state[USER_DATASETS_KEY] = remove_dataset(session_datasets(), digest)


def save_from_session(digest: str) -> Path:
    """Save one of the session's datasets to :func:`user_dir`, atomically; return the path."""
    dataset = next(d for d in session_datasets() if d.digest == digest)
    path = save_dataset(dataset, user_dir())
    st.session_state[USER_DATASETS_KEY] = mark_saved(session_datasets(), digest, path)
    return path
