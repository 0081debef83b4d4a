"""The report figure: formats, text, symbols, labels, atomic saving and the CLI."""

from __future__ import annotations

import datetime as dt
import html
import io
import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from geodata.cli import main
from geodata.model.frame import records_to_frame
from geodata.model.places import NAMED_PLACES
from geodata.model.schema import ZONE_STATUSES
from geodata.query.filters import FundSizeRange, RecordFilter, filter_records
from geodata.render import figure as figmod
from geodata.render.figure import (
    DEFAULT_TITLE,
    FigureFontError,
    dataset_date,
    export_figure,
    figure_bytes,
    figure_format,
    render_figure,
    save_figure,
    source_line,
)
from geodata.render.figure_options import FIT_ASPECT
from geodata.render.style import FUND_LEGEND_SIZES_BN
from geodata.store.load import load_records

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.yaml"
AS_OF = "2025-01-01"
FAST = {"dpi": 72, "data_as_of": AS_OF}


def texts_by_gid(fig: Figure, gid: str) -> list:
    return [t for t in fig.findobj() if getattr(t, "get_gid", lambda: None)() == gid
            and hasattr(t, "get_text")]


def map_axes(fig: Figure):
    (ax,) = fig.axes
    return ax


def markers(fig: Figure, gid: str) -> np.ndarray:
    (coll,) = [c for c in map_axes(fig).collections if c.get_gid() == gid]
    return np.asarray(coll.get_offsets())


def marker_sizes(fig: Figure, gid: str) -> np.ndarray:
    (coll,) = [c for c in map_axes(fig).collections if c.get_gid() == gid]
    return np.asarray(coll.get_sizes())


@pytest.fixture(scope="module")
def sample_svg() -> str:
    frame = records_to_frame(load_records([SAMPLE]))
    return html.unescape(figure_bytes(frame, RecordFilter(), "svg", **FAST).decode("utf-8"))


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(("width_in", "dpi"), [(7.5, 100), (4.0, 60)])
def test_png_is_png_of_requested_width(sample_frame, tmp_path, width_in, dpi):
    out = export_figure(sample_frame, RecordFilter(), tmp_path / "map.png",
                        width_in=width_in, dpi=dpi, data_as_of=AS_OF)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = Image.open(io.BytesIO(data)).size
    assert width == round(width_in * dpi)
    assert height > width * 0.6  # map, header, legend and footer all have room


def test_svg_keeps_text_as_text(sample_svg, sample_frame):
    sample_statuses = set(sample_frame["status"].dropna()) & set(ZONE_STATUSES)
    expected = [
        DEFAULT_TITLE,
        "Parks, centres, labs, alliances",
        "Size unknown",
        *(ZONE_STATUSES[s] for s in sample_statuses),
        *(f"{s:g} bn" for s in FUND_LEGEND_SIZES_BN),
        "Sources: Test Press.",
        "Boundaries: Natural Earth (public domain), de facto view.",
        f"Data as of {AS_OF}",
        "Beijing 北京",
        "上海",
    ]
    for text in expected:
        assert text in sample_svg, text
    assert "Noto Sans CJK" in sample_svg
    # The legend lists only the zone statuses some record has.
    for status, label in ZONE_STATUSES.items():
        assert (label in sample_svg) == (status in sample_statuses), label


def test_pdf_embeds_truetype_fonts(sample_frame):
    data = figure_bytes(sample_frame, RecordFilter(kinds=frozenset({"zone"})), "pdf", **FAST)
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data  # pdf.fonttype 42: TrueType embedded, text selectable
    assert b"NotoSansCJK" in data


def test_output_is_reproducible(sample_frame):
    one = figure_bytes(sample_frame, RecordFilter(), "svg", **FAST)
    two = figure_bytes(sample_frame, RecordFilter(), "svg", **FAST)
    assert one == two


