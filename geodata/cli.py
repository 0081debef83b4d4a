"""Command line: ``python -m geodata`` validate, list, links, import, screen, figure, convert
and db.

``list`` takes the same filters as the dashboard sidebar and prints the
matching records, so a result in the UI can be reproduced in a script.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from geodata.db.cli import add_db_parser, run_db
from geodata.io.bounded import preview_import_bounded
from geodata.io.export import to_csv_text, to_geojson_text
from geodata.io.importer import ImportPreview, save_user_records
from geodata.io.quoting import quote_input
from geodata.io.readers import RejectedFileError, crs_label, parse_crs, to_wgs84
from geodata.io.safe_write import check_target, write_text_atomic
from geodata.model.limits import IMPORT_MAX_MB_CEILING, IMPORT_MAX_ROWS_CEILING, PROBLEMS_SHOWN
from geodata.model.places import CHINA_VIEW_BOUNDS, PRESET_VIEWS
from geodata.model.quality import check_records
from geodata.model.relations import Atlas, load_atlas
from geodata.model.schema import DOMAINS, KINDS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS
from geodata.query.filters import FundSizeRange, RecordFilter, filter_records
from geodata.store.load import DatasetError, Problem, default_dataset_paths
from geodata.store.userdata import problems_csv_text


def _finite(text: str) -> float:
    """A finite number: ``nan`` or ``inf`` as a filter bound silently selects nonsense."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {quote_input(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {quote_input(text)}")
    return value


def _add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", "--layer", dest="kind", action="append", choices=list(KINDS),
                   help="layer (repeatable); --layer is the same option")
    p.add_argument("--year-min", type=int, help="earliest year, inclusive")
    p.add_argument("--year-max", type=int, help="latest year, inclusive")
    p.add_argument("--fund-min", type=_finite, help="smallest fund size, RMB bn (funds only)")
    p.add_argument("--fund-max", type=_finite, help="largest fund size, RMB bn (funds only)")
    p.add_argument(
        "--no-unknown-size", action="store_true", help="drop funds whose size is unknown"
    )
    p.add_argument(
        "--domain", action="append", choices=sorted(DOMAINS), help="domain (repeatable, any-of)"
    )
    p.add_argument(
        "--search", default="",
        help="text in a name, city or province, English or Chinese (as the dashboard's search)",
    )
    p.add_argument(
        "--province", action="append", choices=list(PROVINCES), metavar="PROVINCE",
        help="province, English name (repeatable, any-of)",
    )
    p.add_argument(
        "--group", metavar="ID",
        help="a record id (e.g. org-cetc): it and everything under it via parent_of links",
    )
    p.add_argument(
        "--category", action="append", choices=list(ORG_CATEGORIES),
        help="organisation category (repeatable, any-of; other layers pass)",
    )
    p.add_argument(
        "--designated", choices=["yes", "no"],
        help="yes: only records on a US list (1260H or 1286, or under a listed parent); "
        "no: only the others",
    )
    p.add_argument(
        "--sponsor-level", action="append", choices=list(SPONSOR_LEVELS),
        help="sponsor level (repeatable, any-of; a record without one counts as unknown)",
    )
    p.add_argument(
        "--data", action="append", type=Path,
        help="dataset file(s); default: datasets/*.yaml (links.yaml and designations.yaml "
        "are read from the folder of the first file)",
    )


