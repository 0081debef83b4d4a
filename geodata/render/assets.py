"""Leaflet's and Leaflet.markercluster's JS and CSS, and the basemap, served locally.

Secure briefing rooms have no internet, so the map's scripts come from the
installed ``XStatic-Leaflet`` and ``XStatic-Leaflet-MarkerCluster`` packages,
copied into the app's ``static/`` folder (Streamlit serves it at
``/app/static/``). Never a CDN.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

from geodata.io.safe_write import write_text_atomic


class VendorPackage(NamedTuple):
    """One XStatic package: where its files are and which of them the map needs."""

    base_dir: Path
    subdir: Path
    files: tuple[str, ...]
    js: tuple[str, ...]
    css: tuple[str, ...]


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

#: Leaflet.markercluster: records on one spot become a count badge that spiderfies.
MARKERCLUSTER_FILES: tuple[str, ...] = ("leaflet.markercluster.js", "MarkerCluster.css")
MARKERCLUSTER_SUBDIR = Path("vendor") / f"leaflet.markercluster-{xs_cluster.VERSION}"

VENDOR_PACKAGES: tuple[VendorPackage, ...] = (
    VendorPackage(Path(xs_leaflet.BASE_DIR), VENDOR_SUBDIR, LEAFLET_FILES,
                  js=("leaflet.js",), css=("leaflet.css",)),
    VendorPackage(Path(xs_cluster.BASE_DIR), MARKERCLUSTER_SUBDIR, MARKERCLUSTER_FILES,
                  js=("leaflet.markercluster.js",), css=("MarkerCluster.css",)),
)

#: URL prefix of the app's static files as seen from streamlit-folium's iframe
#: (``/component/streamlit_folium.st_folium/index.html``); relative so that a
#: server ``baseUrlPath`` keeps working.
STATIC_URL_FROM_COMPONENT = "../../app/static"


def leaflet_urls(static_url: str = STATIC_URL_FROM_COMPONENT) -> tuple[str, str]:
    """(JS URL, CSS URL) of the locally served Leaflet."""
    base = f"{static_url}/{VENDOR_SUBDIR.as_posix()}"
    return f"{base}/leaflet.js", f"{base}/leaflet.css"


def vendor_urls(static_url: str = STATIC_URL_FROM_COMPONENT) -> tuple[list[str], list[str]]:
    """(JS URLs, CSS URLs) of every locally served map library, in load order.

    >>> js, css = vendor_urls("/static")
    >>> [u.rsplit("/", 1)[1] for u in js]
    ['leaflet.js', 'leaflet.markercluster.js']
    """
    js: list[str] = []
    css: list[str] = []
    for pkg in VENDOR_PACKAGES:
        base = f"{static_url}/{pkg.subdir.as_posix()}"
        js += [f"{base}/{name}" for name in pkg.js]
        css += [f"{base}/{name}" for name in pkg.css]
    return js, css


#: Folder of the basemap file inside the static folder.
BASEMAP_SUBDIR = Path("basemap")


def install_basemap(static_dir: Path, basemap: dict[str, Any]) -> Path:
    """Write ``basemap`` (GeoJSON) into ``static_dir`` once; return its path there.

    The name carries a hash of the content, so a changed basemap gets a new
    URL and no browser keeps drawing a cached old one; an unchanged one is not
    rewritten. Written to a temporary name and renamed, like the libraries.
    """
    text = json.dumps(basemap, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    rel = BASEMAP_SUBDIR / f"provinces-{digest}.json"
    dest = static_dir / rel
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(dest, text, overwrite=True)
        for old in dest.parent.glob("provinces-*.json"):  # earlier basemaps' files
            if old != dest:
                old.unlink(missing_ok=True)
    return rel


def install_offline_assets(static_dir: Path) -> Path:
    """Copy Leaflet and its plugins into ``static_dir`` if missing or changed.

    Returns Leaflet's folder. Each file is written to a temporary name and
    renamed, so a server that starts while another copies never serves half
    a script.
    """
    for pkg in VENDOR_PACKAGES:
        _copy_package(pkg, static_dir)
    return static_dir / VENDOR_SUBDIR


def _copy_package(pkg: VendorPackage, static_dir: Path) -> None:
    dest_root = static_dir / pkg.subdir
    for rel in pkg.files:
        src, dest = pkg.base_dir / rel, dest_root / rel
        if not src.is_file():
            raise FileNotFoundError(
                f"{src} is missing from an installed XStatic package; "
                "reinstall requirements (make setup)"
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
