"""The screening result as a table, CSV (Excel-ready) and XLSX, with decisions and sources.

One line per candidate (a row with three candidates gives three lines), and
one line for a row with none, so the export can be filtered in a
spreadsheet and every decision sits beside the evidence for it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import pandas as pd

from geodata.io.export import neutralise_formula
from geodata.screening.match import BASES, HIT_KINDS
from geodata.screening.run import DECISIONS, ScreenedRow
from geodata.screening.targets import SCREEN_SOURCES

#: Columns of the result table, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "Row", "Name", "Alias", "Address", "Decision", "Match", "Matched on", "Basis", "Score",
    "Hit", "List or dataset", "List dates", "Listed parent", "Atlas record", "Source URL",
    "Note", "Placed", "Precision", "Administrative unit", "Latitude", "Longitude",
    "Placement note",
)
NO_MATCH = "no match"


def results_frame(rows: Sequence[ScreenedRow],
                  decisions: Mapping[tuple[int, str], str] | None = None) -> pd.DataFrame:
    """Every row and candidate as a table (see :data:`RESULT_COLUMNS`)."""
    decisions = decisions or {}
    lines = []
    for r in rows:
        p = r.placement
        place = {
            "Placed": p.status if p else "", "Precision": (p.precision or "") if p else "",
            "Administrative unit": (p.unit or "") if p else "",
            "Latitude": p.lat if p and p.lat is not None else None,
            "Longitude": p.lon if p and p.lon is not None else None,
            "Placement note": p.reason if p else "",
        }
        base = {"Row": r.row, "Name": r.name, "Alias": r.alias, "Address": r.address}
        if not r.candidates:
            lines.append({**base, "Decision": NO_MATCH, **place})
            continue
        for c in r.candidates:
            t = c.target
            lines.append({
                **base,
                "Decision": decisions.get((r.row, t.key), "undecided"),
                "Match": t.label, "Matched on": c.matched_text, "Basis": c.basis,
                "Score": round(c.score, 1), "Hit": HIT_KINDS[c.hit_kind],
                "List or dataset": SCREEN_SOURCES[t.source], "List dates": t.dates_text(),
                "Listed parent": c.parent.label if c.parent else "",
                "Atlas record": t.record_id or "", "Source URL": t.url or "",
                "Note": t.note or "", **place,
            })
    return pd.DataFrame(lines, columns=list(RESULT_COLUMNS))


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(neutralise_formula)


def results_csv(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM (Excel reads it correctly), formulas neutralised."""
    return _safe(frame).to_csv(index=False).encode("utf-8-sig")


def results_xlsx(frame: pd.DataFrame) -> bytes:
    """An Excel workbook: the results sheet, then a sheet explaining the columns' values."""
    legend = pd.DataFrame(
        [("Decision", k, v) for k, v in DECISIONS.items()]
        + [("Decision", NO_MATCH, "No candidate in the atlas or the US lists")]
        + [("Basis", k, v) for k, v in BASES.items()]
        + [("Hit", v, k) for k, v in HIT_KINDS.items()]
        + [("List or dataset", v, k) for k, v in SCREEN_SOURCES.items()],
        columns=["Column", "Value", "Meaning"],
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        _safe(frame).to_excel(xl, sheet_name="Screening", index=False)
        legend.to_excel(xl, sheet_name="Legend", index=False)
        sheet = xl.sheets["Screening"]
        sheet.freeze_panes = "A2"
        for col, width in zip("ABCDEFGH", (6, 36, 20, 30, 12, 40, 30, 16), strict=True):
            sheet.column_dimensions[col].width = width
    return buf.getvalue()


def decision_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many lines have each decision, for the page's summary."""
    return {k: int(v) for k, v in frame["Decision"].value_counts().items()}