def filter_from_args(args: argparse.Namespace) -> RecordFilter:
    """The :class:`RecordFilter` the flags describe (same semantics as the sidebar)."""
    return RecordFilter(
        kinds=frozenset(args.kind) if args.kind else frozenset(KINDS),
        year_min=args.year_min,
        year_max=args.year_max,
        fund_size=FundSizeRange(
            min_bn=args.fund_min, max_bn=args.fund_max, include_unknown=not args.no_unknown_size
        ),
        domains=frozenset(args.domain or ()),
        search=args.search,
        provinces=frozenset(args.province or ()),
        group=args.group,
        org_categories=frozenset(args.category or ()),
        designated=None if args.designated is None else args.designated == "yes",
        sponsor_levels=frozenset(args.sponsor_level or ()),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geodata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every dataset; exit 1 on any problem")
    v.add_argument("files", nargs="*", type=Path, help="files to check; default: datasets/*.yaml")
    _add_report_options(v)
    ls = sub.add_parser("list", help="print the filtered records")
    _add_filter_options(ls)
    ls.add_argument("--format", choices=["geojson", "csv"], default="geojson")
    lk = sub.add_parser("links", help="print a record's links (both directions)")
    lk.add_argument("id", help="record id, e.g. org-cetc")
    lk.add_argument("--data", action="append", type=Path,
                    help="dataset file(s); default: datasets/*.yaml")
    _add_import_parser(sub)
    _add_screen_parser(sub)
    add_db_parser(sub)
    fg = sub.add_parser("figure", help="draw the filtered records as a PNG, SVG or PDF figure")
    _add_filter_options(fg)
    fg.add_argument("--out", type=Path, required=True, help="output file: .png, .svg or .pdf")
    fg.add_argument("--title", help="figure title (default: China's military-civil fusion …)")
    fg.add_argument("--caption", help="caption printed under the map and legend")
    fg.add_argument(
        "--view", choices=["auto", *PRESET_VIEWS], default="auto",
        help="what to frame: a preset view of the dashboard, or 'auto' (default): all of "
        "China, or the records when they sit in one region (e.g. --province Beijing)",
    )
    fg.add_argument(
        "--text-as", choices=["text", "outlines"], default="text",
        help="SVG text as text (editable; names fonts with fallbacks) or as outlines "
        "(looks the same on any machine)",
    )
    fg.add_argument("--links", action="store_true",
                    help="draw the links among the records shown (one dash pattern per type)")
    fg.add_argument("--width-in", type=float, default=7.5,
                    help="width in inches (default 7.5; 6.3 fits a Word page)")
    fg.add_argument("--dpi", type=float, default=300, help="PNG resolution (default 300)")
    fg.add_argument(
        "--data-as-of", help="date for 'Data as of', YYYY-MM-DD; default: newest dataset file"
    )
    cv = sub.add_parser(
        "convert", help="validate a dataset, table or data folder and write a GeoParquet store"
    )
    cv.add_argument("input", type=Path, help="YAML, GeoParquet, CSV, GeoJSON, GeoPackage, "
                    "zipped Shapefile, or a folder of YAML/GeoParquet/CSV files")
    cv.add_argument("output", type=Path, help="the GeoParquet file to write (.parquet)")
    return parser


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--report", type=Path, metavar="FILE.csv",
        help=f"write every problem to this CSV file (only the first {PROBLEMS_SHOWN} are "
        "printed); never over an existing file unless --force",
    )
    p.add_argument(
        "--force", action="store_true",
        help="allow --save and --report to replace an existing regular file",
    )


def _check_targets(args: argparse.Namespace, *names: str) -> None:
    """Refuse unusable output paths before any work is done (exit 2)."""
    for name in names:
        path = getattr(args, name, None)
        if path is not None:
            check_target(path, overwrite=args.force)


