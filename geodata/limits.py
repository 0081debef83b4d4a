"""Every resource limit on untrusted input, declared once.

Loader, importer, readers, figure, CLI and dashboard read their bounds from
here, so a limit is chosen (and documented) in one place and enforced before
the expensive work it guards. Each constant says what it bounds and why that
number.
"""

from __future__ import annotations

#: Longest piece of user input quoted in any message (characters). Messages
#: name a value so the user can find it; more than this only slows the page.
QUOTE_MAX_CHARS = 80

#: Largest table (CSV, GeoJSON ...) compiled to the store from a data folder
#: (``CMF_ATLAS_DATA``) or by ``python -m geodata convert`` (bytes). The file is
#: the operator's own, not an upload, so the cap is far above the 20 MB upload
#: cap; it only stops a mistaken multi-gigabyte dump.
SOURCE_TABLE_MAX_BYTES = 2 * 1024**3

#: Most rows in one such table (twice the store's largest benchmark size).
SOURCE_TABLE_MAX_ROWS = 2_000_000
