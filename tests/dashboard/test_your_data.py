"""AppTest: the Your data page (upload, match, preview, add, save, remove) and the user layer.

Uploads go through AppTest's file_uploader; the map page is also run with a
session pre-seeded with user records, to check its metric, its checkbox and
that the sidebar's filters apply to them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from geodata.io.importer import load_user_records, preview_import
from geodata.model.schema import COLUMN_LABELS
from geodata.query.filters import RecordFilter, filter_records
from geodata.render.detail import escape_markdown
from geodata.render.style import USER_LAYER_LABEL
from geodata.store.userdata import add_dataset, file_digest, filter_user_records, user_frame

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
DATA_DIR = ROOT / "tests" / "data"
CORPUS = DATA_DIR / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
UPLOADABLE = (".csv", ".tsv", ".txt", ".geojson", ".json", ".gpkg", ".zip")

GOOD = (
    "名称,Name,纬度,经度,year,url\n"
    "天津创新中心,Tianjin Innovation Hub,39.1,117.2,2018,https://example.org/tj\n"
    "武汉光谷实验室,Wuhan Optics Lab,30.5,114.4,2020,\n"
    "成都无人机园,Chengdu Drone Park,30.6,104.0,2019,\n"
    "Bad one,Bad,95,117,2018,\n"
).encode()


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "user_data"
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(folder))
    return folder


@pytest.fixture
def page(monkeypatch, user_dir) -> AppTest:
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/your_data.py").run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def problem_text(at: AppTest) -> str:
    """Every error box and every problem listed in full (plain text), as one string."""
    return "\n".join([e.value for e in at.error] + [c.value for c in at.code])


def add_button(at: AppTest):
    return next((b for b in at.button if b.key == "user_add"), None)


def test_page_states_the_cap_and_renders(page):
    uploader = page.file_uploader[0]
    assert "up to 20 MB" in uploader.label
    assert uploader.proto.max_upload_size_mb == 20, "the browser checks the same cap"
    assert set(uploader.allowed_type) >= {".csv", ".geojson", ".gpkg", ".zip"}
    assert any("None yet" in c.value for c in page.caption)
    assert not page.session_state["user_datasets"]


def test_good_csv_preview_then_add(page):
    upload(page, "sites.csv", GOOD)
    shown = metrics(page)
    assert (shown["Rows read"], shown["Accepted"], shown["Rejected"]) == ("4", "3", "1")
    text = problem_text(page)
    assert "sites.csv:5: record row 4, field 'lat': latitude 95.0 is out of range" in text
    accepted = page.dataframe[-1].value
    assert list(accepted[COLUMN_LABELS["name_en"]]) == [
        "Tianjin Innovation Hub", "Wuhan Optics Lab", "Chengdu Drone Park"]
    assert page.session_state["user_datasets"] == ()

    add_button(page).click().run()
    assert not page.exception
    (dataset,) = page.session_state["user_datasets"]
    assert [r.province for r in dataset.records] == ["Tianjin", "Hubei", "Sichuan"]
    assert "Added 3 record(s) from **sites\\.csv**" in page.success[0].value
    assert page.file_uploader[0].value is None, "the uploader is emptied after adding"
    assert any("sites\\.csv" in m.value and "3 record(s)" in m.value for m in page.markdown)

    # The same file again: shown, but not added twice.
    upload(page, "sites.csv", GOOD)
    assert add_button(page) is None
    assert any("already on the map" in i.value for i in page.info)


def test_columns_can_be_matched_by_hand(page):
    data = b"Site,N,E,Founded\nHarbour lab,36.07,120.38,2017\n"
    upload(page, "odd.csv", data)
    assert "no latitude column" in problem_text(page)
    assert add_button(page) is None
    key = f"user_map_{file_digest(data)[:16]}"
    page.selectbox(key=f"{key}_0").set_value("name_en")
    page.selectbox(key=f"{key}_1").set_value("lat")
    page.selectbox(key=f"{key}_2").set_value("lat").run()
    assert "'Latitude' is chosen for the columns 'N' and 'E'" in problem_text(page)
    page.selectbox(key=f"{key}_2").set_value("lon").run()
    assert not page.exception
    assert metrics(page)["Accepted"] == "1"
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    assert dataset.records[0].province == "Shandong"


def test_projected_csv_with_chosen_crs(page):
    data = b"name,x,y,year\nTianjin site,13055000,4737000,2018\n"
    upload(page, "mercator.csv", data)
    assert "out of range" in problem_text(page), "read as degrees by default"
    page.selectbox(key="user_crs").set_value("EPSG:3857").run()
    assert not page.exception
    assert metrics(page)["Accepted"] == "1"
    assert any("EPSG\\:3857" in c.value for c in page.caption)


def test_default_kind_applies(page):
    upload(page, "funds.csv", b"name,lat,lon,year,fund size\nSeed fund,30.6,114.3,2018,5\n")
    assert "is only for records of kind 'fund'" in problem_text(page)
    page.selectbox(key="user_kind").set_value("fund").run()
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    assert (dataset.records[0].kind, dataset.records[0].fund_size_rmb_bn) == ("fund", 5.0)


def test_over_the_cap_is_refused_with_the_cap(page, monkeypatch):
    monkeypatch.setattr("dashboard.user_layer.upload_cap_mb", lambda: 1)
    page.run()
    assert "up to 1 MB" in page.file_uploader[0].label
    big = b"name,lat,lon,year\n" + b"Lab,39.1,117.2,2018\n" * 80_000
    upload(page, "big.csv", big)
    assert "the limit is 1 MB per import" in problem_text(page)
    assert add_button(page) is None


def test_every_hostile_file_shows_its_error_and_nothing_is_added(page):
    """The whole corpus through one session: each shows its problem; the page keeps going."""
    checked = 0
    for name, spec in sorted(EXPECTED.items()):
        if "options" in spec or Path(name).suffix not in UPLOADABLE:
            continue
        upload(page, name, (CORPUS / name).read_bytes())
        text = problem_text(page)
        if "error" in spec:
            assert spec["error"] in text or escape_markdown(spec["error"]) in text, (name, text)
        if spec.get("accepted", 0):
            assert metrics(page)["Accepted"] == str(spec["accepted"]), name
            assert add_button(page) is not None, name
        else:
            assert add_button(page) is None, name
        if "warning" in spec:
            assert any(spec["warning"] in c.value for c in page.code), name
        checked += 1
    assert checked >= 80
    assert page.session_state["user_datasets"] == ()


def test_script_text_stays_text_in_the_preview(page):
    upload(page, "<img src=x onerror=alert(1)>.csv", (CORPUS / "xss_script_name.csv").read_bytes())
    names = list(page.dataframe[-1].value[COLUMN_LABELS["name_en"]])
    assert names == ["<script>alert(1)</script>"]
    add_button(page).click().run()
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in page.success[0].value


def test_save_to_disk_never_overwrites(page, user_dir):
    user_dir.mkdir()
    (user_dir / "sites.yaml").write_text("precious", encoding="utf-8")
    upload(page, "sites.csv", GOOD)
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    page.button(key=f"user_save_{dataset.digest[:16]}").click().run()
    assert not page.exception
    saved = user_dir / "sites-2.yaml"
    assert escape_markdown("sites-2.yaml") in page.success[0].value
    # The server's folder path is never shown to the user.
    shown = [e.value for kind in ("success", "caption", "markdown", "error", "info")
             for e in page.get(kind)]
    assert not any(str(user_dir) in text or escape_markdown(str(user_dir)) in text
                   for text in shown)
    assert (user_dir / "sites.yaml").read_text(encoding="utf-8") == "precious"
    records, _ = load_user_records(saved)
    assert [r.id for r in records] == [r.id for r in dataset.records]
    button = page.button(key=f"user_save_{dataset.digest[:16]}")
    assert button.disabled
    assert button.label == "Saved"
    assert sorted(p.name for p in user_dir.iterdir()) == ["sites-2.yaml", "sites.yaml"]


def test_a_saved_file_uploads_again_in_a_new_session(page, user_dir, monkeypatch):
    upload(page, "sites.csv", GOOD)
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    page.button(key=f"user_save_{dataset.digest[:16]}").click().run()
    saved = user_dir / "sites.yaml"

    later = AppTest.from_file(APP, default_timeout=60)
    later.run()
    later.switch_page("views/your_data.py").run()
    assert later.session_state["user_datasets"] == ()
    upload(later, "sites.yaml", saved.read_bytes())
    assert not [s for s in later.selectbox if s.key in ("user_kind", "user_crs")], (
        "a saved file's records carry their own layer and WGS 84 points")
    assert metrics(later)["Accepted"] == "3"
    add_button(later).click().run()
    (again,) = later.session_state["user_datasets"]
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in dataset.records]


def test_a_broken_saved_file_is_refused_with_its_problems(page):
    records = preview_import(GOOD, "sites.csv").records
    text = yaml.safe_dump([r.model_dump(mode="json", exclude_none=True) for r in records],
                          allow_unicode=True, sort_keys=False)
    upload(page, "mine.yaml", text.replace("- general", "- lasers", 1).encode())
    shown = page.error[0].value
    assert escape_markdown("mine.yaml was not imported") in shown
    assert escape_markdown("mine.yaml:1: record #1") in shown
    assert escape_markdown("field 'domains': unknown domain(s) ['lasers']") in shown
    assert add_button(page) is None
    assert page.session_state["user_datasets"] == ()


def test_failed_save_is_a_message(page, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(blocker / "sub"))
    upload(page, "sites.csv", GOOD)
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    page.button(key=f"user_save_{dataset.digest[:16]}").click().run()
    assert not page.exception
    assert "could not be saved" in page.error[0].value
    assert "Nothing was written" in page.error[0].value
    assert page.session_state["user_datasets"][0].saved_to is None


def test_remove(page):
    upload(page, "sites.csv", GOOD)
    add_button(page).click().run()
    (dataset,) = page.session_state["user_datasets"]
    page.button(key=f"user_remove_{dataset.digest[:16]}").click().run()
    assert page.session_state["user_datasets"] == ()
    assert "Removed" in page.info[0].value


# ------------------------------------------------------------------ the map page

SITES = (
    b"name,lat,lon,year,kind,fund size,domains\n"
    b"User lab,39.1,117.2,2016,cluster,,ai\n"
    b"User port works,36.0,120.3,2017,cluster,,maritime\n"
    b"User seed fund,30.6,114.3,2018,fund,5,general\n"
)


@pytest.fixture
def map_page(monkeypatch) -> AppTest:
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user_datasets"] = add_dataset(
        (), preview_import(SITES, "sites.csv"), file_digest(SITES))
    at.run()
    assert not at.exception
    return at


def user_ids_shown(at: AppTest) -> list[str]:
    return list(at.dataframe[1].value[COLUMN_LABELS["id"]])


def test_map_without_user_data_has_no_user_layer(monkeypatch):
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "Your data" not in metrics(at)
    assert "layer_user" not in [c.key for c in at.checkbox]
    assert len(at.dataframe) == 1


def test_map_counts_and_lists_user_records(map_page, sample_frame):
    assert metrics(map_page)["Your data"] == "3"
    assert metrics(map_page)["Clusters"] == "2", "curated counts are unchanged"
    assert user_ids_shown(map_page) == ["user-lab", "user-port-works",
                                        "user-seed-fund"]
    assert any(s.value == "Your data shown (3)" for s in map_page.subheader)


def test_sidebar_filters_apply_to_user_records(map_page, sample_frame):
    (dataset,) = map_page.session_state["user_datasets"]
    frame = user_frame([dataset])
    map_page.slider(key="years").set_value((2017, 2018)).run()
    flt = RecordFilter(year_min=2017)
    expected = filter_user_records(frame, flt)
    assert metrics(map_page)["Your data"] == str(len(expected)) == "2"
    assert metrics(map_page)["Clusters"] == str(
        (filter_records(sample_frame, flt)["kind"] == "cluster").sum())
    map_page.text_input(key="search").input("fund").run()
    assert user_ids_shown(map_page) == ["user-seed-fund"]
    # The curated layer checkboxes leave the user's layer alone.
    map_page.checkbox(key="layer_cluster").uncheck().run()
    map_page.checkbox(key="layer_fund").uncheck().run()
    assert metrics(map_page)["Your data"] == "1"


def test_user_layer_is_serialised_again_only_when_its_records_change(map_page):
    def layer():
        _key, shown, script = map_page.session_state["_user_shown"]
        return list(shown["id"]), script

    ids, first = layer()
    assert ids == ["user-lab", "user-port-works", "user-seed-fund"]
    assert all(i in first.text for i in ids)
    map_page.checkbox(key="layer_fund").uncheck().run()
    assert layer()[1] is first, "a curated layer's checkbox leaves the user's layer alone"
    map_page.text_input(key="search").input("fund").run()
    ids, searched = layer()
    assert ids == ["user-seed-fund"]
    assert "user-lab" not in searched.text


def test_user_layer_checkbox_hides_it(map_page):
    box = map_page.checkbox(key="layer_user")
    assert box.label == "Your data"
    assert box.value
    box.uncheck().run()
    assert metrics(map_page)["Your data"] == "0"
    assert any("Your data layer is hidden" in c.value for c in map_page.caption)
    # Reset filters shows it again.
    next(b for b in map_page.button if b.label == "Reset filters").click().run()
    assert metrics(map_page)["Your data"] == "3"


def test_selected_user_record_opens_its_detail(map_page):
    map_page.session_state["selected_id"] = "user-port-works"
    map_page.run()
    assert not map_page.exception
    values = set(map_page.table[0].value["Value"])
    assert "User port works" in values
    assert any(USER_LAYER_LABEL in c.value for c in map_page.caption)
    assert any("User\\-supplied data" in m.value for m in map_page.markdown)


def test_sessions_are_separate(map_page, monkeypatch):
    other = AppTest.from_file(APP, default_timeout=60)
    other.run()
    assert not other.session_state["user_datasets"]
    assert "Your data" not in metrics(other)
