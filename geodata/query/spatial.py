"""DuckDB's spatial extension, loaded offline from its PyPI wheel.

The ``duckdb-extension-spatial`` wheel carries the extension binary built for
one DuckDB version (pinned together in requirements.txt); loading it from
there needs no network, unlike ``INSTALL spatial``. Nothing in the store or
the filters depends on it (they read plain ``lon``/``lat``); it is for
geometry work on the store's WKB ``geometry`` column, e.g. ``ST_X``,
``ST_Within`` or reading other spatial formats.

Example
-------
>>> import duckdb
>>> con = duckdb.connect()
>>> load_spatial(con)
True
>>> con.execute("SELECT ST_AsText(ST_Point(116.4, 39.9))").fetchone()[0]
'POINT (116.4 39.9)'
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def spatial_extension_path() -> Path | None:
    """The extension file for the installed DuckDB, or ``None`` if the wheel is missing."""
    try:
        import duckdb_extension_spatial
    except ImportError:
        return None
    path = (
        Path(duckdb_extension_spatial.__file__).parent
        / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    )
    return path if path.is_file() else None


def load_spatial(connection: duckdb.DuckDBPyConnection) -> bool:
    """Load the spatial extension into ``connection``; ``False`` when it is unavailable.

    Unavailable means the wheel is not installed or was built for another
    DuckDB version (pip keeps the two in step through the wheel's pin).
    """
    path = spatial_extension_path()
    if path is None:
        return False
    try:
        connection.load_extension(str(path))
    except duckdb.Error:
        return False
    return True
