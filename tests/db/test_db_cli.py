"""``python -m geodata db …`` against the throwaway cluster."""

from __future__ import annotations

import psycopg

from geodata.cli import main
from geodata.store.load import DATASET_DIR


def test_db_commands_init_import_export_add_user(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CMF_ATLAS_DATABASE_URL", store.dsn)
    assert main(["db", "init"]) == 0
    assert "none (up to date)" in capsys.readouterr().out
    assert main(["db", "import"]) == 0
    assert "records" in capsys.readouterr().out
    assert main(["db", "import"]) == 1
    assert "already holds" in capsys.readouterr().err
    assert main(["db", "export", str(tmp_path)]) == 0
    assert (tmp_path / "zones.yaml").read_bytes() == (DATASET_DIR / "zones.yaml").read_bytes()
    monkeypatch.setenv("NEW_PW", "a long enough password")
    assert main(["db", "add-user", "dora", "--role", "reviewer", "--password-env", "NEW_PW"]) == 0
    assert "dora created with role reviewer" in capsys.readouterr().out
    monkeypatch.setenv("NEW_PW", "short")
    assert main(["db", "add-user", "eve", "--role", "viewer", "--password-env", "NEW_PW"]) == 1
    err = capsys.readouterr().err
    assert "too short" in err
    assert "short" not in err.replace("too short", "")  # the password is never echoed
    monkeypatch.delenv("NEW_PW")
    assert main(["db", "add-user", "eve", "--role", "viewer", "--password-env", "NEW_PW"]) == 2
    assert "NEW_PW is not set" in capsys.readouterr().err


def test_import_if_empty_and_app_login_for_the_dashboard(store, monkeypatch, capsys):
    """``make run-team``'s steps: import once, then a passfile login for ``cmf_app``."""
    from geodata.db import accounts, connect

    monkeypatch.delenv("CMF_ATLAS_DATABASE_URL", raising=False)
    monkeypatch.setattr(connect, "LOCAL_CLUSTER_DIR", store.cluster.root)
    monkeypatch.setenv("CMF_ATLAS_DB_PORT", str(store.cluster.port))
    db = ["db", "--dbname", store.dbname]
    assert main([*db, "import", "--if-empty"]) == 0
    assert "imported" in capsys.readouterr().out
    assert main([*db, "import", "--if-empty"]) == 0
    assert "import skipped" in capsys.readouterr().out
    try:
        assert main([*db, "app-login"]) == 0
        dsn = capsys.readouterr().out.strip()
        passfile = store.cluster.root / "app.pgpass"
        assert f"passfile={passfile}" in dsn
        assert "password=" not in dsn
        assert oct(passfile.stat().st_mode & 0o777) == "0o600"
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == accounts.APP_ROLE
        secret = passfile.read_text()
        assert main([*db, "app-login"]) == 0  # again: the same password, kept
        assert capsys.readouterr().out.strip() == dsn
        assert passfile.read_text() == secret
    finally:  # the session's other tests log in as cmf_app with the fixture's password
        with store.admin() as conn:
            accounts.enable_app_login(conn, store.app_password)
