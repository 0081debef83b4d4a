"""AppTest: every option of every choice widget, on every page, never fails.

Issue 9 found a crash (Province shading -> Fund capital) that 654 tests had
missed because none set every option. This test finds the widgets in the
AppTest element tree itself, so a widget added later is covered without
editing it: on each page, for each selectbox, radio, segmented control,
checkbox and toggle it sets every option (and a few values of each
multiselect and slider), reruns the app, and asserts that nothing was raised
and that no view fell back to the plain failure notice of
:mod:`dashboard.guard`. A widget that appears only under some setting (the
as-of year slider, say) is exercised while that setting holds.

It runs on the curated datasets, on the test sample, and on the sample with
records of the user's own, since each takes different branches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

from dashboard.guard import FAILURE_PREFIX
from geodata.io.importer import preview_import
from geodata.store.userdata import add_dataset, file_digest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
#: Every page the app can show: each file of dashboard/views/ (app.py lists them).
PAGES = sorted(p.stem for p in (ROOT / "dashboard" / "views").glob("*.py") if p.stem != "__init__")
#: Widget types whose every option is set, and those of which a few values are.
CHOICE_TYPES = ("selectbox", "radio", "button_group", "select_slider")
SWITCH_TYPES = ("checkbox", "toggle")
SAMPLED_TYPES = ("multiselect", "slider")
#: Widgets revealed by another widget's value are exercised this many levels deep.
MAX_DEPTH = 2
USER_CSV = (
    "名称,Name,纬度,经度,year,fund_size_rmb_bn,kind\n"
    "绵阳新园,Mianyang New Park,31.47,104.68,2022,,cluster\n"
    "长沙基金,Changsha Fund,28.2,112.9,2013,3.5,fund\n"
    "海口试点,Haikou Pilot,20.0,110.3,2019,,cluster\n"
).encode()

def _sample_as_store() -> dict[str, str]:
    """The sample as a GeoParquet data folder: the app then reads it through the
    compiled store as a lean frame (details read per row, issue 13), so every
    page is exercised on that path too."""
    from geodata.store.geoparquet import write_store
    from geodata.store.load import default_dataset_paths
    from geodata.store.sources import load_source_frame

    folder = Path(tempfile.mkdtemp(prefix="cmf-every-option-store-"))
    write_store(load_source_frame(default_dataset_paths(ROOT / "tests" / "data")),
                folder / "data" / "sample.parquet")
    return {"CMF_ATLAS_DATA": str(folder / "data"), "CMF_ATLAS_CACHE": str(folder / "cache")}


DATASETS = {
    "curated": {},
    "sample": {"CMF_ATLAS_DATA": str(ROOT / "tests" / "data")},
    "sample+user": {"CMF_ATLAS_DATA": str(ROOT / "tests" / "data")},
    "sample-store": _sample_as_store(),
}


def test_pages_are_the_apps_pages():
    """The pages found on disk are exactly those app.py's navigation lists."""
    app = Path(APP).read_text(encoding="utf-8")
    listed = {line.split('"views/')[1].split(".py")[0]
              for line in app.splitlines() if 'st.Page("views/' in line}
    assert listed == set(PAGES)


def _force(widget: Widget, state: WidgetState) -> None:
    """Make ``widget`` send ``state`` on the next run.

    Choice widgets show formatted labels, and AppTest's ``set_value`` wants
    the raw option behind a label, which a generic test cannot know; the
    frontend sends the label, so this sends it too.
    """
    base = type(widget)
    widget.__class__ = type(f"Forced{base.__name__}", (base,),
                            {"_widget_state": property(lambda self: state)})


def _labels_state(widget: Widget, labels: list[str], single: bool) -> WidgetState:
    ws = WidgetState()
    ws.id = widget.id
    if single:
        ws.string_value = labels[0]
    else:
        ws.string_array_value.data[:] = labels
    return ws


def _current_labels(widget: Widget) -> list[str]:
    if widget.type == "selectbox":
        return [] if widget.index is None else [widget.options[widget.index]]
    if widget.type == "radio":
        return [] if widget.index is None else [widget.options[widget.index]]
    if widget.type == "button_group":
        return list(widget.formatted_values)
    if widget.type == "multiselect":
        return list(widget.values)
    return []


