"""Model v2: organisations, links, designations, the new filters, CLI and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import yaml
from pydantic import ValidationError

from geodata.cli import main
from geodata.io.export import to_csv_text, to_geojson
from geodata.model.quality import (
    check_records,
    fund_size_mismatches,
    likely_duplicates,
    outside_province,
    source_problems,
)
from geodata.model.relations import load_atlas
from geodata.model.schema import TODAY_CONTEXT, Record
from geodata.query.filters import RecordFilter, describe_filter, filter_bounds, filter_records
from geodata.store.load import DatasetError, default_dataset_paths
from tests.conftest import SRC


def _atlas(directory):
    return load_atlas(default_dataset_paths(directory))


# --- schema ------------------------------------------------------------------------------

def _rec(**changes):
    raw = {
        "id": "org-x", "kind": "organisation", "category": "university", "name_en": "X U",
        "name_zh": "某大学", "domains": ["general"], "unplaced_reason": "not given",
        "description": "A test organisation of some length.",
        "sources": [{"publisher": "P", "title": "T"}],
    }
    raw.update(changes)
    return raw


def test_an_organisation_may_be_unplaced_and_undated_with_a_reason():
    rec = Record.model_validate(_rec())
    assert rec.lat is None
    assert rec.year is None
    assert not rec.placed
    with pytest.raises(ValidationError, match="unplaced_reason"):
        Record.model_validate(_rec(unplaced_reason=None))



def _placed(kind: str, category: str, **changes):
    return _rec(kind=kind, category=category, unplaced_reason=None, lat=39.9, lon=116.4,
                province="Beijing", location_precision="city", **changes)


def test_a_fund_may_be_undated_but_a_cluster_or_zone_may_not():
    fund = Record.model_validate(_placed("fund", "industry_fund", fund_size_rmb_bn=50.0))
    assert fund.year is None
    with pytest.raises(ValidationError, match="year is required for a cluster"):
        Record.model_validate(_placed("cluster", "joint_lab"))

@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "cluster", "category": "joint_lab"}, "only organisations may be unplaced"),
        ({"category": "joint_lab"}, "not a organisation category"),
        ({"lat": 39.9}, "lat and lon go together"),
        ({"year": 2018, "year_basis": "founded"}, "names no entry of dates"),
        ({"year": 2018, "year_basis": "founded",
          "dates": [{"type": "founded", "date": "2017-07"}]}, "not the year of any"),
        ({"dates": [{"type": "born", "date": "2017"}]}, "dates.0.type"),
        ({"dates": [{"type": "founded", "date": "07/01/17"}]}, "YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"dates": [{"type": "founded", "date": "2017-13"}]}, "not a calendar date"),
        ({"confidence": "certain"}, "confidence"),
        ({"sponsor_level": "galactic"}, "sponsor_level"),
    ],
)
def test_v2_fields_are_checked(changes, message):
    with pytest.raises(ValidationError) as info:
        Record.model_validate(_rec(**changes))
    assert message in str(info.value)


def test_org_only_fields_are_refused_on_other_layers(sample_path):
    raw = yaml.safe_load(sample_path.read_text(encoding="utf-8"))[0]
    raw["supervising_agencies"] = ["Ministry of Education"]
    with pytest.raises(ValidationError, match="only for organisations"):
        Record.model_validate(raw)


def test_month_precision_date_and_year_basis_agree():
    rec = Record.model_validate(_rec(year=2017, year_basis="founded",
                                     dates=[{"type": "founded", "date": "2017-07"}]))
    assert rec.dates[0].date == "2017-07"


def test_accessed_in_the_future_is_refused():
    src = {"publisher": "P", "title": "T", "accessed": "2026-12-04"}
    ctx = {TODAY_CONTEXT: dt.date(2026, 12, 3)}
    with pytest.raises(ValidationError, match="in the future"):
        Record.model_validate(_rec(sources=[src]), context=ctx)
    src["accessed"] = "2026-12-03"
    assert Record.model_validate(_rec(sources=[src]), context=ctx).sources[0].accessed


# --- links and designations: the validator --------------------------------------------------

def test_atlas_loads_links_and_designations(atlas_dir):
    atlas = _atlas(atlas_dir)
    assert len(atlas.links) == 4
    assert {d.review for d in atlas.designations} == {"accepted", "rejected"}
    assert not any(p.name in ("links.yaml", "designations.yaml")
                   for p in default_dataset_paths(atlas_dir))


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("{from: org-group, to: org-nope, type: parent_of, sources: SRC}", "to",
         "no record has id 'org-nope'"),
        ("{from: org-group, to: org-inst, type: owns, sources: SRC}", "type", "Input should be"),
        ("{from: org-group, to: org-inst, type: parent_of, sources: SRC}", "-",
         "duplicate link"),
        ("{from: cluster-lab, to: org-inst, type: parent_of, sources: SRC}", "from",
         "cannot start at a cluster"),
        ("{from: org-group, to: org-group, type: partner_in, sources: SRC}", "-", "itself"),
        ("{from: org-sub, to: org-group, type: parent_of, sources: SRC}", "-", "cycle"),
        ("{from: org-group, to: cluster-lab, type: partner_in, sources: []}", "sources",
         "at least 1"),
    ],
)
def test_link_validator_names_file_line_and_field(atlas_dir, line, field, message):
    path = atlas_dir / "links.yaml"
    path.write_text(path.read_text() + "- " + line.replace("SRC", SRC) + "\n")
    with pytest.raises(DatasetError) as info:
        _atlas(atlas_dir)
    problems = [p for p in info.value.problems if message in p.message]
    assert problems, [str(p) for p in info.value.problems]
    assert problems[0].file.endswith("links.yaml")
    if field != "-":
        assert problems[0].field == field
        assert problems[0].line == 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{record: cluster-lab, list: us_dod_1286, entry_name: "Lab", relation: listed, '
         'basis: manual, review: accepted, review_note: "x"}',
         "designations are for organisations"),
        ('{record: org-nope, list: us_dod_1286, entry_name: "N", relation: listed, '
         'basis: manual, review: accepted, review_note: "x"}', "no record has id 'org-nope'"),
        ('{record: org-sub, list: us_dod_1260h, entry_name: "G", relation: subsidiary_of_listed, '
         'listed_parent: org-nope, basis: manual, review: accepted, review_note: "x"}',
         "no record has id 'org-nope'"),
        ('{record: org-sub, list: us_dod_1260h, entry_name: "G", relation: subsidiary_of_listed, '
         'basis: manual, review: accepted, review_note: "x"}', "needs listed_parent"),
        ('{record: org-sub, list: us_dod_9999, entry_name: "G", relation: listed, '
         'basis: manual, review: accepted, review_note: "x"}', "Input should be"),
    ],
)
def test_designation_validator(atlas_dir, line, message):
    path = atlas_dir / "designations.yaml"
    path.write_text(path.read_text() + "- " + line + "\n")
    with pytest.raises(DatasetError) as info:
        _atlas(atlas_dir)
    assert any(message in p.message and p.file.endswith("designations.yaml")
               for p in info.value.problems), [str(p) for p in info.value.problems]


def test_relation_columns(atlas_dir):
    frame = _atlas(atlas_dir).frame.set_index("id")
    assert frame.loc["org-sub", "ancestors"] == ("org-inst", "org-group")
    assert frame.loc["org-sub", "parent_id"] == "org-inst"
    assert frame.loc["org-group", "parent_id"] is None
    lab_links = {(ln["label"], ln["other"]) for ln in frame.loc["cluster-lab", "links"]}
    assert lab_links == {("Has partner", "org-inst"), ("Has partner", "org-firm")}
    assert bool(frame.loc["org-inst", "designated"])  # subsidiary of a listed parent
    assert frame.loc["org-inst", "designations"][0]["relation"] == "subsidiary_of_listed"
    assert not bool(frame.loc["org-other", "designated"])  # rejected: not designated
    assert frame.loc["org-other", "designations"] == []


# --- filters -----------------------------------------------------------------------------

def test_group_filter_is_transitive(atlas_dir):
    frame = _atlas(atlas_dir).frame
    got = set(filter_records(frame, RecordFilter(group="org-group"))["id"])
    assert got == {"org-group", "org-inst", "org-sub"}
    assert set(filter_records(frame, RecordFilter(group="org-inst"))["id"]) == {
        "org-inst", "org-sub"}


def test_designation_category_and_sponsor_filters(atlas_dir):
    frame = _atlas(atlas_dir).frame
    on = set(filter_records(frame, RecordFilter(designated=True))["id"])
    off = set(filter_records(frame, RecordFilter(designated=False))["id"])
    assert on == {"org-group", "org-inst"}
    assert on | off == set(frame["id"])
    assert not on & off
    cats = set(filter_records(frame, RecordFilter(
        org_categories=frozenset({"defence_conglomerate"})))["id"])
    assert cats == {"org-group", "cluster-lab"}  # other layers pass
    lvl = set(filter_records(frame, RecordFilter(sponsor_levels=frozenset({"enterprise"})))["id"])
    assert lvl == {"cluster-lab"}
    unknown = filter_records(frame, RecordFilter(sponsor_levels=frozenset({"unknown"})))
    assert "org-group" in set(unknown["id"])
    assert "on a US list" in describe_filter(RecordFilter(designated=True))
    with pytest.raises(ValueError, match="organisation categor"):
        RecordFilter(org_categories=frozenset({"bakery"}))


def test_year_filter_keeps_undated_organisations_and_ignores_them_for_bounds(atlas_dir):
    frame = _atlas(atlas_dir).frame
    got = set(filter_records(frame, RecordFilter(year_min=2019))["id"])
    assert "cluster-lab" not in got
    assert "org-group" in got
    b = filter_bounds(frame)
    assert (b.year_min, b.year_max) == (2018, 2018)


# --- exports and CLI ---------------------------------------------------------------------

def test_geojson_carries_relations_and_null_geometry_for_unplaced(atlas_dir):
    fc = to_geojson(_atlas(atlas_dir).frame)
    feats = {f["id"]: f for f in fc["features"]}
    assert feats["org-sub"]["geometry"] is None
    props = feats["org-inst"]["properties"]
    assert props["parent_id"] == "org-group"
    assert {(ln["type"], ln["direction"], ln["other"]) for ln in props["links"]} == {
        ("parent_of", "in", "org-group"), ("parent_of", "out", "org-sub"),
        ("partner_in", "out", "cluster-lab")}
    assert props["designations"][0]["listed_parent"] == "org-group"
    assert props["confidence"] == "medium"
    assert props["aliases"] == []
    json.dumps(fc)  # serialisable


def test_csv_flattens_relations(atlas_dir):
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(to_csv_text(_atlas(atlas_dir).frame)))}
    assert rows["org-inst"]["parent_id"] == "org-group"
    assert "parent_of -> org-sub" in rows["org-inst"]["links"]
    assert "subsidiary of listed org-group" in rows["org-inst"]["designations"]
    assert rows["cluster-lab"]["dates"] == "unveiled 2018-01-23"
    assert rows["cluster-lab"]["year"] == "2018"
    assert rows["org-sub"]["year"] == ""


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list_new_filters(capsys, atlas_dir):
    data = [a for p in default_dataset_paths(atlas_dir) for a in ("--data", str(p))]

    def ids(*flags):
        code, out, err = _run(capsys, "list", *data, *flags)
        assert code == 0, err
        return {f["id"] for f in json.loads(out)["features"]}

    assert ids("--group", "org-inst") == {"org-inst", "org-sub"}
    assert ids("--designated", "yes") == {"org-group", "org-inst"}
    assert "org-group" not in ids("--designated", "no")
    assert ids("--layer", "organisation", "--category", "company") == {
        "org-sub", "org-firm", "org-other"}
    assert ids("--layer", "cluster") == ids("--kind", "cluster") == {"cluster-lab"}


def test_cli_links_prints_both_directions(capsys, atlas_dir):
    data = [a for p in default_dataset_paths(atlas_dir) for a in ("--data", str(p))]
    code, out, _ = _run(capsys, "links", "org-inst", *data)
    assert code == 0
    assert "<- parent_of" in out
    assert "org-group" in out
    assert "-> partner_in" in out
    assert "cluster-lab" in out
    assert "us_dod_1260h" in out
    assert "under org-group" in out
    code, _, err = _run(capsys, "links", "org-nope", *data)
    assert code == 1
    assert "org-nope" in err


def test_cli_validate_reports_link_errors(capsys, atlas_dir):
    (atlas_dir / "links.yaml").write_text(
        f"- {{from: org-group, to: org-ghost, type: parent_of, sources: {SRC}}}\n")
    code, _, err = _run(capsys, "validate", *map(str, default_dataset_paths(atlas_dir)))
    assert code == 1
    assert "links.yaml:1" in err
    assert "org-ghost" in err


# --- data quality --------------------------------------------------------------------------

def test_quality_flags_duplicates_and_points_outside_their_province(atlas_dir):
    recs = [r for r in _atlas(atlas_dir).records if r.id == "org-group"]
    twin = recs[0].model_copy(update={"id": "org-twin", "lat": recs[0].lat + 0.01})
    assert any("org-twin" in f.message or f.record == "org-twin"
               for f in likely_duplicates([*recs, twin]))
    moved = recs[0].model_copy(update={"province": "Sichuan"})
    found = outside_province([moved])
    assert found
    assert "in Beijing" in found[0].message


def test_quality_errors_malformed_url_and_missing_curation(atlas_dir):
    rec = next(r for r in _atlas(atlas_dir).records if r.id == "org-group")
    bad_src = rec.sources[0].model_copy(update={"url": "http://no host/x", "accessed": None})
    bad = rec.model_copy(update={"sources": [bad_src], "confidence": None})
    found = check_records([bad])
    msgs = " ".join(f.message for f in found if f.severity == "error")
    assert "malformed URL" in msgs
    assert "confidence" in msgs
    assert "accessed" in msgs
    assert not [f for f in check_records([bad], curated=False) if "confidence" in f.message]


def test_curated_datasets_validate_cleanly(capsys):
    code, out, err = _run(capsys, "validate")
    assert code == 0, err
    assert "organisations" in out
    assert "links" in out


@pytest.mark.parametrize(("url", "ok"), [
    ("http://218.28.6.71:81/Qikan/Article/Detail?id=676538249", True),
    ("https://news.ifeng.com/a/20151228/46854959_0.shtml", True),
    ("http://218.28.6:81/x", False),
    ("http://localhost/x", False),
])
def test_quality_accepts_ipv4_hosts_and_still_rejects_hostless_urls(atlas_dir, url, ok):
    rec = next(r for r in _atlas(atlas_dir).records if r.id == "org-group")
    src = rec.sources[0].model_copy(update={"url": url})
    found = [f for f in source_problems([rec.model_copy(update={"sources": [src]})])
             if "malformed URL" in f.message]
    assert (not found) is ok


# --- link lines on the map and in the figure ----------------------------------------------

def test_link_lines_for_the_selection_and_the_network(atlas_dir):
    from geodata.model.relations import link_lines

    frame = _atlas(atlas_dir).frame
    sel = link_lines(frame, selected="org-inst")
    drawn = {(ln["from_name"], ln["to_name"], ln["type"]) for ln in sel["lines"]}
    assert drawn == {("Group Corp", "Group 28th Institute", "parent_of"),
                     ("Group 28th Institute", "Lab", "partner_in")}
    assert all(ln["selected"] for ln in sel["lines"])
    assert "1 link(s)" in sel["hidden"]  # org-sub is unplaced
    net = link_lines(frame, shown=["org-firm", "cluster-lab", "org-group"], network=True)
    assert [(ln["from_name"], ln["to_name"]) for ln in net["lines"]] == [("Search Firm", "Lab")]
    assert not net["lines"][0]["selected"]
    assert link_lines(frame, shown=frame["id"], network=False)["lines"] == []


def test_map_draws_link_lines_and_designated_organisations(atlas_dir):
    from geodata.model.relations import link_lines
    from geodata.render.layers import build_map, legend_html

    frame = _atlas(atlas_dir).frame
    lines = link_lines(frame, selected="cluster-lab")
    m = build_map(frame, {"type": "FeatureCollection", "features": []})
    assert "CMF.addLinks" not in m.get_root().render()
    from geodata.render.layers import build_base_map, build_record_layers

    base = build_base_map({"type": "FeatureCollection", "features": []})
    build_record_layers(frame, links=lines).add_to(base)
    page = base.get_root().render()
    assert "CMF.addLinks" in page
    assert '"designated":true' in page
    assert "org-sub" not in page.split("CMF.addRecords")[-1].split("CMF.addLinks")[0]
    legend = legend_html({"organisation"})
    assert "On a US list" in legend
    assert "Organisations" in legend


def test_figure_draws_organisations_and_links(atlas_dir, tmp_path):
    from geodata.render.figure import export_figure

    frame = _atlas(atlas_dir).frame
    out = export_figure(frame, RecordFilter(), tmp_path / "f.svg", links=True)
    svg = out.read_text(encoding="utf-8")
    assert 'id="cmf-org-designated"' in svg
    assert 'id="cmf-links-partner_in"' in svg
    assert "Links among the records shown" in svg
    assert "not drawn" in svg  # the unplaced organisation is counted, not drawn


def test_cli_figure_draws_links_on_request(capsys, atlas_dir, tmp_path):
    data = [a for p in default_dataset_paths(atlas_dir) for a in ("--data", str(p))]
    out = tmp_path / "links.svg"
    code, _, err = _run(capsys, "figure", *data, "--links", "--out", str(out),
                        "--data-as-of", "2026-12-03")
    assert code == 0, err
    assert 'id="cmf-links-parent_of"' in out.read_text(encoding="utf-8")


def test_a_fund_size_that_is_none_of_the_published_amounts_is_flagged():
    def fund(size, text):
        return Record.model_validate(_placed("fund", "industry_fund", year=2017,
                                             fund_size_rmb_bn=size, fund_size_as_published=text))

    slip = fund_size_mismatches([fund(100.0, "设立总规模 100 亿元,首期设立规模 30 亿元")])
    assert [(f.severity, f.field) for f in slip] == [("warning", "fund_size_rmb_bn")]
    assert "100亿元 is RMB 10 bn" in slip[0].message
    assert fund_size_mismatches([fund(10.0, "设立总规模 100 亿元,首期设立规模 30 亿元"),
                                 fund(3.0, "首期设立规模 30 亿元"),
                                 fund(0.01, "1000万元的融合专项产业基金"),
                                 fund(1.7, "buyout funds up to 1.7 billion yuan ($258 million)"),
                                 fund(5.0, "size not stated in figures")]) == []
    validated = check_records([fund(100.0, "总规模100亿元")], curated=False)
    assert [f.field for f in validated] == ["fund_size_rmb_bn"]