@pytest.mark.parametrize("name", ["map.gif", "map", "map.png.bak"])
def test_unknown_extension_is_refused(sample_frame, tmp_path, name):
    with pytest.raises(ValueError, match=r"unknown extension.*\.png, \.svg, \.pdf"):
        export_figure(sample_frame, RecordFilter(), tmp_path / name, **FAST)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unknown extension"):
        figure_bytes(sample_frame, RecordFilter(), "jpeg", **FAST)


def test_format_from_suffix_ignores_case():
    assert figure_format("a/b/Map.PDF") == "pdf"


# --------------------------------------------------------------------------- text


def test_subtitle_states_filters_and_counts(sample_frame):
    flt = RecordFilter(kinds=frozenset({"fund"}), year_min=2017)
    fig = render_figure(filter_records(sample_frame, flt), flt, **FAST)
    (subtitle,) = texts_by_gid(fig, "cmf-subtitle")
    text = subtitle.get_text().replace("\n", " ")
    assert "Funds" in text
    assert "years from 2017" in text
    assert "2 funds" in text
    assert "RMB 200.0 bn in 1 of known size" in text
    assert "cluster" not in text


def test_subtitle_for_everything_and_for_nothing(sample_frame):
    fig = render_figure(sample_frame, RecordFilter(), **FAST)
    (subtitle,) = texts_by_gid(fig, "cmf-subtitle")
    assert subtitle.get_text().startswith("All records. Selected: 2 clusters, 3 funds")
    flt = RecordFilter(search="no such name")
    fig = render_figure(filter_records(sample_frame, flt), flt, **FAST)
    (subtitle,) = texts_by_gid(fig, "cmf-subtitle")
    assert "0 clusters, 0 funds, 0 demonstration zones" in subtitle.get_text()
    (footer,) = texts_by_gid(fig, "cmf-footer")
    assert "Sources: none (no records shown)." in footer.get_text()


def test_custom_title_and_date(sample_frame):
    fig = render_figure(sample_frame, RecordFilter(), title="Funds, 2016–2018", dpi=72,
                        data_as_of=dt.date(2024, 3, 9))
    assert texts_by_gid(fig, "cmf-title")[0].get_text() == "Funds, 2016–2018"
    assert "Data as of 2024-03-09." in texts_by_gid(fig, "cmf-footer")[0].get_text()


@pytest.mark.parametrize("text", ["$\\frac{1$ budget", "$x^2$ growth"])
def test_dollar_signs_in_text_are_text_not_tex(sample_frame, text):
    # A title or a name search is typed by a user: "$...$" must not become a formula.
    data = figure_bytes(sample_frame, RecordFilter(search=text), "svg", title=text)
    svg = html.unescape(data.decode("utf-8"))
    assert f">{text}<" in svg
    assert f"Search “{text}”" in svg


def test_source_line_ranks_truncates_and_skips_placeholder():
    cite = [{"publisher": p} for p in "ABCDEFGH"]
    frame = pd.DataFrame({"sources": [
        cite, [{"publisher": "H"}], [{"publisher": "H"}, {"publisher": "H"}],
        [{"publisher": "Publisher not named in the citing source"}],
    ]})
    assert source_line(frame, max_publishers=3) == "Sources: H; A; B; and 5 more."
    assert source_line(frame.iloc[3:]) == "Sources: none named."


def test_dataset_date_is_newest_file(tmp_path):
    old, new = tmp_path / "a.yaml", tmp_path / "b.yaml"
    old.write_text("[]")
    new.write_text("[]")
    stamp = dt.datetime(2024, 5, 6, 12, tzinfo=dt.UTC).timestamp()
    os.utime(old, (stamp - 86400 * 30, stamp - 86400 * 30))
    os.utime(new, (stamp, stamp))
    assert dataset_date([old, new]) == dt.date(2024, 5, 6)
    assert dataset_date([]) is None


def test_bad_date_and_bounds_are_refused(sample_frame):
    with pytest.raises(ValueError, match="data_as_of"):
        render_figure(sample_frame, RecordFilter(), dpi=72, data_as_of="last week")
    with pytest.raises(ValueError, match="bounds"):
        render_figure(sample_frame, RecordFilter(), bounds=((40, 120), (30, 110)), **FAST)


