"""Screening: normalisation, the US-list targets, matching (with its traps), placing, lists."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from geodata.model.relations import load_atlas
from geodata.screening.geocode import place_address
from geodata.screening.listfile import ListFileError, read_list, suggest_columns
from geodata.screening.match import Screener, best_candidate
from geodata.screening.normalise import bracketed_abbreviations, exact_key, normalise_name
from geodata.screening.report import NO_MATCH, results_csv, results_frame, results_xlsx
from geodata.screening.run import build_screener, screen_list
from geodata.screening.targets import (
    ScreenTarget,
    listed_parent,
    load_1260h,
    load_1286,
    parent_index,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def screener() -> Screener:
    return build_screener(load_atlas().frame.itertuples(index=False))


def _best(screener: Screener, name: str) -> str | None:
    c = best_candidate(screener.candidates(name))
    return c.target.key if c else None


def _best_stands_for(screener: Screener, name: str) -> set[str]:
    """The list entries the unattended best candidate stands for (atlas orgs via designations)."""
    c = best_candidate(screener.candidates(name))
    return set(c.target.stands_for()) if c else set()


# ------------------------------------------------------------------ normalise


@pytest.mark.parametrize(("a", "b"), [
    ("中國電子科技集團有限公司", "中国电子科技集团公司"),
    ("ＡＶＩＣ　Ｊｏｎｈｏｎ", "AVIC Jonhon"),
    ("Aviation Industry Corp. of China", "Aviation Industry Corporation of China, Ltd."),
    ("China Electronics Technology Group Corporation (CETC)",
     "China Electronics Technology Group Corp"),
    ("航天科工集团股份有限公司", "航天科工"),
    ("The Beijing Institute of Technology", "Beijing Institute of Technology"),
])
def test_normalise_equates_forms_of_one_name(a, b):
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(("a", "b"), [
    ("China Electronics Corporation", "China Electronics Technology Group Corporation"),
    ("Beijing Institute of Technology", "Nanjing Institute of Technology"),
    ("中国电子信息产业集团有限公司", "中国电子科技集团有限公司"),
])
def test_normalise_keeps_names_apart(a, b):
    assert normalise_name(a) != normalise_name(b)


def test_bracketed_abbreviations_are_acronyms_not_places_or_legal_forms():
    assert bracketed_abbreviations("Foo Aerospace Co. (FAC)") == ["FAC"]
    assert bracketed_abbreviations("SMIC Northern (Beijing) Co., Ltd") == []
    assert bracketed_abbreviations("Changhe Aircraft Industries (Group) Co., Ltd.") == []
    assert bracketed_abbreviations("中国航天科工集团（航天科工）") == ["航天科工"]
    assert bracketed_abbreviations("某某（集团）有限公司") == []


def test_exact_key_only_folds_width_case_and_space():
    assert exact_key("ＣＥＴＣ") == exact_key(" cetc ")
    assert exact_key("CETC Ltd") != exact_key("CETC")


# ------------------------------------------------------------------ targets


def test_1260h_merges_tranches_and_keeps_removals():
    entries = {t.label: t for t in load_1260h()}
    cetc = entries["China Electronics Technology Group Corporation"]
    assert cetc.listed_from == "2021-06-03"
    assert cetc.current
    assert len(cetc.listings) == 3
    assert "CETC" in cetc.aliases
    megvii = entries["Beijing Megvii Technology Co., Ltd."]
    assert megvii.listed_until == "2025-01-07"
    assert not megvii.current
    assert "removed 2025-01-07" in megvii.dates_text()


def test_1260h_subsidiaries_resolve_to_their_listed_parent():
    targets = load_1260h()
    index = parent_index(targets)
    jonhon = next(t for t in targets if t.label.startswith("AVIC Jonhon"))
    parent = listed_parent(jonhon, index)
    assert parent is not None
    assert parent.label == "Aviation Industry Corporation of China Ltd."


def test_1286_entries_carry_report_years_and_aliases():
    caep = next(t for t in load_1286() if t.label == "China Academy of Engineering Physics")
    assert caep.listed_from
    assert "Ninth Academy" in caep.aliases


# ------------------------------------------------------------------ matching


def test_trap_cec_is_not_cetc(screener):
    cec = "us_dod_1260h:China Electronics Corporation"
    cetc = "us_dod_1260h:China Electronics Technology Group Corporation"
    assert cec in _best_stands_for(screener, "China Electronics Corporation")
    assert cec in _best_stands_for(screener, "China Electronics Corp.")
    assert cetc in _best_stands_for(screener, "China Electronics Technology Group Corp")
    keys = {k for c in screener.candidates("China Electronics Corporation")
            for k in c.target.stands_for()}
    assert cetc not in keys, "a shorter name inside a longer one is not a candidate"


@pytest.mark.parametrize("name", [
    "China", "Group", "Technology", "Bank of China", "Apple Inc.", "Beijing", "University",
    "Shenzhen Hardware Trading Co., Ltd.", "中国", "有限公司",
])
def test_common_and_unrelated_names_have_no_best_candidate(screener, name):
    assert _best(screener, name) is None


def test_alias_and_basis_are_reported(screener):
    (c, *_) = screener.candidates("Qihoo 360")
    assert c.basis == "alias"
    assert "us_dod_1260h:360 Security Technology Inc." in c.target.stands_for()
    assert c.score == 100


def test_fuzzy_catches_a_spelling_variant(screener):
    c = best_candidate(screener.candidates("AVIC Xian Aircraft Industries Group"))
    assert c is not None
    assert c.basis == "fuzzy"
    assert c.score >= 90
    assert "Xi" in c.target.label
    assert c.hit_kind == "listed_subsidiary"
    assert c.parent is not None
    assert c.parent.label.startswith("Aviation Industry Corporation")


def test_name_prefix_flags_possible_subsidiary_but_is_never_best(screener):
    cands = screener.candidates("Huawei Cloud Computing Technologies")
    assert cands
    assert all(c.hit_kind == "possible_subsidiary" for c in cands)
    assert best_candidate(cands) is None


def test_removed_entry_is_reported_as_formerly_listed(screener):
    (c, *_) = screener.candidates("Beijing Megvii Technology Co Ltd")
    assert c.hit_kind == "formerly_listed"


def test_atlas_records_match_in_chinese_and_traditional_script(screener):
    for name in ("中国工程物理研究院", "中國工程物理研究院"):
        keys = [c.target.key for c in screener.candidates(name)]
        assert "atlas:cluster-caep-mianyang" in keys


def test_designations_mark_atlas_hits():
    target = ScreenTarget(key="atlas:org-x", source="atlas", label="X Institute (org-x)",
                          names=("X研究所",), record_id="org-x",
                          listed_as=("us_dod_1286:X Institute",))
    (c,) = Screener([target]).candidates("X研究所")
    assert c.hit_kind == "atlas_designated"


# ------------------------------------------------------------------ placing


def test_place_chinese_address_at_district():
    p = place_address("四川省绵阳市涪城区某路1号")
    assert (p.status, p.precision, p.province) == ("placed", "district", "Sichuan")
    assert 31 < p.lat < 32
    assert 104 < p.lon < 105
    assert p.adcode == "510703"


def test_district_name_in_two_provinces_is_ambiguous_until_the_city_is_given():
    p = place_address("朝阳区")
    assert p.status == "ambiguous"
    assert len(p.candidates) == 2
    assert any("北京" in c for c in p.candidates)
    assert any("吉林" in c for c in p.candidates)
    assert place_address("北京市朝阳区").province == "Beijing"
    assert place_address("长春市朝阳区").province == "Jilin"


def test_english_place_names_and_their_ambiguity():
    assert place_address("Mianyang, Sichuan").unit == "四川省 绵阳市"
    assert place_address("Haidian District, Beijing").precision == "district"
    assert place_address("Gulou District").status == "ambiguous"
    assert place_address("Gulou District, Nanjing").province == "Jiangsu"
    assert place_address("Harbin").province == "Heilongjiang"


def test_unplaceable_addresses_say_why_and_have_no_point():
    for text in ("", "Unit 5, Industrial Estate", "台北市信义区"):
        p = place_address(text)
        assert p.status != "placed"
        assert p.lat is None
        assert p.reason


def test_province_only_is_province_precision():
    p = place_address("Guangdong")
    assert (p.status, p.precision, p.province) == ("placed", "province", "Guangdong")


# ------------------------------------------------------------------ list files


def _xlsx(rows: list[list[object]], sheets: int = 1) -> bytes:
    book = openpyxl.Workbook()
    if sheets > 1:
        book.active.title = "Empty"
        ws = book.create_sheet("Suppliers")
    else:
        ws = book.active
        book.active.title = "Suppliers"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_list_is_read_from_the_first_sheet_with_rows():
    data = _xlsx([["单位名称", "地址"], ["中国电子科技集团公司", "北京市海淀区"], [None, None],
                  ["Acme", "Shenzhen"]], sheets=2)
    table = read_list(data, "suppliers.xlsx")
    assert table.sheet == "Suppliers"
    assert table.headers == ["单位名称", "地址"]
    assert [r["单位名称"] for r in table.rows] == ["中国电子科技集团公司", "Acme"]
    assert table.places == ["sheet row 2", "sheet row 4"]
    assert suggest_columns(table.headers) == {"name": "单位名称", "alias": None, "address": "地址"}


def test_gbk_csv_and_excel_separator_line():
    table = read_list("sep=;\n名称;地址\n华为;深圳\n".encode("gbk"), "list.csv")
    assert table.rows == [{"名称": "华为", "地址": "深圳"}]
    assert any("GB18030" in n for n in table.notes)
    assert any("separator" in n for n in table.notes)


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("wide.csv", (",".join(f"c{i}" for i in range(500)) + "\n").encode(), "columns"),
    ("long.csv", b"name\n" + b"x" * 10_000 + b"\n", "characters"),
    ("list.pdf", b"%PDF-1.4", "unsupported file type"),
    ("fake.xlsx", b"name\nfoo\n", "not an Excel workbook"),
    ("empty.csv", b"", "no rows"),
    ("utf16.csv", "name\n华为\n".encode("utf-16"), "UTF-16"),
])
def test_bad_lists_get_a_clear_error_naming_the_file(name, data, expected):
    with pytest.raises(ListFileError) as err:
        read_list(data, name)
    assert name in str(err.value)
    assert expected in str(err.value)


def test_xlsx_bomb_is_refused_before_opening():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (120 * 1024 * 1024))
    with pytest.raises(ListFileError, match=r"bomb\.xlsx"):
        read_list(buf.getvalue(), "bomb.xlsx")


def test_row_limit():
    with pytest.raises(ListFileError, match="more than 3 rows"):
        read_list(b"name\na\nb\nc\nd\n", "l.csv", max_rows=3)


# ------------------------------------------------------------------ run and report


def test_screen_list_report_has_every_row_decisions_and_bom(screener):
    table = read_list("name,address\nCETC,北京市海淀区\nAcme Widgets,朝阳区\n=HYPERLINK(1),\n"
                      .encode(), "l.csv")
    rows = screen_list(table, screener, name_column="name", address_column="address")
    assert [r.where for r in rows] == ["line 2", "line 3", "line 4"]
    cetc = rows[0].candidates[0].target.key
    frame = results_frame(rows, {(1, cetc): "accepted"})
    assert frame.loc[frame["Match"] == rows[0].candidates[0].target.label, "Decision"].iloc[0] \
        == "accepted"
    assert (frame["Decision"] == NO_MATCH).sum() == 2
    assert frame.loc[frame["Name"] == "Acme Widgets", "Placed"].iloc[0] == "ambiguous"
    csv_bytes = results_csv(frame)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert b"'=HYPERLINK(1)" in csv_bytes, "formulas are neutralised"
    book = openpyxl.load_workbook(io.BytesIO(results_xlsx(frame)))
    assert book.sheetnames == ["Screening", "Legend"]


def test_unknown_column_is_a_clear_error(screener):
    table = read_list(b"name\nx\n", "l.csv")
    with pytest.raises(ValueError, match="no column 'nom'"):
        screen_list(table, screener, name_column="nom")


# ------------------------------------------------------------------ CLI


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "geodata", "screen", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_screen_exit_codes_and_output(tmp_path):
    hit = tmp_path / "hit.csv"
    hit.write_text("name,address\nChina Electronics Corporation,Shenzhen\n", encoding="utf-8")
    out = tmp_path / "result.xlsx"
    r = _cli(str(hit), "--out", str(out))
    assert r.returncode == 3, r.stderr
    assert "exact name" in r.stdout
    assert "广东省 深圳市" in r.stdout
    assert out.is_file()
    again = _cli(str(hit), "--out", str(out))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    clean = tmp_path / "clean.xlsx"
    clean.write_bytes(_xlsx([["Supplier"], ["Acme Widgets"]]))
    r = _cli(str(clean))
    assert r.returncode == 0
    assert "no match" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    r = _cli(str(bad))
    assert r.returncode == 2
    assert "bad.csv" in r.stderr
    assert "Traceback" not in r.stderr


def test_fuzzy_never_bridges_a_different_place_word(screener):
    for name in ("Guilin University of Technology", "China State Construction Bank",
                 "Northwestern University"):
        assert _best(screener, name) is None, name
    nuist = "us_dod_1286:Nanjing University of Science and Technology"
    assert nuist not in _best_stands_for(screener, "Harbin University of Science and Technology")


def test_precision_on_the_labelled_traps(screener):
    """Near-misses, common words and unrelated names: no unattended match at all."""
    from geodata.screening.evaluate import evaluate, read_labelled

    traps = [r for r in read_labelled() if r["category"] in ("near_miss", "common", "unrelated")]
    assert len(traps) >= 90
    scores = evaluate(traps, screener)
    assert scores.predicted == 0, scores.errors


def test_precision_and_recall_on_the_labelled_set(screener):
    from geodata.screening.evaluate import evaluate, read_labelled

    rows = read_labelled()
    assert len(rows) >= 200
    scores = evaluate(rows, screener)
    assert scores.precision >= 0.97, scores.errors
    english = [r for r in rows if r["category"].startswith("true_en")]
    assert evaluate(english, screener).recall >= 0.95
