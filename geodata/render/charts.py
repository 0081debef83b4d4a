"""Altair charts of the analyst views, and their export to PNG or SVG.

Builders take the tables of :mod:`geodata.query.frame_aggregates` (not the records), so
the page decides the selection and the span once and the chart only draws
it. Layers keep the map's colours (:data:`geodata.render.style.LAYER_COLORS`);
every chart carries a title, axis titles with units and tooltips.

Nothing here renders in a browser: the dashboard hands the chart to
``st.altair_chart``, which bundles Vega itself, and :func:`chart_to_bytes`
renders with vl-convert, which embeds Vega and uses the system's fonts, so
no CDN or network is needed. Data is always inline in the spec.

Example
-------
>>> import pandas as pd
>>> from geodata.query.frame_aggregates import by_year
>>> f = pd.DataFrame({"kind": ["fund", "zone"], "year": [2017, 2019],
...                   "fund_size_rmb_bn": [5.0, None]})
>>> chart = build_year_chart(by_year(f), "capital")
>>> chart.to_dict()["title"]["text"]
'Fund capital by year'
"""

from __future__ import annotations

from typing import Literal

import altair as alt
import pandas as pd

from geodata.model.schema import KINDS
from geodata.query.frame_aggregates import KIND_COLUMNS, by_domain, by_province, by_year
from geodata.render.style import LAYER_COLORS

Measure = Literal["records", "capital"]

#: The two things a chart can show; "capital" is known fund sizes only.
CHART_MEASURES: dict[str, str] = {
    "records": "Records",
    "capital": "Fund capital (RMB bn)",
}

#: The analyst views of the records, in page order, with a label for each.
CHART_VIEWS: dict[str, str] = {
    "year": "By year",
    "domain": "By technology domain",
    "province": "By province",
}

_LAYER_SCALE = alt.Scale(
    domain=[KINDS[k] for k in KIND_COLUMNS], range=[LAYER_COLORS[k] for k in KIND_COLUMNS]
)
_BAR_STEP_PX = 22
_CAPITAL_FORMAT = ",.1f"
_TEXT_COLOR = "#333333"


def _count_axis(top: float) -> alt.Axis:
    """An axis for counts: whole-number ticks only.

    Vega picks ticks at 0.5 for a short range, and its ``tickMinStep`` is not
    honoured by every renderer, so small ranges get explicit ticks.
    """
    top = int(top) if top == top else 0
    if top > 10:
        return alt.Axis(format=",d", tickMinStep=1)
    return alt.Axis(format="d", values=list(range(top + 1)))


def _check_measure(measure: str) -> None:
    if measure not in CHART_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {list(CHART_MEASURES)}")


def _check_table(table: object, columns: list[str], source: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"expected a DataFrame from geodata.query.frame_aggregates.{source}, "
            f"got {type(table)}"
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"table lacks columns {missing}; "
            f"pass the output of geodata.query.frame_aggregates.{source}"
        )
    return table


def _title(text: str, subtitle: list[str]) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle, anchor="start", subtitleColor="#555555")


def _unknown_note(n: int) -> str:
    if n == 0:
        return "Known fund sizes only; every fund in the selection has a published size."
    funds = "fund" if n == 1 else "funds"
    return f"Known fund sizes only; {n} {funds} of unknown size not included."


def _long_by_kind(table: pd.DataFrame, keys: str | list[str]) -> pd.DataFrame:
    """One row per key and layer, for stacked bars in layer order."""
    keys = [keys] if isinstance(keys, str) else keys
    long = table.melt(
        id_vars=[*keys, "records"], value_vars=KIND_COLUMNS, var_name="kind", value_name="count"
    )
    long["layer"] = long["kind"].map(KINDS)
    long["layer_order"] = long["kind"].map({k: i for i, k in enumerate(KIND_COLUMNS)})
    return long


def _year_x(n_years: int, title: str | None = "Year") -> alt.X:
    angle = 0 if n_years <= 16 else -90
    return alt.X("year:O", title=title, axis=alt.Axis(labelAngle=angle, labelOverlap="greedy"))


