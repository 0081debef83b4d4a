"""Who may do what is enforced by the database itself, and accounts are safe."""

from __future__ import annotations

import logging
import secrets

import psycopg
import pytest
from psycopg import sql

from geodata.db import accounts
from geodata.db.records import create_record, publish_record, read_record, save_record
from geodata.store.load import load_records

SOURCE = {"publisher": "Test", "title": "Role test"}


def _draft(store) -> str:
    rec = next(r for r in load_records() if r.kind == "cluster").model_dump(exclude_none=True)
    rec["id"] = "cluster-role-test-draft"
    with store.admin() as conn:
        create_record(conn, rec, source=SOURCE, who="tester")
    return rec["id"]


def _login_role(store, group: str) -> psycopg.Connection:
    """Connect as a new PostgreSQL login role that is a member of ``group``."""
    name, password = f"t_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    with store.admin() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(name), sql.Literal(password), sql.Identifier(group)))
    return psycopg.connect(f"host=127.0.0.1 port={store.cluster.port} dbname={store.dbname} "
                           f"user={name} password={password}", autocommit=True)


def test_a_viewer_sees_published_snapshots_only(imported):
    draft = _draft(imported)
    with imported.admin() as conn:
        total = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    with _login_role(imported, "cmf_viewer") as viewer:
        ids = {r[0] for r in viewer.execute("SELECT id FROM published_records")}
        assert draft not in ids
        assert len(ids) == total - 1
        # the working rows (drafts' text) and records' sources are not a viewer's
        for table in ("records", "organisations"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                viewer.execute(f"SELECT id FROM {table}")
        assert viewer.execute("SELECT count(*) FROM sources WHERE record_id IS NOT NULL"
                              ).fetchone()[0] == 0
    with imported.session("ed", "editor") as editor:
        assert editor.execute("SELECT count(*) FROM records").fetchone()[0] == total


@pytest.mark.parametrize("statement", [
    "INSERT INTO dataset_files (name, content) VALUES ('x.yaml', 'records')",
    "UPDATE records SET city = 'Nowhere' WHERE id = 'zone-mianyang'",
    "DELETE FROM records",
    "INSERT INTO history (record_id, version, who, action, fields, old_values, new_values) "
    "VALUES ('zone-x', 1, 'me', 'publish', '{}', '{}', '{}')",
    "SELECT * FROM accounts",
    "DELETE FROM published_records",
    "INSERT INTO links (from_id, to_id, type, dataset_file, file_position, field_order) "
    "SELECT 'a', 'b', 'parent_of', 'links.yaml', 0, '{}'",
])
def test_a_viewer_cannot_write_the_database_refuses(imported, statement):
    with _login_role(imported, "cmf_viewer") as viewer, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        viewer.execute(statement)


def test_a_viewer_session_cannot_save_an_edit(imported):
    with imported.admin() as conn:
        rid, version = conn.execute("SELECT id, version FROM records LIMIT 1").fetchone()
    with imported.session("vi", "viewer") as viewer, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        save_record(viewer, rid, {"notes": "a viewer's note"}, expected_version=version,
                    source=SOURCE, who="vi")
    with imported.admin() as conn:
        assert conn.execute("SELECT version FROM records WHERE id = %s",
                            (rid,)).fetchone()[0] == version


def test_an_editor_writes_drafts_and_only_a_reviewer_publishes(imported):
    draft = _draft(imported)
    with imported.session("ed", "editor") as editor:
        _doc, version, status = read_record(editor, draft)
        assert status == "draft"
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            publish_record(editor, draft, expected_version=version, who="ed")
        # an editor's edit of a published record makes it a draft again
        rid, v = editor.execute("SELECT id, version FROM records WHERE review_status = "
                                "'published' LIMIT 1").fetchone()
        save_record(editor, rid, {"notes": "checked by the editor"}, expected_version=v,
                    source=SOURCE, who="ed")
        assert read_record(editor, rid)[2] == "draft"
        # and bypassing the functions does not help: the policy refuses it
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            editor.execute("UPDATE records SET review_status = 'published' WHERE id = %s",
                           (rid,))
    with imported.session("rev", "reviewer") as reviewer:
        new_version = publish_record(reviewer, draft, expected_version=version, who="rev")
        assert read_record(reviewer, draft)[1:] == (new_version, "published")
    with _login_role(imported, "cmf_viewer") as viewer:
        assert viewer.execute("SELECT 1 FROM published_records WHERE id = %s",
                              (draft,)).fetchone()


def test_history_is_append_only_even_for_the_owner(imported):
    _draft(imported)
    with imported.admin() as conn:
        for statement in ("UPDATE history SET who = 'someone else'", "DELETE FROM history",
                          "TRUNCATE history"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT who FROM history").fetchone()[0] == "tester"


def test_accounts_hash_with_argon2_and_sign_in(store):
    password = secrets.token_urlsafe(16)
    with store.admin() as conn:
        accounts.add_user(conn, "alice", "editor", password)
        stored = conn.execute("SELECT password_hash FROM accounts").fetchone()[0]
        assert stored.startswith("$argon2id$")
        assert password not in stored
        with pytest.raises(accounts.AccountError, match="exists"):
            accounts.add_user(conn, "alice", "viewer", password)
        with pytest.raises(accounts.AccountError, match="too short"):
            accounts.add_user(conn, "bob", "viewer", "short")
        with pytest.raises(accounts.AccountError, match="unknown role"):
            accounts.add_user(conn, "bob", "superuser", password)
    with psycopg.connect(store.app_dsn(), autocommit=True) as app:
        assert accounts.sign_in(app, "alice", password) == accounts.Account("alice", "editor")
        with pytest.raises(accounts.SignInError, match="wrong account name or password"):
            accounts.sign_in(app, "alice", password + "x")
        with pytest.raises(accounts.SignInError, match="wrong account name or password"):
            accounts.sign_in(app, "nobody", password)
        # the app's own role cannot read data before a sign-in switches its role
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT * FROM records")


def test_failed_sign_ins_are_rate_limited_and_logged_without_secrets(store, caplog):
    password = secrets.token_urlsafe(16)
    with store.admin() as conn:
        accounts.add_user(conn, "carol", "viewer", password)
    caplog.set_level(logging.INFO, logger="geodata.db.accounts")
    with psycopg.connect(store.app_dsn(), autocommit=True) as app:
        for n in range(accounts.MAX_FAILURES):
            with pytest.raises(accounts.SignInError) as err:
                accounts.sign_in(app, "carol", f"wrong-{n}")
            assert not isinstance(err.value, accounts.SignInLockedError)
        # now even the right password is refused, without being checked
        with pytest.raises(accounts.SignInLockedError, match="try again after"):
            accounts.sign_in(app, "carol", password)
    with store.admin() as conn:
        rows = conn.execute("SELECT account, succeeded, outcome FROM sign_in_attempts "
                            "ORDER BY id").fetchall()
    assert len(rows) == accounts.MAX_FAILURES + 1
    assert rows[-1] == ("carol", False, "locked")
    text = caplog.text + repr(rows)
    assert password not in text
    assert "wrong-0" not in text
    assert "carol" not in caplog.text  # the log names accounts by a hash only