def _settings(widget: Widget) -> Iterator[tuple[str, Any]]:
    """(description, how to set it) for each value to try; the original value last."""
    kind = widget.type
    if kind in SWITCH_TYPES:
        yield f"{not widget.value}", ("value", not widget.value)
        yield f"{widget.value}", ("value", widget.value)
        return
    if kind == "slider":
        proto = widget.proto
        lo, hi = proto.min, proto.max
        if proto.data_type == proto.DataType.INT:
            lo, hi = int(lo), int(hi)
        mid = lo + (hi - lo) // 2 if isinstance(lo, int) else round((lo + hi) / 2, 1)
        original = widget.value
        if isinstance(original, (list, tuple)):
            for value in ((lo, lo), (hi, hi), (lo, mid), (mid, hi)):
                yield f"{value}", ("value", value)
        else:
            for value in (lo, hi, mid):
                yield f"{value}", ("value", value)
        yield f"{original}", ("value", original)
        return
    original = _current_labels(widget)
    options = list(widget.options)
    if kind == "select_slider":
        for label in options:
            yield label, ("labels", [label], False)
        return
    if kind == "multiselect":
        picks = [options[:1], options[-1:], options[:3], []] if options else [[]]
        for labels in picks:
            yield f"{labels}", ("labels", labels, False)
        yield f"{original}", ("labels", original, False)
        return
    single = kind in ("selectbox", "radio")
    for label in options:
        yield label, ("labels", [label], single)
    if original:
        yield f"{original}", ("labels", original, single)


def _widgets(at: AppTest) -> list[Widget]:
    found: list[Widget] = []
    for kind in (*CHOICE_TYPES, *SWITCH_TYPES, *SAMPLED_TYPES):
        found.extend(at.get(kind))
    return found


def _find(at: AppTest, widget_id: str) -> Widget | None:
    return next((w for w in _widgets(at) if w.id == widget_id), None)


def _failures(at: AppTest) -> list[str]:
    shown = [e.value for kind in ("warning", "markdown", "caption", "info") for e in at.get(kind)]
    return [text for text in shown if isinstance(text, str) and FAILURE_PREFIX in text]


def _apply(at: AppTest, widget_id: str, how: tuple) -> bool:
    widget = _find(at, widget_id)
    if widget is None:
        return False
    if how[0] == "value":
        widget.set_value(how[1])
    else:
        _force(widget, _labels_state(widget, how[1], how[2]))
    at.run()
    return True


def _exercise(at: AppTest, page: str, seen: set[str], tried: list[str], depth: int) -> None:
    for widget in _widgets(at):
        if widget.id in seen:
            continue
        seen.add(widget.id)
        name = widget.key or widget.label
        for description, how in list(_settings(widget)):
            if not _apply(at, widget.id, how):
                break  # another widget's value hid this one: nothing left to try
            where = f"{page}: {widget.type} {name!r} = {description}"
            tried.append(where)
            assert not at.exception, f"{where} raised: {at.exception[0].value}"
            assert not _failures(at), f"{where} showed: {_failures(at)}"
            if depth < MAX_DEPTH:
                _exercise(at, page, seen, tried, depth + 1)


#: (dataset, page) pairs: every page on every dataset; the Team page exists only in team
#: mode, where it runs on a throwaway database (tests/dashboard/conftest.py).
CASES = [(d, p) for p in PAGES if p != "team" for d in DATASETS] + [("team", "team")]


def _team_mode(request) -> dict:
    """Team mode on the sample in a throwaway store, signed in as a reviewer (who has
    every widget of the page), with one edit in the history so revert is offered."""
    import time

    from geodata.db.records import save_record

    store = request.getfixturevalue("team_store")
    with store.session("erin", "editor") as conn:
        save_record(conn, "cluster-alpha", {"city": "Binhai"}, expected_version=1, who="erin",
                    source={"publisher": "P", "title": "T"})
    now = time.time()
    return {"team_account": {"name": "rhea", "role": "reviewer", "signed_in_at": now,
                             "last_seen": now}}


@pytest.mark.parametrize(("dataset", "page"), CASES)
def test_every_option_of_every_widget(monkeypatch, tmp_path, dataset, page, request):
    state = {}
    if dataset == "team":
        state = _team_mode(request)
    for name, value in DATASETS.get(dataset, {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    if dataset.endswith("+user"):
        at.session_state["user_datasets"] = add_dataset(
            (), preview_import(USER_CSV, "mine.csv"), file_digest(USER_CSV))
    at.run()
    assert not at.exception
    if page != "map":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, f"{page} raised: {at.exception[0].value}"
    if page == "team":
        assert at.selectbox(key="team_revert_pick")  # the page was reached, signed in
    tried: list[str] = []
    _exercise(at, page, set(), tried, 0)
    # The sidebar alone has a dozen settings: a page that yields none was not reached.
    assert len(tried) >= 12, tried
    if page == "team":
        for key in ("team_record", "team_link_type", "team_link_to", "team_new_kind",
                    "team_revert_pick", "team_retire_ok"):
            assert any(f"{key}'" in t for t in tried), key
