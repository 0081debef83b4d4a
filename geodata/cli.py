"""Command line: ``python -m geodata validate`` and ``python -m geodata list``.

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
from geodata.load import DatasetError, default_dataset_paths, load_records
from geodata.schema import DOMAINS, KINDS


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
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geodata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check every dataset; exit 1 on any problem")
    v.add_argument("files", nargs="*", type=Path, help="files to check; default: datasets/*.yaml")
    ls = sub.add_parser("list", help="print the filtered records")
    _add_filter_options(ls)
    ls.add_argument("--format", choices=["geojson", "csv"], default="geojson")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return _cmd_validate(args)
        return _cmd_list(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
