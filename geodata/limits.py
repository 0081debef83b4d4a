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

# --- YAML and records (issue10-data)

#: Longest number read from a YAML or JSON file (characters). A year has 4 digits and a
#: fund size needs no more than 17 significant ones; Python refuses to convert
#: an int of over 4,300 digits (with an error naming neither file nor line),
#: and converting one costs time quadratic in its length.
NUMBER_MAX_CHARS = 40

#: Longest message about one problem (characters). Each quotes input through
#: :func:`geodata.quoting.quote_input` already; this caps any wording that
#: does not (a validator's own text), so no message grows with its input.
MESSAGE_MAX_CHARS = 1_000

#: Problems listed on screen (the Your-data page, the CLI) before "and N more".
#: Enough to see the pattern of a mistake; the full list is a download
#: (``--report FILE`` on the CLI). Rendering 50,000 messages froze the page.
PROBLEMS_SHOWN = 50

#: A file stops being validated after this many problems, and says so. A
#: file this broken is the wrong file or the wrong format; listing more only
#: costs memory (every problem is kept for the download).
PROBLEMS_MAX = 10_000

#: Largest file ``import --max-mb`` may allow (MB). The whole file and its
#: rows are held in memory, several times its size; a larger file needs a
#: database, not an upload.
IMPORT_MAX_MB_CEILING = 1024

#: Most rows ``import --max-rows`` may allow: the map draws every point, and
#: a million points make the page unusable long before memory runs out.
IMPORT_MAX_ROWS_CEILING = 1_000_000
