"""``python -m geodata db …`` against the throwaway cluster."""

from __future__ import annotations

from geodata.cli import main
from geodata.load import DATASET_DIR


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