def build_year_chart(
    table: pd.DataFrame,
    measure: Measure = "records",
    *,
    cumulative: bool = True,
    width: int = 600,
    height: int = 220,
) -> alt.LayerChart | alt.VConcatChart:
    """What was added each year (bars) and, below it, the running total.

    The running total gets its own panel on the same year axis rather than a
    second y axis on the bars: two scales on one plot invite reading the
    line against the wrong axis.

    Parameters
    ----------
    table
        From :func:`geodata.query.frame_aggregates.by_year` (every year of the span).
    measure
        ``"records"``: records per year and running total, by layer
        (stacked). ``"capital"``: known fund capital announced per year and
        its running total, RMB bn.
    cumulative
        Add the running-total panel under the bars.
    width, height
        Pixels of the bar panel; the running total is two thirds as tall.
        ``st.altair_chart(..., use_container_width=True)`` overrides the width.
    """
    _check_measure(measure)
    table = _check_table(
        table, ["year", "records", "records_cumulative", "capital_rmb_bn"], "by_year()"
    )
    n_years = len(table)
    x = _year_x(n_years)
    year_tip = alt.Tooltip("year:O", title="Year")
    if measure == "records":
        data = _long_by_kind(table, "year")
        cum = table.melt(
            id_vars=["year", "records_cumulative"],
            value_vars=[f"{k}_cumulative" for k in KIND_COLUMNS],
            var_name="kind", value_name="count",
        )
        cum["kind"] = cum["kind"].str.removesuffix("_cumulative")
        cum["layer"] = cum["kind"].map(KINDS)
        cum["layer_order"] = cum["kind"].map({k: i for i, k in enumerate(KIND_COLUMNS)})
        color = alt.Color(
            "layer:N", scale=_LAYER_SCALE, title="Layer",
            legend=alt.Legend(orient="top", direction="horizontal", symbolType="square"),
        )
        bars = alt.Chart(data).mark_bar().encode(
            x=x,
            y=alt.Y("sum(count):Q", title="New records", stack="zero",
                     axis=_count_axis(table["records"].max() if n_years else 0)),
            color=color,
            order=alt.Order("layer_order:Q"),
            tooltip=[
                year_tip,
                alt.Tooltip("layer:N", title="Layer"),
                alt.Tooltip("sum(count):Q", title="New records"),
                alt.Tooltip("max(records):Q", title="New records, all layers"),
            ],
        )
        running = alt.Chart(cum).mark_area(opacity=0.85).encode(
            x=x,
            y=alt.Y(
                "sum(count):Q", title="Cumulative records", stack="zero",
                axis=_count_axis(table["records_cumulative"].max() if n_years else 0),
            ),
            color=color,
            order=alt.Order("layer_order:Q"),
            tooltip=[
                year_tip,
                alt.Tooltip("layer:N", title="Layer"),
                alt.Tooltip("sum(count):Q", title="Cumulative records"),
                alt.Tooltip("max(records_cumulative):Q", title="Cumulative records, all layers"),
            ],
        )
        total = int(table["records"].sum())
        title_text = "Records by year"
        subtitle = [f"{total:,} records established or first reported in the years shown."]
    else:
        unknown = int(table["funds_unknown_size"].sum()) if n_years else 0
        capital_tip = alt.Tooltip(
            "capital_rmb_bn:Q", title="Fund capital (RMB bn)", format=_CAPITAL_FORMAT
        )
        bars = alt.Chart(table).mark_bar(color=LAYER_COLORS["fund"]).encode(
            x=x,
            y=alt.Y("capital_rmb_bn:Q", title="New fund capital (RMB bn)"),
            tooltip=[
                year_tip,
                capital_tip,
                alt.Tooltip("fund:Q", title="Funds established"),
                alt.Tooltip("funds_unknown_size:Q", title="Funds of unknown size (not in sum)"),
            ],
        )
        running = alt.Chart(table).mark_area(
            color=LAYER_COLORS["fund"], opacity=0.85,
            line=alt.LineConfig(color=LAYER_COLORS["fund"]),
        ).encode(
            x=x,
            y=alt.Y("capital_rmb_bn_cumulative:Q", title="Cumulative (RMB bn)"),
            tooltip=[
                year_tip,
                alt.Tooltip(
                    "capital_rmb_bn_cumulative:Q",
                    title="Cumulative fund capital (RMB bn)",
                    format=_CAPITAL_FORMAT,
                ),
                alt.Tooltip("fund_cumulative:Q", title="Funds so far"),
                alt.Tooltip(
                    "funds_unknown_size_cumulative:Q",
                    title="Funds of unknown size so far (not in sum)",
                ),
            ],
        )
        title_text, subtitle = "Fund capital by year", [_unknown_note(unknown)]
    title = _title(title_text, subtitle)
    value = "records" if measure == "records" else "capital_rmb_bn"
    # Printed totals, because an exported PNG has no tooltips.
    totals = alt.Chart(table[table[value] > 0][["year", value]]).mark_text(
        baseline="bottom", dy=-3, color=_TEXT_COLOR
    ).encode(
        x=_year_x(n_years),
        y=alt.Y(f"{value}:Q"),
        text=alt.Text(f"{value}:Q", format=",d" if measure == "records" else _CAPITAL_FORMAT),
    )
    if not cumulative:
        return alt.layer(bars, totals).properties(title=title, width=width, height=height)
    # The panels share the years; one "Year" title, under the lower panel, is enough.
    top = alt.layer(
        bars.encode(x=_year_x(n_years, title=None)),
        totals.encode(x=_year_x(n_years, title=None)),
    ).properties(width=width, height=height)
    running = running.properties(width=width, height=int(height * 2 / 3))
    return alt.vconcat(top, running, spacing=12).properties(title=title)


