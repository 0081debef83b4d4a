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

#: Largest CSV file in a data folder (``CMF_ATLAS_DATA``) compiled to the store
#: (bytes). The folder is the operator's own, not an upload, so the cap is far
#: above the 20 MB upload cap; it only stops a mistaken multi-gigabyte dump.
FOLDER_CSV_MAX_BYTES = 2 * 1024**3

#: Most rows in one CSV file of a data folder (the store's benchmark scale).
FOLDER_CSV_MAX_ROWS = 2_000_000
