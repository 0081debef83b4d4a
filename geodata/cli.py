"""Command line: ``python -m geodata validate``, ``list``, ``import``, ``figure``, ``convert``.

``list`` takes the same filters as the dashboard sidebar and prints the
matching records, so a result in the UI can be reproduced in a script.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from geodata.export import to_csv_text, to_geojson_text
from geodata.filters import FundSizeRange, RecordFilter, filter_records
from geodata.frame import records_to_frame
from geodata.importer import ImportPreview, preview_import, save_user_records
from geodata.load import DatasetError, default_dataset_paths, load_records
from geodata.schema import DOMAINS, KINDS, PROVINCES


def _add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", action="append", choices=list(KINDS), help="layer (repeatable)")
    p.add_argument("--year-min", type=int, help="earliest year, inclusive")
    p.add_argument("--year-max", type=int, help="latest year, inclusive")
    p.add_argument("--fund-min", type=float, help="smallest fund size, RMB bn (funds only)")
    p.add_argument("--fund-max", type=float, help="largest fund size, RMB bn (funds only)")
    p.add_argument(
        "--no-unknown-size", action="store_true", help="drop funds whose size is unknown"
    )
    p.add_argument(
        "--domain", action="append", choices=sorted(DOMAINS), help="domain (repeatable, any-of)"
    )
    p.add_argument("--search", default="", help="text in the English or Chinese name")
    p.add_argument(
        "--province", action="append", choices=list(PROVINCES), metavar="PROVINCE",
        help="province, English name (repeatable, any-of)",
    )
    p.add_argument(
        "--data", action="append", type=Path, help="dataset file(s); default: datasets/*.yaml"
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
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geodata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every dataset; exit 1 on any problem")
    v.add_argument("files", nargs="*", type=Path, help="files to check; default: datasets/*.yaml")
    ls = sub.add_parser("list", help="print the filtered records")
    _add_filter_options(ls)
    ls.add_argument("--format", choices=["geojson", "csv"], default="geojson")
    _add_import_parser(sub)
    fg = sub.add_parser("figure", help="draw the filtered records as a PNG, SVG or PDF figure")
    _add_filter_options(fg)
    fg.add_argument("--out", type=Path, required=True, help="output file: .png, .svg or .pdf")
    fg.add_argument("--title", help="figure title (default: China's military-civil fusion …)")
    fg.add_argument("--width-in", type=float, default=7.5, help="width in inches (default 7.5)")
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


def _cmd_validate(args: argparse.Namespace) -> int:
    paths = args.files or default_dataset_paths()
    records = load_records(paths)
    counts = {k: sum(r.kind == k for r in records) for k in KINDS}
    detail = ", ".join(f"{n} {KINDS[k].lower()}" for k, n in counts.items())
    print(f"OK: {len(records)} records in {len(paths)} file(s) ({detail}).")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    flt = filter_from_args(args)
    frame = records_to_frame(load_records(args.data or default_dataset_paths()))
    selected = filter_records(frame, flt)
    text = to_geojson_text(selected) if args.format == "geojson" else to_csv_text(selected)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from geodata.store.convert import convert

    n = convert(args.input, args.output)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({n:,} records, {size:,} bytes)")
    return 0


def _cmd_figure(args: argparse.Namespace) -> int:
    # Imported here: matplotlib is slow to import and only this command needs it.
    from geodata.figure import FigureFontError, dataset_date, export_figure, figure_format

    figure_format(args.out)  # a bad extension fails before any data is read
    flt = filter_from_args(args)
    paths = args.data or default_dataset_paths()
    selected = filter_records(records_to_frame(load_records(paths)), flt)
    try:
        out = export_figure(
            selected, flt, args.out, title=args.title, width_in=args.width_in, dpi=args.dpi,
            data_as_of=args.data_as_of or dataset_date(paths),
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
refused or any row is rejected; 2 for invalid arguments.

--save writes the accepted records (datasets YAML, written atomically) only
when every row is accepted; add --accept-partial to save the accepted rows
even though some were rejected (the exit status is still 1). Nothing is saved
when the file is refused or no row is accepted.
"""


def _mapping_pair(text: str) -> tuple[str, str]:
    header, sep, field = text.rpartition("=")
    if not sep or not header:
        raise argparse.ArgumentTypeError(f"expected HEADER=field, got {text!r}")
    return header, field


def _positive(kind: type) -> object:
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def _add_import_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="preview (and optionally save) your own data file",
        description=_IMPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, help="CSV, GeoJSON, GeoPackage, zipped Shapefile, "
                   "or a .yaml file in the datasets' format")
    p.add_argument("--kind", choices=list(KINDS), default="cluster",
                   help="layer for rows without a kind column (default: cluster)")
    p.add_argument("--crs", help="CRS of a CSV's coordinates, or of a shapefile without .prj "
                                 "(default EPSG:4326), e.g. EPSG:4547")
    p.add_argument("--map", action="append", type=_mapping_pair, default=[],
                   metavar="HEADER=FIELD",
                   help="map a column to a field, overriding the guess (repeatable); "
                        "FIELD '-' ignores the column")
    p.add_argument("--save", type=Path, metavar="OUT.yaml", help="write accepted records here")
    p.add_argument("--accept-partial", action="store_true",
                   help="with --save, save the accepted rows even if some were rejected")
    p.add_argument("--max-mb", type=_positive(float), default=20.0,
                   help="refuse files larger than this many MB (default 20)")
    p.add_argument("--max-rows", type=_positive(int), default=50_000,
                   help="refuse files with more rows than this (default 50000)")


def _print_import_report(preview: ImportPreview) -> None:
    print(preview.summary())
    if preview.mapping.pairs:
        pairs = ", ".join(f"{h!r} -> {f}" for h, f in preview.mapping.pairs)
        print(f"mapping: {pairs}")
    for label, problems in (
        ("error", preview.errors), ("rejected", preview.problems), ("warning", preview.warnings)
    ):
        for problem in problems:
            print(f"{label}: {problem}")


def _cmd_import(args: argparse.Namespace) -> int:
    options = {
        "kind": args.kind, "crs": args.crs,
        "max_bytes": int(args.max_mb * 2**20), "max_rows": args.max_rows,
    }
    preview = preview_import(args.file, **options)
    if args.map and preview.headers:
        mapping = preview.mapping.with_overrides(dict(args.map))
        preview = preview_import(args.file, mapping=mapping, **options)
    _print_import_report(preview)
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
            save_user_records(preview.records, args.save)
            print(f"saved {len(preview.records)} record(s) to {args.save}")
    return 0 if preview.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return _cmd_import(args)
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "figure":
            return _cmd_figure(args)
        if args.command == "convert":
            return _cmd_convert(args)
        return _cmd_list(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
