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

# --- screening lists (issue14-screen)
#: Largest list file (bytes) screened at once: the same 20 MB as the upload cap;
#: a 10,000-row supplier list is well under 2 MB.
SCREEN_MAX_BYTES = 20 * 1024 * 1024
#: Most rows screened at once: at ~1,000 names a second this is under a minute
#: of work, and the review table stays usable.
SCREEN_MAX_ROWS = 50_000
#: Most columns in a list; the page draws one choice per column role, and real
#: lists have a handful. Checked before any row is read.
SCREEN_MAX_COLUMNS = 200
#: Longest cell (characters); a name or an address is far shorter.
SCREEN_MAX_CELL_CHARS = 2_000