def _bar_chart(
    table: pd.DataFrame,
    label: str,
    measure: Measure,
    *,
    title: str,
    subtitle: list[str],
    category_title: str,
    extra_tooltip: list[alt.Tooltip],
    top: int | None,
    width: int,
) -> alt.LayerChart:
    """Horizontal bars, largest first, each with its value at the end.

    The value is printed because an exported PNG has no tooltips.
    """
    value = "records" if measure == "records" else "capital_rmb_bn"
    shown = table[table[value] > 0].sort_values([value, label], ascending=[False, True])
    if top is not None:
        shown = shown.head(top)
    order = shown[label].tolist()
    if not order:
        subtitle = [*subtitle, "Nothing to show for the current selection."]
    # The chart title names the category; an axis title beside long labels
    # only collides with them.
    y = alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    extra = [t.shorthand.split(":")[0] for t in extra_tooltip]
    label_tip = alt.Tooltip(f"{label}:N", title=category_title)
    if measure == "records":
        x_title = "Records"
        data = _long_by_kind(shown[[label, *extra, *KIND_COLUMNS, "records"]], [label, *extra])
        data = data[data["count"] > 0]
        bars = alt.Chart(data).mark_bar().encode(
            y=y,
            x=alt.X(
                "sum(count):Q", title=x_title, stack="zero",
                axis=_count_axis(shown["records"].max() if order else 0),
            ),
            color=alt.Color(
                "layer:N", scale=_LAYER_SCALE, title="Layer",
                # One entry a line: a top legend starts where the bars do, right of the
                # long category labels, and a horizontal one ran past a half-width
                # chart's edge at 1366 px ("Demonstrat").
                legend=alt.Legend(orient="top", direction="vertical", symbolType="square",
                                  labelLimit=0),
            ),
            order=alt.Order("layer_order:Q"),
            tooltip=[
                label_tip,
                *extra_tooltip,
                alt.Tooltip("layer:N", title="Layer"),
                alt.Tooltip("sum(count):Q", title="Records"),
                alt.Tooltip("max(records):Q", title="Records, all layers"),
            ],
        )
        text_format = ",d"
    else:
        x_title = "Fund capital (RMB bn)"
        bars = alt.Chart(shown).mark_bar(color=LAYER_COLORS["fund"]).encode(
            y=y,
            x=alt.X("capital_rmb_bn:Q", title=x_title, axis=alt.Axis(tickCount=8)),
            tooltip=[
                label_tip,
                *extra_tooltip,
                alt.Tooltip("capital_rmb_bn:Q", title=x_title, format=_CAPITAL_FORMAT),
                alt.Tooltip("fund:Q", title="Funds"),
                alt.Tooltip("funds_unknown_size:Q", title="Funds of unknown size (not in sum)"),
            ],
        )
        text_format = _CAPITAL_FORMAT
    values = alt.Chart(shown[[label, value]]).mark_text(
        align="left", baseline="middle", dx=4, color=_TEXT_COLOR
    ).encode(
        y=y,
        x=alt.X(f"{value}:Q", title=x_title),
        text=alt.Text(f"{value}:Q", format=text_format),
    )
    return alt.layer(bars, values).properties(
        title=_title(title, subtitle), width=width, height=max(_BAR_STEP_PX * len(order), 60)
    )


def build_domain_chart(
    table: pd.DataFrame,
    measure: Measure = "records",
    *,
    top: int | None = None,
    width: int = 520,
) -> alt.LayerChart:
    """Records (stacked by layer) or fund capital per technology domain.

    Parameters
    ----------
    table
        From :func:`geodata.query.frame_aggregates.by_domain`; domains at 0 are left out.
    measure
        ``"records"`` or ``"capital"`` (known sizes only, RMB bn).
    top
        Show only the largest ``top`` domains.
    """
    _check_measure(measure)
    table = _check_table(
        table, ["domain", "domain_label", *KIND_COLUMNS, "records", "capital_rmb_bn"],
        "by_domain()",
    )
    note = "A record with several domains counts in each, so bars add up to more than the total."
    if measure == "records":
        title, subtitle = "Records by technology domain", [note]
    else:
        unknown = int(table["funds_unknown_size"].sum())
        title = "Fund capital by technology domain"
        subtitle = [
            "Known fund sizes only; funds of unknown size are counted in the tooltips."
            if unknown else _unknown_note(0),
            "A fund with several domains counts in full in each.",
        ]
    return _bar_chart(
        table, "domain_label", measure, title=title, subtitle=subtitle,
        category_title="Technology domain", extra_tooltip=[], top=top, width=width,
    )