# --------------------------------------------------------------------------- symbols

FILTERS = [
    RecordFilter(),
    RecordFilter(kinds=frozenset({"fund"})),
    RecordFilter(kinds=frozenset({"zone", "cluster"})),
    RecordFilter(fund_size=FundSizeRange(min_bn=1, include_unknown=False)),
    RecordFilter(year_min=2018),
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: figmod.describe_filter(f))
def test_one_marker_per_record_per_layer(sample_frame, flt):
    shown = filter_records(sample_frame, flt)
    fig = render_figure(shown, flt, **FAST)
    gids = {c.get_gid(): len(c.get_offsets()) for c in map_axes(fig).collections}
    kinds = shown["kind"]
    if "cluster" in flt.kinds:
        assert gids["cmf-cluster"] == (kinds == "cluster").sum()
    if "fund" in flt.kinds:
        assert gids["cmf-fund-known"] + gids["cmf-fund-unknown"] == (kinds == "fund").sum()
        unknown = (kinds == "fund") & shown["fund_size_rmb_bn"].isna()
        assert gids["cmf-fund-unknown"] == unknown.sum()
    if "zone" in flt.kinds:
        for status in ZONE_STATUSES:
            expected = ((kinds == "zone") & (shown["status"] == status)).sum()
            assert gids[f"cmf-zone-{status}"] == expected
    for kind in {"cluster", "fund", "zone"} - set(flt.kinds):
        assert not any(g.startswith(f"cmf-{kind}") for g in gids)


def test_fund_marker_area_is_proportional_to_size(sample_frame):
    fig = render_figure(sample_frame, RecordFilter(kinds=frozenset({"fund"})), **FAST)
    areas = marker_sizes(fig, "cmf-fund-known")  # scatter sizes are areas, in pt²
    # Largest first, so the small circle is drawn on top: 200 bn, then 2 bn.
    assert areas[0] / areas[1] == pytest.approx(200 / 2)


def test_co_located_records_stay_visible(sample_frame):
    twin = sample_frame[sample_frame["id"] == "cluster-alpha"].assign(id="cluster-twin")
    frame = pd.concat([sample_frame, twin], ignore_index=True)
    fig = render_figure(frame, RecordFilter(), **FAST)
    xy = markers(fig, "cmf-cluster")
    assert len(xy) == 3
    assert len({tuple(p) for p in xy.round(0)}) == 3


def test_records_outside_the_frame_are_counted(sample_frame):
    frame = sample_frame.copy()
    big = frame.index[frame["id"] == "fund-big"][0]  # in Foshan, the only record in view
    frame.at[big, "sources"] = [{"publisher": "Delta Daily", "title": "Big fund"}]
    pearl_river = ((21.5, 112.0), (24.0, 115.0))
    fig = render_figure(frame, RecordFilter(), bounds=pearl_river, **FAST)
    subtitle = texts_by_gid(fig, "cmf-subtitle")[0].get_text().replace("\n", " ")
    assert "(6 outside the map frame)" in subtitle
    footer = texts_by_gid(fig, "cmf-footer")[0].get_text()
    assert footer.startswith("Sources: Delta Daily.")  # only the records in view
    labels = {t.get_text().split()[0] for t in texts_by_gid(fig, "cmf-place-label")}
    assert labels <= {"Foshan", "Guangzhou", "Shenzhen"}


# --------------------------------------------------------------------------- labels


def label_boxes(fig: Figure):
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer))
            for t in texts_by_gid(fig, "cmf-place-label")]


def assert_labels_clear(fig: Figure):
    boxes = label_boxes(fig)
    frame = map_axes(fig).get_window_extent(fig.canvas.get_renderer())
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"labels {a!r} and {b!r} overlap"
    for name, box in boxes:
        assert frame.x0 <= box.x0, name
        assert box.x1 <= frame.x1, name
        assert frame.y0 <= box.y0, name
        assert box.y1 <= frame.y1, name
    return [name for name, _ in boxes]


