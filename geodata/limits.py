"""Every resource limit on untrusted input, declared once.

Loader, importer, readers, figure, CLI and dashboard read their bounds from
here, so a limit is chosen (and documented) in one place and enforced before
the expensive work it guards. Each constant says what it bounds and why that
number.
"""

from __future__ import annotations

import os

#: Longest piece of user input quoted in any message (characters). Messages
#: name a value so the user can find it; more than this only slows the page.
QUOTE_MAX_CHARS = 80

# --- files, columns, pixels, time (issue10-files)

#: Most columns in one imported file. Real site lists have a few dozen; the
#: Your data page draws one column-matching box per column, and a 10,000-column
#: CSV (79 KB) drew 10,000 of them and killed the page. Checked as soon as the
#: header is read, before any row is parsed.
MAX_COLUMNS = 200

#: Longest CSV cell, in characters (128 KB), the size of the csv module's own
#: field limit. A longer cell is never a name or a note (those stop at 10,000
#: characters) but usually a quote left open; the reader says so, naming the line.
MAX_CSV_CELL_CHARS = 128 * 1024

#: Wall-clock bound, in seconds, on reading and checking one user file in its
#: own process (geodata.bounded), which is killed when it passes. A 50,000-row
#: CSV (the row cap) takes 3 s on an idle core and 12 s on a machine loaded
#: four times over; a read that takes longer than this is refused rather than
#: left to hold a core, even after its browser tab is closed.
READ_TIMEOUT_S = 60.0

#: Address space, in bytes, that reading one user file may map on top of what
#: the loaded reader maps before it starts (about 1.5 GB, mostly reserved by
#: GDAL, PROJ and numpy), enforced with RLIMIT_AS in the reading process. A
#: 50,000-row CSV needs about 250 MB; four times that is refused, not left to
#: take the server down (a 520-byte YAML file once grew it to 5.9 GB).
READ_MEMORY_BYTES = 1024**3

#: How many user files are read at the same time; the rest wait (within
#: READ_TIMEOUT_S). One core is always left for serving the other sessions.
MAX_CONCURRENT_READS = max(1, (os.cpu_count() or 2) - 1)

#: CPU priority (nice increment) of the process that reads a user file, so a
#: slow read yields to the server answering everyone else.
READ_NICENESS = 10

#: Most pixels (width × height) in one figure, checked before drawing. The
#: canvas takes 4 bytes a pixel whatever the format: the largest figure allowed
#: (40 in at 177 dpi, 7,080 × 5,634) took 14 s and 385 MB in all, an A3 page
#: (16.5 in at 300 dpi) 10 s and 312 MB; 40 in at 1200 dpi (1.8 billion
#: pixels) took 77 s and 7.2 GB before the cap (benchmarks/bench_figure_cap.py).
MAX_FIGURE_PIXELS = 40_000_000
