"""Two dashboard servers on one team store, driven in headless Chromium.

The dashboard keeps no data of its own in team mode, so several app servers
can share one database: an edit approved through one server appears in the
other. The same flows are photographed (editing, a conflict, history,
review) at 1920x1080 and 1366x768 into test-artifacts/team/.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from geodata.db import accounts
from geodata.db.migrate import migrate
from geodata.db.published import read_published
from geodata.db.transfer import import_datasets

from .conftest import ARTIFACTS, ROOT, start_app
from .map_helpers import wait_for

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "team"
FIELDS = "Fields (YAML: change any value, delete a line to empty a field)"
RID = "cluster-alpha"


@pytest.fixture(scope="module")
def team_db(pg_cluster, app_password, tmp_path_factory) -> dict:
    """A database of its own holding the sample, with an editor and a reviewer."""
    name = f"cmf_browser_{secrets.token_hex(3)}"
    with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    data = tmp_path_factory.mktemp("team-data")
    shutil.copy(ROOT / "tests" / "data" / "sample.yaml", data)
    (data / "links.yaml").write_text("[]\n", encoding="utf-8")
    passwords = {"erin": secrets.token_urlsafe(16), "rhea": secrets.token_urlsafe(16)}
    with psycopg.connect(pg_cluster.dsn(name), autocommit=True) as conn:
        migrate(conn)
        import_datasets(conn, data)
        for account, role in (("erin", "editor"), ("rhea", "reviewer")):
            accounts.add_user(conn, account, role, passwords[account])
    app_dsn = (f"host=127.0.0.1 port={pg_cluster.port} dbname={name} "
               f"user={accounts.APP_ROLE} password={app_password}")
    return {"dsn": app_dsn, "admin": pg_cluster.dsn(name), "passwords": passwords}


@pytest.fixture(scope="module")
def two_servers(team_db, tmp_path_factory) -> Iterator[list[str]]:
    """Two streamlit processes, each in team mode on the same database."""
    procs, urls = [], []
    try:
        for n in (1, 2):
            user_dir = tmp_path_factory.mktemp(f"user{n}")
            proc, url = start_app(ROOT / "tests" / "data", f"streamlit-team-{n}.log",
                                  {"CMF_ATLAS_DB": team_db["dsn"],
                                   "CMF_ATLAS_USER_DIR": str(user_dir)})
            procs.append(proc)
            urls.append(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


@contextmanager
def _two_pages(browser, urls: list[str], size: tuple[int, int]) -> Iterator[tuple]:
    """The Team page of each server in a browser context of its own; both are
    photographed into test-artifacts/team/ if the test fails."""
    contexts, pages = [], []
    for url in urls:
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = context.new_page()
        page.goto(f"{url}/team")
        page.get_by_label("Account name").wait_for(timeout=60_000)
        contexts.append(context)
        pages.append(page)
    try:
        yield tuple(pages)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for name, page in zip("ab", pages, strict=True):
            page.screenshot(path=str(SHOTS / f"FAILED-server-{name}.png"), full_page=True)
        raise
    finally:
        for context in contexts:
            context.close()


def _sign_in(page, name: str, password: str) -> None:
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(FIELDS).wait_for(timeout=60_000)


def _settle(page) -> None:
    """Wait until Streamlit has finished the rerun (no running indicator)."""
    page.wait_for_timeout(400)
    wait_for(lambda: page.locator("[data-testid='stStatusWidget']").count() == 0, 30)
    page.wait_for_timeout(300)


def _type(page, field, value: str) -> None:
    """Type into a Streamlit input and let the rerun it triggers finish (typing during
    a rerun can be lost when the rerun redraws the input)."""
    field.fill(value)
    field.blur()
    _settle(page)
    assert wait_for(lambda: field.input_value() == value, 10)


def _edit(page, old: str, new: str, title: str) -> None:
    box = page.get_by_label(FIELDS)
    wait_for(lambda: old in box.input_value(), 30)
    _type(page, box, box.input_value().replace(old, new))
    _type(page, page.get_by_label("Publisher").first, "Xinhua")
    _type(page, page.get_by_label("Title").first, title)
    _type(page, page.get_by_label("URL").first, "https://example.org/report")


def _save(page) -> None:
    page.get_by_role("button", name="Save edit (as a draft)").click()
    _settle(page)


def test_an_edit_made_in_one_server_appears_in_the_other(browser, two_servers, team_db):
    with _two_pages(browser, two_servers, (1366, 768)) as (a, b):
        _sign_in(a, "rhea", team_db["passwords"]["rhea"])
        _sign_in(b, "erin", team_db["passwords"]["erin"])
        assert "city: Tianjin" in b.get_by_label(FIELDS).input_value()
        _edit(a, "city: Tianjin", "city: Binhai", "Server A's edit")
        _save(a)
        a.get_by_text("Saved cluster-alpha as a draft").wait_for(timeout=30_000)
        a.get_by_role("tab", name="Review").click()
        a.get_by_role("button", name="Approve").click()
        a.get_by_text("viewers see it now").wait_for(timeout=30_000)
        with psycopg.connect(team_db["admin"]) as conn:
            accounts.start_session(conn, accounts.Account("check", "viewer"))
            assert read_published(conn, RID)[0]["city"] == "Binhai"
        # server B, another process, shows the edit once its page is reloaded
        b.reload()
        b.get_by_label("Account name").or_(b.get_by_label(FIELDS)).wait_for(timeout=60_000)
        if b.get_by_label("Account name").count():
            _sign_in(b, "erin", team_db["passwords"]["erin"])
        assert wait_for(lambda: "city: Binhai" in b.get_by_label(FIELDS).input_value(), 30)


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)], ids=["1920", "1366"])
def test_screenshots_of_editing_a_conflict_history_and_review(browser, two_servers, team_db,
                                                              size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = f"{size[0]}x{size[1]}"
    with _two_pages(browser, two_servers, size) as (a, b):
        a.screenshot(path=str(SHOTS / f"0-sign-in-{tag}.png"))
        _sign_in(a, "erin", team_db["passwords"]["erin"])
        _sign_in(b, "rhea", team_db["passwords"]["rhea"])
        token = f"Edited {tag}"
        box = a.get_by_label(FIELDS)
        text = box.input_value()
        city = next(line for line in text.splitlines() if line.startswith("city: "))
        _edit(a, city, f"city: {token}", f"Editing at {tag}")
        a.screenshot(path=str(SHOTS / f"1-editing-{tag}.png"))
        # B opened the same version; A saves first, so B's save is refused
        b_text = b.get_by_label(FIELDS).input_value()
        year = next(line for line in b_text.splitlines() if line.startswith("year: "))
        _save(a)
        a.get_by_text("Saved cluster-alpha as a draft").wait_for(timeout=30_000)
        new_year = f"year: {2020 if size[0] == 1920 else 2019}"  # differs at each size
        assert year != new_year
        _edit(b, year, new_year, f"Founding year ({tag})")
        _save(b)
        b.get_by_text("since you opened it").wait_for(timeout=30_000)
        assert new_year in b.get_by_label(FIELDS).input_value()  # the edit is kept
        # the message in mid-screen: above it, Streamlit's fixed header would cover it
        b.get_by_text("since you opened it").evaluate(
            "e => e.scrollIntoView({block: 'center'})")
        b.wait_for_timeout(300)
        b.screenshot(path=str(SHOTS / f"2-conflict-{tag}.png"))
        b.get_by_role("button", name="Load the latest version and reapply my edit").click()
        _settle(b)
        assert wait_for(lambda: token in b.get_by_label(FIELDS).input_value(), 30)
        _save(b)
        b.get_by_text("Saved cluster-alpha as a draft").wait_for(timeout=30_000)
        b.get_by_role("tab", name="History").click()
        _settle(b)
        b.screenshot(path=str(SHOTS / f"3-history-{tag}.png"), full_page=True)
        b.get_by_role("tab", name="Review").click()
        _settle(b)
        b.screenshot(path=str(SHOTS / f"4-review-{tag}.png"), full_page=True)
        b.get_by_role("button", name="Approve").first.click()
        b.get_by_text("viewers see it now").wait_for(timeout=30_000)
    shots = [SHOTS / f"{n}-{tag}.png" for n in ("0-sign-in", "1-editing", "2-conflict",
                                                  "3-history", "4-review")]
    # every shot is a real PNG of the viewport's width
    for shot in shots:
        head = shot.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(head[16:20], "big") == size[0]