@pytest.mark.parametrize("dpi", [72, 150])
def test_place_labels_do_not_overlap(sample_frame, dpi):
    fig = render_figure(sample_frame, RecordFilter(), dpi=dpi, data_as_of=AS_OF)
    names = assert_labels_clear(fig)
    assert sorted(names) == sorted(f"{p.name_en} {p.name_zh}" for p in NAMED_PLACES)


def test_labels_stay_clear_in_a_crowded_narrow_figure(sample_frame):
    rng = np.random.default_rng(7)
    crowd = sample_frame.loc[sample_frame.index.repeat(12)].reset_index(drop=True)
    crowd["lat"] += rng.normal(0, 0.6, len(crowd))
    crowd["lon"] += rng.normal(0, 0.6, len(crowd))
    fig = render_figure(crowd, RecordFilter(), width_in=3.5, **FAST)
    names = assert_labels_clear(fig)
    assert "Beijing 北京" in names  # the first place always finds room


def test_labels_do_not_overlap_when_saved(sample_frame, tmp_path):
    # Offsets are in points, so a PNG saved at another dpi keeps the layout.
    fig = render_figure(sample_frame, RecordFilter(), dpi=72, data_as_of=AS_OF)
    save_figure(fig, tmp_path / "big.png", dpi=144)
    fig.set_dpi(144)
    assert_labels_clear(fig)


# --------------------------------------------------------------------------- saving


def test_failed_save_leaves_old_file_and_no_temp(sample_frame, tmp_path, monkeypatch):
    out = tmp_path / "map.png"
    out.write_bytes(b"previous figure")

    def broken_savefig(self, fh, **kwargs):
        fh.write(b"\x89PNG half a figure")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        export_figure(sample_frame, RecordFilter(), out, **FAST)
    assert out.read_bytes() == b"previous figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_save_replaces_and_creates_directories(sample_frame, tmp_path):
    out = tmp_path / "new" / "dir" / "map.svg"
    fig = render_figure(sample_frame, RecordFilter(), **FAST)
    assert save_figure(fig, out) == out
    assert out.read_bytes().lstrip().startswith(b"<?xml")
    assert sorted(p.name for p in out.parent.iterdir()) == ["map.svg"]


def test_missing_cjk_font_is_a_clear_error(sample_frame, monkeypatch):
    monkeypatch.setattr(figmod, "CJK_FONTS", ("No Such Font CJK",))
    monkeypatch.setattr(figmod.font_manager, "findSystemFonts", lambda *a, **k: [])
    figmod._cjk_font_name.cache_clear()
    try:
        with pytest.raises(FigureFontError, match="fonts-noto-cjk"):
            render_figure(sample_frame, RecordFilter(), **FAST)
    finally:
        figmod._cjk_font_name.cache_clear()


def test_bad_arguments_are_refused(sample_frame):
    with pytest.raises(TypeError, match="RecordFilter"):
        render_figure(sample_frame, {"kinds": ["fund"]}, **FAST)
    with pytest.raises(ValueError, match="width_in"):
        render_figure(sample_frame, RecordFilter(), width_in=0, **FAST)
    with pytest.raises(ValueError, match="lacks column"):
        render_figure(sample_frame.drop(columns="sources"), RecordFilter(), **FAST)


# --------------------------------------------------------------------------- CLI


def test_cli_figure_writes_file(capsys, tmp_path, sample_path):
    out = tmp_path / "funds.svg"
    code = main(["figure", "--data", str(sample_path), "--kind", "fund", "--out", str(out),
                 "--title", "Funds only", "--dpi", "72", "--data-as-of", AS_OF])
    stdout = capsys.readouterr().out
    assert code == 0
    assert f"wrote {out}" in stdout
    svg = html.unescape(out.read_text(encoding="utf-8"))
    assert "Funds only" in svg
    assert "3 funds" in svg
    assert f"Data as of {AS_OF}" in svg


def test_cli_figure_png_at_dpi(capsys, tmp_path, sample_path):
    out = tmp_path / "map.png"
    code = main(["figure", "--data", str(sample_path), "--out", str(out), "--dpi", "50",
                 "--width-in", "6"])
    capsys.readouterr()
    assert code == 0
    assert Image.open(out).size[0] == 300


