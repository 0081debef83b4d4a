"""Headline numbers for a selection: counts per layer and fund capital.

Funds of unknown size are left out of the capital sum and counted
separately, so a total is never silently understated as if they were 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geodata.model.schema import KINDS


@dataclass(frozen=True)
class SelectionSummary:
    """Counts per layer, total known fund capital (RMB bn), unknown-size funds."""

    counts: dict[str, int]
    total: int
    fund_capital_rmb_bn: float
    funds_unknown_size: int


def summarize(frame: pd.DataFrame) -> SelectionSummary:
    """Summarise the records in ``frame``.

    Example
    -------
    >>> import pandas as pd
    >>> s = summarize(pd.DataFrame({"kind": ["fund", "fund", "zone"],
    ...                             "fund_size_rmb_bn": [2.0, None, None]}))
    >>> s.counts["fund"], s.fund_capital_rmb_bn, s.funds_unknown_size
    (2, 2.0, 1)
    """
    # One pass over the layer column (codes), not one comparison per layer: a
    # fifth of a second at 1,000,000 records.
    codes = pd.Index(list(KINDS)).get_indexer(frame["kind"])
    tally = np.bincount(codes[codes >= 0], minlength=len(KINDS))
    counts = {k: int(n) for k, n in zip(KINDS, tally, strict=True)}
    funds = frame["fund_size_rmb_bn"][codes == list(KINDS).index("fund")]
    return SelectionSummary(
        counts=counts,
        total=len(frame),
        fund_capital_rmb_bn=float(funds.sum(skipna=True)),
        funds_unknown_size=int(funds.isna().sum()),
    )


#: From this sum (RMB bn) on, capital is shown in trillions: a large uploaded atlas
#: sums to millions of billions, which overflows a headline on a 1366-pixel laptop.
TRILLION_FROM_BN = 10_000.0


def format_rmb_bn(value: float) -> str:
    """RMB billions for display, in trillions from :data:`TRILLION_FROM_BN` on.

    >>> format_rmb_bn(362.64), format_rmb_bn(2_336_305.2)
    ('RMB 362.6 bn', 'RMB 2,336.3 tn')
    """
    if abs(value) >= TRILLION_FROM_BN:
        return f"RMB {value / 1000:,.1f} tn"
    return f"RMB {value:,.1f} bn"


#: Shown instead of a capital sum when the Funds layer is off: a sum of nothing
#: shown as "RMB 0.0 bn" would read as "these places have no funds".
FUNDS_OFF_TEXT = "Funds off"


def capital_text(summary: SelectionSummary, funds_shown: bool) -> str:
    """The fund capital of a selection for a headline, or :data:`FUNDS_OFF_TEXT`.

    >>> s = summarize(pd.DataFrame({"kind": ["zone"], "fund_size_rmb_bn": [None]}))
    >>> capital_text(s, True), capital_text(s, False)
    ('RMB 0.0 bn', 'Funds off')
    """
    return format_rmb_bn(summary.fund_capital_rmb_bn) if funds_shown else FUNDS_OFF_TEXT