def _write_report(args: argparse.Namespace, problems: Sequence[Problem]) -> None:
    if args.report is None:
        return
    write_text_atomic(
        args.report, problems_csv_text(problems), overwrite=args.force, encoding="utf-8-sig"
    )
    print(f"wrote {len(problems):,} problem(s) to {args.report}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    """Schema, links, designations, then the data-quality checks (geodata.model.quality).

    Checking the curated datasets (no files given) also requires every record's
    confidence and every source's accessed date; files given by name are
    checked as data of any origin.
    """
    _check_targets(args, "report")
    curated = not args.files
    paths = args.files or default_dataset_paths()
    try:
        atlas = load_atlas(paths)
    except DatasetError as exc:
        _write_report(args, exc.problems)
        raise
    findings = check_records(atlas.records, curated=curated)
    for finding in findings:
        print(finding, file=sys.stderr if finding.severity == "error" else sys.stdout)
    errors = sum(f.severity == "error" for f in findings)
    counts = {k: sum(r.kind == k for r in atlas.records) for k in KINDS}
    detail = ", ".join(f"{n} {KINDS[k].lower()}" for k, n in counts.items())
    accepted = sum(d.review == "accepted" for d in atlas.designations)
    summary = (
        f"{len(atlas.records)} records in {len(paths)} file(s) ({detail}); "
        f"{len(atlas.links)} links; {len(atlas.designations)} designation reviews "
        f"({accepted} accepted); {len(findings) - errors} warning(s)"
    )
    if errors:
        print(f"FAILED: {errors} error(s). {summary}.", file=sys.stderr)
        return 1
    print(f"OK: {summary}.")
    return 0


def _atlas(args: argparse.Namespace) -> Atlas:
    return load_atlas(args.data or default_dataset_paths())


def _cmd_list(args: argparse.Namespace) -> int:
    flt = filter_from_args(args)
    selected = filter_records(_atlas(args).frame, flt)
    text = to_geojson_text(selected) if args.format == "geojson" else to_csv_text(selected)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _cmd_links(args: argparse.Namespace) -> int:
    frame = _atlas(args).frame
    rows = frame[frame["id"] == args.id]
    if rows.empty:
        print(f"error: no record has id {args.id!r}", file=sys.stderr)
        return 1
    row = rows.iloc[0]
    print(f"{row['id']}: {row['name_en']} ({row['name_zh']})")
    if not row["links"]:
        print("  no links")
    for link in row["links"]:
        arrow = "->" if link["direction"] == "out" else "<-"
        print(f"  {arrow} {link['type']:<13} {link['other']}  {link['other_name']}"
              f"  [{link['label']}]")
    for d in row["designations"]:
        rel = "listed" if d["relation"] == "listed" else f"under {d.get('listed_parent')}"
        removed = f", removed {d['date_removed']}" if d.get("date_removed") else ""
        print(f"  US list {d['list']}: {d['entry_name']} ({rel}, added "
              f"{d.get('date_added') or 'n.d.'}{removed})")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from geodata.store.convert import convert

    n = convert(args.input, args.output)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({n:,} records, {size:,} bytes)")
    return 0


def _cmd_figure(args: argparse.Namespace) -> int:
    # Imported here: matplotlib is slow to import and only this command needs it.
    from geodata.render.figure import FigureFontError, dataset_date, export_figure, figure_format
    from geodata.render.figure_options import figure_extent

    figure_format(args.out)  # a bad extension fails before any data is read
    flt = filter_from_args(args)
    paths = args.data or default_dataset_paths()
    selected = filter_records(load_atlas(paths).frame, flt)
    view = CHINA_VIEW_BOUNDS if args.view == "auto" else PRESET_VIEWS[args.view].bounds
    try:
        out = export_figure(
            selected, flt, args.out, title=args.title, caption=args.caption,
            width_in=args.width_in, dpi=args.dpi, text_as=args.text_as,
            bounds=figure_extent([selected], view),
            data_as_of=args.data_as_of or dataset_date(paths), links=args.links,
        )
    except (FigureFontError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({len(selected)} records, {out.stat().st_size:,} bytes)")
    return 0


_IMPORT_HELP = """\
Preview importing your own CSV, GeoJSON, GeoPackage, zipped Shapefile or saved YAML:
prints a summary, the column mapping, and every rejected row and warning.

exit status: 0 if every row is accepted (warnings allowed); 1 if the file is
refused or any row is rejected; 2 for invalid arguments, including a --save or
--report path that exists (without --force), is a folder, a device or a link,
or is in a folder that does not exist; 3 if --save or --report could not be
written (disk full, read-only file system, no permission): nothing was written.

--save writes the accepted records (datasets YAML, written atomically) only
when every row is accepted; add --accept-partial to save the accepted rows
even though some were rejected (the exit status is still 1). Nothing is saved
when the file is refused or no row is accepted. It never replaces an existing
file unless --force is given, and never a folder, device or link.

The first {shown} problems of each kind are printed; --report FILE.csv writes
them all.
"""


EXIT_WRITE_FAILED = 3


def _mapping_pair(text: str) -> tuple[str, str]:
    header, sep, field = text.rpartition("=")
    if not sep or not header:
        raise argparse.ArgumentTypeError(f"expected HEADER=field, got {quote_input(text)}")
    return header, field


def _positive(kind: type, ceiling: float) -> object:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(
                f"expected a {'whole ' if kind is int else ''}number, got {quote_input(text)}"
            ) from None
        if not math.isfinite(value) or not 0 < value <= ceiling:
            raise argparse.ArgumentTypeError(
                f"expected a number greater than 0 and at most {ceiling:,}, "
                f"got {quote_input(text)}"
            )
        return value

    return parse


def _crs_option(text: str) -> str:
    """A CRS that can be converted to WGS 84, checked before any file is read."""
    try:
        to_wgs84(parse_crs(text), crs_label(text))
    except RejectedFileError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    return text


def _add_import_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="preview (and optionally save) your own data file",
        description=_IMPORT_HELP.format(shown=PROBLEMS_SHOWN),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, help="CSV, GeoJSON, GeoPackage, zipped Shapefile, "
                   "or a .yaml file in the datasets' format")
    p.add_argument("--kind", choices=list(KINDS), default="cluster",
                   help="layer for rows without a kind column (default: cluster)")
    p.add_argument("--crs", type=_crs_option,
                   help="CRS of a CSV's coordinates, or of a shapefile without .prj "
                        "(default EPSG:4326), e.g. EPSG:4547")
    p.add_argument("--map", action="append", type=_mapping_pair, default=[],
                   metavar="HEADER=FIELD",
                   help="map a column to a field, overriding the guess (repeatable); "
                        "FIELD '-' ignores the column")
    p.add_argument("--save", type=Path, metavar="OUT.yaml", help="write accepted records here")
    p.add_argument("--accept-partial", action="store_true",
                   help="with --save, save the accepted rows even if some were rejected")
    p.add_argument("--max-mb", type=_positive(float, IMPORT_MAX_MB_CEILING), default=20.0,
                   help=f"refuse files larger than this many MB (default 20, at most "
                        f"{IMPORT_MAX_MB_CEILING:,})")
    p.add_argument("--max-rows", type=_positive(int, IMPORT_MAX_ROWS_CEILING), default=50_000,
                   help=f"refuse files with more rows than this (default 50000, at most "
                        f"{IMPORT_MAX_ROWS_CEILING:,})")
    _add_report_options(p)


def _print_import_report(preview: ImportPreview, report: Path | None) -> None:
    print(preview.summary())
    if preview.mapping.pairs:
        pairs = ", ".join(f"{quote_input(h)} -> {f}" for h, f in preview.mapping.pairs)
        print(f"mapping: {pairs}")
    for label, problems in (
        ("error", preview.errors), ("rejected", preview.problems), ("warning", preview.warnings)
    ):
        for problem in problems[:PROBLEMS_SHOWN]:
            print(f"{label}: {problem}")
        more = len(problems) - PROBLEMS_SHOWN
        if more > 0:
            where = f"all are in {report}" if report else "--report FILE.csv writes them all"
            print(f"{label}: … and {more:,} more ({where})")


def _cmd_import(args: argparse.Namespace) -> int:
    _check_targets(args, "save", "report")
    options = {
        "kind": args.kind, "crs": args.crs,
        "max_bytes": int(args.max_mb * 2**20), "max_rows": args.max_rows,
    }
    preview = preview_import_bounded(args.file, **options)
    if args.map and preview.headers:
        mapping = preview.mapping.with_overrides(dict(args.map))
        preview = preview_import_bounded(args.file, mapping=mapping, **options)
    _print_import_report(preview, args.report)
    _write_report(args, preview.errors + preview.problems + preview.warnings)
    if args.save:
        if not preview.records:
            print("not saved: no record was accepted", file=sys.stderr)
        elif preview.problems and not args.accept_partial:
            print(
                f"not saved: {preview.rejected} row(s) rejected; fix them, or pass "
                f"--accept-partial to save the {len(preview.records)} accepted record(s)",
                file=sys.stderr,
            )
        else:
            save_user_records(preview.records, args.save, overwrite=args.force)
            print(f"saved {len(preview.records)} record(s) to {args.save}")
    return 0 if preview.ok else 1


def _add_screen_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen", help="screen a list of names against the atlas and the US lists",
        description="Match every name of a CSV or XLSX list against the atlas records "
        "(names and aliases, English and Chinese) and the US DoD Section 1260H and 1286 "
        "lists, and place its addresses offline. Every candidate is printed with its basis "
        "and score; nothing is decided for you. Exit 0 when no row has a candidate, 3 when "
        "some do (review them), 2 on a problem with the file or the options.",
    )
    p.add_argument("file", type=Path, help="the list: .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("--name-column", help="column with the names (default: guessed)")
    p.add_argument("--alias-column", help="column with other names, ';'-separated")
    p.add_argument("--address-column", help="column with addresses or place names to place")
    p.add_argument("--out", type=Path, metavar="RESULT.csv|.xlsx",
                   help="write every candidate (decision 'undecided') to a CSV or XLSX file")
    p.add_argument("--data", action="append", type=Path,
                   help="dataset file(s) to screen against; default: datasets/*.yaml")


def _cmd_screen(args: argparse.Namespace) -> int:
    from geodata.screening.listfile import read_list, suggest_columns
    from geodata.screening.report import results_csv, results_frame, results_xlsx
    from geodata.screening.run import build_screener, screen_list

    if args.out is not None and args.out.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"--out {args.out}: expected a .csv or .xlsx file name")
    if args.out is not None and (args.out.exists() or args.out.is_symlink()):
        raise ValueError(f"{args.out}: already exists; choose a new file name")
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ValueError(f"{args.file}: cannot read the file ({exc.strerror})") from None
    table = read_list(data, str(args.file))
    guess = suggest_columns(table.headers)
    name_col = args.name_column or guess["name"]
    address_col = args.address_column or (None if args.name_column else guess["address"])
    alias_col = args.alias_column or (None if args.name_column else guess["alias"])
    from geodata.model.relations import load_atlas

    atlas = load_atlas(args.data) if args.data else load_atlas()
    screener = build_screener(atlas.frame.itertuples(index=False))
    rows = screen_list(table, screener, name_column=name_col,
                       alias_column=alias_col, address_column=address_col)
    hits = [r for r in rows if r.candidates]
    print(f"{table.file}: {len(rows):,} names screened (column {name_col!r}), "
          f"{len(hits):,} with candidates")
    for note in table.notes:
        print(f"note: {note}")
    for r in rows:
        place = f" | {r.placement.status}: {r.placement.unit or r.placement.reason}" \
            if r.placement else ""
        if not r.candidates:
            print(f"{r.where}: {r.name}: no match{place}")
        for c in r.candidates:
            print(f"{r.where}: {r.name}: {c.explain()}{place}")
    if args.out is not None:
        frame = results_frame(rows)
        payload = results_xlsx(frame) if args.out.suffix.lower() == ".xlsx" else results_csv(frame)
        _write_new_file(args.out, payload)
        print(f"wrote {len(frame):,} line(s) to {args.out}")
    return 3 if hits else 0


def _write_new_file(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a new file atomically; refuse to replace anything."""
    import os
    import tempfile

    if path.exists():
        raise ValueError(f"{path}: already exists; choose a new file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # fails if the name was taken meanwhile: never overwrites
        os.unlink(tmp)
    except FileExistsError:
        os.unlink(tmp)
        raise ValueError(f"{path}: already exists; choose a new file name") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot write ({exc.strerror})") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return _cmd_import(args)
        if args.command == "db":
            return run_db(args)
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "figure":
            return _cmd_figure(args)
        if args.command == "screen":
            return _cmd_screen(args)
        if args.command == "links":
            return _cmd_links(args)
        if args.command == "convert":
            return _cmd_convert(args)
        return _cmd_list(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if len(exc.problems) > PROBLEMS_SHOWN and getattr(args, "report", None) is None:
            print("(--report FILE.csv writes every problem)", file=sys.stderr)
        return 1
    except ValueError as exc:  # includes TargetError: an unusable --save or --report path
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        name = quote_input(str(exc.filename)) if exc.filename else "the output file"
        print(
            f"error: could not write {name}: {exc.strerror or exc}; nothing was written",
            file=sys.stderr,
        )
        return EXIT_WRITE_FAILED