def test_cli_figure_bad_extension(capsys, tmp_path, sample_path):
    out = tmp_path / "map.jpg"
    code = main(["figure", "--data", str(sample_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code != 0
    assert "unknown extension '.jpg'" in err
    assert ".png, .svg, .pdf" in err
    assert not out.exists()


def test_declared_data_date_wins_over_file_times(tmp_path, sample_path):
    from geodata.render.figure import dataset_date

    data = tmp_path / "d.yaml"
    data.write_text(sample_path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "DATA_AS_OF").write_text("2024-03-01\n", encoding="utf-8")
    assert dataset_date([data]) == dt.date(2024, 3, 1)
    (tmp_path / "DATA_AS_OF").write_text("soon\n", encoding="utf-8")
    with pytest.raises(ValueError, match="DATA_AS_OF"):
        dataset_date([data])


# --------------------------------------------------------------- issue 9: what the user sees


def test_svg_names_a_font_stack_with_fallbacks(sample_svg):
    assert f"font-family: {figmod.SVG_FONT_STACK}" in sample_svg
    for fallback in ("Microsoft YaHei", "PingFang SC", "Source Han Sans SC", "sans-serif"):
        assert fallback in figmod.SVG_FONT_STACK
    # No text element is left naming one font alone.
    assert "font-family: 'Noto Sans CJK SC'\"" not in sample_svg


def test_svg_text_as_outlines_has_no_text_and_needs_no_font(sample_frame):
    svg = figure_bytes(sample_frame, RecordFilter(), "svg", text_as="outlines", **FAST).decode()
    assert "<text" not in svg
    assert "font-family" not in svg
    assert svg.count("<path") > 100
    with pytest.raises(ValueError, match="text_as"):
        figure_bytes(sample_frame, RecordFilter(), "svg", text_as="bitmap", **FAST)


def test_caption_is_printed_under_the_map(sample_frame):
    caption = "Figure 3. Funds by size; 绵阳 included. " * 4
    fig = render_figure(sample_frame, RecordFilter(), caption=caption, **FAST)
    (text,) = texts_by_gid(fig, "cmf-caption")
    assert " ".join(text.get_text().split()) == " ".join(caption.split())
    (footer,) = texts_by_gid(fig, "cmf-footer")
    # Below the map and above the sources line.
    assert text.get_position()[1] > footer.get_position()[1]
    assert text.get_position()[1] < map_axes(fig).get_position().y0
    assert not texts_by_gid(render_figure(sample_frame, RecordFilter(), caption="  ", **FAST),
                            "cmf-caption")


def test_word_width_figure_is_6_3_inches(sample_frame):
    data = figure_bytes(sample_frame, RecordFilter(), "png", width_in=6.3, dpi=100,
                        data_as_of=AS_OF)
    assert Image.open(io.BytesIO(data)).size[0] == 630
    assert 6.3 in figmod.WIDTHS_IN


def test_user_records_are_drawn_with_their_legend_entry(sample_frame):
    mine = sample_frame.iloc[:3].assign(lon=[100.0, 101.0, 102.0], lat=[30.0, 31.0, 32.0])
    fig = render_figure(sample_frame, RecordFilter(), user_frame=mine, **FAST)
    assert len(markers(fig, "cmf-user")) == 3
    svg = html.unescape(figure_bytes(sample_frame, RecordFilter(), "svg", user_frame=mine,
                                     **FAST).decode())
    assert figmod.USER_LAYER_LABEL in svg
    (subtitle,) = texts_by_gid(fig, "cmf-subtitle")
    assert "3 of your own records (not curated)" in " ".join(subtitle.get_text().split())
    plain = html.unescape(figure_bytes(sample_frame, RecordFilter(), "svg", **FAST).decode())
    assert figmod.USER_LAYER_LABEL not in plain


def test_a_beijing_only_figure_is_framed_on_beijing(sample_frame):
    flt = RecordFilter(provinces=frozenset({"Beijing"}))
    beijing = filter_records(sample_frame, flt)
    (south, west), (north, east) = figmod.figure_extent([beijing])
    assert south <= beijing["lat"].min()
    assert beijing["lat"].max() <= north
    assert west <= beijing["lon"].min()
    assert beijing["lon"].max() <= east
    assert north - south < 6
    assert east - west < 8
    # A regional preset is kept; the whole data keeps China.
    sichuan = ((30.25, 103.55), (31.85, 105.15))
    (s1, w1), (n1, e1) = figmod.figure_extent([beijing], sichuan)
    assert (s1, n1) == (30.25, 31.85)
    assert w1 < 103.55
    assert e1 > 105.15  # widened to a landscape page, not cut
    assert figmod.figure_extent([sample_frame]) == figmod.CHINA_VIEW_BOUNDS
    fig = render_figure(beijing, flt, bounds=figmod.figure_extent([beijing]), **FAST)
    labels = [t.get_text() for t in texts_by_gid(fig, "cmf-place-label")]
    assert "Beijing 北京" in labels
    assert not any(label.startswith("Shanghai") for label in labels)


def test_records_bounds_is_landscape_and_inside_china():
    one = pd.DataFrame({"lon": [116.4], "lat": [39.9]})
    (south, west), (north, east) = figmod.records_bounds([one])
    ground_w = (east - west) * np.cos(np.radians((south + north) / 2))
    assert ground_w >= (north - south) * FIT_ASPECT * 0.999
    edge = pd.DataFrame({"lon": [134.5], "lat": [53.5]})
    (s2, w2), (n2, e2) = figmod.records_bounds([edge])
    (cs, cw), (cn, ce) = figmod.CHINA_VIEW_BOUNDS
    assert cs <= s2 < n2 <= cn
    assert cw <= w2 < e2 <= ce
    assert figmod.records_bounds([one.iloc[:0]]) == figmod.CHINA_VIEW_BOUNDS


def test_records_at_one_spot_are_all_visible_across_layers(sample_frame):
    spot = sample_frame[sample_frame["kind"].isin(["cluster", "zone"])].iloc[:3].assign(
        lon=104.68, lat=31.47)
    fig = render_figure(spot, RecordFilter(), **FAST)
    points = np.vstack([markers(fig, gid) for gid in ("cmf-cluster", *(
        f"cmf-zone-{s}" for s in ZONE_STATUSES)) if len(markers(fig, gid))])
    assert len(points) == 3
    assert len({tuple(np.round(p, 0)) for p in points}) == 3


def test_cli_figure_caption_view_and_outlines(capsys, tmp_path, sample_path):
    out = tmp_path / "bj.svg"
    code = main(["figure", "--data", str(sample_path), "--province", "Beijing", "--out",
                 str(out), "--caption", "Figure 2. Beijing.", "--text-as", "outlines",
                 "--width-in", "6.3", "--data-as-of", AS_OF])
    assert code == 0, capsys.readouterr().err
    svg = out.read_text(encoding="utf-8")
    assert "<text" not in svg
    assert 'width="453.6pt"' in svg  # 6.3 in
    out2 = tmp_path / "prd.svg"
    assert main(["figure", "--data", str(sample_path), "--view", "prd", "--out", str(out2),
                 "--caption", "Figure 4. 珠三角.", "--data-as-of", AS_OF]) == 0
    assert "Figure 4. 珠三角." in html.unescape(out2.read_text(encoding="utf-8"))


def test_a_regional_figure_names_its_provinces(sample_frame):
    sichuan = ((30.25, 103.55), (31.85, 105.15))
    fig = render_figure(sample_frame, RecordFilter(), bounds=figmod.figure_extent(
        [sample_frame], sichuan), **FAST)
    names = [t.get_text() for t in texts_by_gid(fig, "cmf-province-label")]
    assert any(n.startswith("SICHUAN") for n in names), names
    national = render_figure(sample_frame, RecordFilter(), **FAST)
    assert not texts_by_gid(national, "cmf-province-label")