def build_province_chart(
    table: pd.DataFrame,
    measure: Measure = "records",
    *,
    top: int | None = None,
    width: int = 520,
) -> alt.LayerChart:
    """Records (stacked by layer) or fund capital per province, largest first.

    Parameters
    ----------
    table
        From :func:`geodata.query.frame_aggregates.by_province`; provinces at 0 are left out.
    measure
        ``"records"`` or ``"capital"`` (known sizes only, RMB bn).
    top
        Show only the largest ``top`` provinces.
    """
    _check_measure(measure)
    table = _check_table(
        table, ["province", "province_zh", *KIND_COLUMNS, "records", "capital_rmb_bn"],
        "by_province()",
    )
    placed = int((table["records"] > 0).sum())
    if measure == "records":
        title = "Records by province"
        subtitle = [
            f"{int(table['records'].sum()):,} records in {placed} of {len(table)} "
            "provincial-level divisions."
        ]
    else:
        title = "Fund capital by province"
        subtitle = [_unknown_note(int(table["funds_unknown_size"].sum())),
                    "Each fund counts in the province where it is placed on the map."]
    return _bar_chart(
        table, "province", measure, title=title, subtitle=subtitle,
        category_title="Province",
        extra_tooltip=[alt.Tooltip("province_zh:N", title="省份")],
        top=top, width=width,
    )


def build_view_chart(
    frame: pd.DataFrame,
    view: str,
    measure: Measure = "records",
    *,
    years: tuple[int, int] | None = None,
) -> alt.TopLevelMixin:
    """Aggregate the records ``frame`` for one of :data:`CHART_VIEWS` and draw it.

    One entry point for the dashboard's charts and their exports, so a
    downloaded PNG or SVG is the chart on screen.

    Parameters
    ----------
    frame
        Records, already filtered.
    view
        ``"year"``, ``"domain"`` or ``"province"``.
    measure
        ``"records"`` or ``"capital"`` (known fund sizes only, RMB bn).
    years
        ``(first, last)`` for the year view's axis, e.g. the filter's year
        range, so the axis does not jump when other filters change.

    Example
    -------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["fund"], "year": [2017], "fund_size_rmb_bn": [5.0],
    ...                   "domains": [("ai",)], "province": ["Hubei"]})
    >>> build_view_chart(f, "province", "capital").to_dict()["title"]["text"]
    'Fund capital by province'
    """
    if view == "year":
        return build_year_chart(by_year(frame, years=years), measure)
    if view == "domain":
        return build_domain_chart(by_domain(frame), measure)
    if view == "province":
        return build_province_chart(by_province(frame), measure)
    raise ValueError(f"unknown chart view {view!r}; expected one of {list(CHART_VIEWS)}")


def _vegalite_version() -> str | None:
    import vl_convert

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vl_convert.get_vegalite_versions() else None


def chart_to_bytes(
    chart: alt.TopLevelMixin | dict, fmt: Literal["png", "svg"] = "png", *, scale: float = 2.0
) -> bytes:
    """Render a chart to PNG or SVG bytes, offline.

    vl-convert embeds Vega and Vega-Lite and draws text with the system's
    fonts; ``allowed_base_urls=[]`` makes it refuse any external data URL,
    so a spec that would need the network fails instead of fetching.

    Parameters
    ----------
    chart
        An Altair chart or a Vega-Lite spec dict.
    fmt
        ``"png"`` or ``"svg"``.
    scale
        PNG pixel density (2 suits slides and high-DPI screens); ignored for SVG.

    Example
    -------
    >>> import altair as alt, pandas as pd
    >>> c = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a:Q")
    >>> chart_to_bytes(c, "png")[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import vl_convert

    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt should be 'png' or 'svg', got {fmt!r}")
    if isinstance(chart, dict):
        spec = chart
    elif isinstance(chart, alt.TopLevelMixin):
        spec = chart.to_dict()
    else:
        raise TypeError(f"'chart' should be an Altair chart or a Vega-Lite dict, got {type(chart)}")
    version = _vegalite_version()
    if fmt == "png":
        return vl_convert.vegalite_to_png(
            spec, vl_version=version, scale=scale, allowed_base_urls=[]
        )
    return vl_convert.vegalite_to_svg(spec, vl_version=version, allowed_base_urls=[]).encode(
        "utf-8"
    )
