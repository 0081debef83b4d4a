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

# --- YAML and records (issue10-data)

#: Longest number read from a YAML or JSON file (characters). A year has 4 digits and a
#: fund size needs no more than 17 significant ones; Python refuses to convert
#: an int of over 4,300 digits (with an error naming neither file nor line),
#: and converting one costs time quadratic in its length.
NUMBER_MAX_CHARS = 40

#: Longest message about one problem (characters). Each quotes input through
#: :func:`geodata.io.quoting.quote_input` already; this caps any wording that
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
#: own process (geodata.io.bounded), which is killed when it passes. A 50,000-row
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

# --- uploads and screening lists
#: Largest user file (bytes) read at once, uploaded or screened: a 10,000-row
#: supplier list is well under 2 MB, 50,000 points as GeoJSON about 12 MB.
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
#: Most rows screened at once: at ~1,000 names a second this is under a minute
#: of work, and the review table stays usable.
SCREEN_MAX_ROWS = 50_000
#: Most columns in a list: the same cap as every other user file (one choice
#: per column role is drawn; real lists have a handful).
SCREEN_MAX_COLUMNS = MAX_COLUMNS
#: Longest cell (characters); a name or an address is far shorter.
SCREEN_MAX_CELL_CHARS = 2_000
#: Largest table (CSV, GeoJSON ...) compiled to the store from a data folder
#: (``CMF_ATLAS_DATA``) or by ``python -m geodata convert`` (bytes). The file is
#: the operator's own, not an upload, so the cap is far above the 20 MB upload
#: cap; it only stops a mistaken multi-gigabyte dump.
SOURCE_TABLE_MAX_BYTES = 2 * 1024**3

#: Most rows in one such table (twice the store's largest benchmark size).
SOURCE_TABLE_MAX_ROWS = 2_000_000

# --- the map at scale (issue 13)
#: Above this many records shown, the curated records are drawn by the canvas point
#: layer (geodata/render/web/cmf_points.js) from packed typed arrays (geodata.render.binary)
#: instead of one Leaflet symbol per record with every property. Below it the map
#: keeps its per-record symbols (stack badges, popups with every field): 5,000 DOM
#: symbols draw in about a second, 49,000 took 10 s and 606 bytes a record.
CANVAS_MIN_RECORDS = 5_000

#: Memory a store's DuckDB queries may hold before they spill to a temporary folder
#: (next to the query index). The Sources page's index of a million records held
#: 0.93 GB at its peak on top of the 1.0 GB atlas frame, over the 1.5 GB the server
#: may use at 1M records; at 300 MB it spills and takes 2 s instead of 1 s. Filters and
#: chart aggregates hold a few MB and are not slowed (benchmarks/bench_pages.py).
STORE_QUERY_MEMORY_MB = 300

#: Rows of the records table sent at once: a larger selection is shown a page at a
#: time (a choice of page above the table). The whole table went to the browser on
#: every rerun: 100,000 rows were most of the 95 MB a page open received. A page of
#: 1,000 rows was still about 300 KB, a fifth of a 100,000-record page's bytes.
TABLE_PAGE_ROWS = 500

#: Above this many records, a data download (CSV, GeoJSON) is prepared part by part
#: into a zip file (geodata.io.large_export) and offered as a link to a file the
#: server streams from disk, instead of being built whole in memory: at 1,000,000
#: records the CSV text alone is about a gigabyte.
LARGE_EXPORT_MIN_RECORDS = 50_000

#: Records per part of such a download: only one part's descriptions and sources
#: are in memory at a time.
LARGE_EXPORT_PART_ROWS = 20_000

#: A prepared download is deleted after this many seconds (the next preparation
#: removes older ones): the link is for the person who asked for it, now.
LARGE_EXPORT_KEEP_SECONDS = 3_600
