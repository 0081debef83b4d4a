"""Leaflet's JS and CSS, served by the local Streamlit server, never a CDN.

Secure briefing rooms have no internet, so the map's scripts come from the
installed ``XStatic-Leaflet`` package, copied into the app's ``static/``
folder (Streamlit serves it at ``/app/static/``).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet

#: Files copied from XStatic-Leaflet, relative to its data directory.
LEAFLET_FILES: tuple[str, ...] = (
    "leaflet.js",
    "leaflet.css",
    "images/layers.png",
    "images/layers-2x.png",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
)
VENDOR_SUBDIR = Path("vendor") / f"leaflet-{xs_leaflet.VERSION}"

#: URL prefix of the app's static files as seen from streamlit-folium's iframe
#: (``/component/streamlit_folium.st_folium/index.html``); relative so that a
#: server ``baseUrlPath`` keeps working.
STATIC_URL_FROM_COMPONENT = "../../app/static"


def leaflet_urls(static_url: str = STATIC_URL_FROM_COMPONENT) -> tuple[str, str]:
    """(JS URL, CSS URL) of the locally served Leaflet."""
    base = f"{static_url}/{VENDOR_SUBDIR.as_posix()}"
    return f"{base}/leaflet.js", f"{base}/leaflet.css"


def install_offline_assets(static_dir: Path) -> Path:
    """Copy Leaflet into ``static_dir`` if missing or changed; return its folder.

    Each file is written to a temporary name and renamed, so a server that
    starts while another copies never serves half a script.
    """
    src_root = Path(xs_leaflet.BASE_DIR)
    dest_root = static_dir / VENDOR_SUBDIR
    for rel in LEAFLET_FILES:
        src, dest = src_root / rel, dest_root / rel
        if not src.is_file():
            raise FileNotFoundError(
                f"XStatic-Leaflet is missing {src}; reinstall requirements (make setup)"
            )
        if dest.is_file() and filecmp.cmp(src, dest, shallow=False):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return dest_root
