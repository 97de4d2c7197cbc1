"""Configuration: instance/config.py, environment overrides, keys generated once."""

from __future__ import annotations

import pytest

from app import create_app

KEY_NAMES = ("SECRET_KEY", "INITIAL_PASSWORD_KEY", "FORM_SIGNING_KEY")


@pytest.fixture(autouse=True)
def no_schema_needed(monkeypatch):
    """These apps are configured as in production but never serve: the start-up check of the database
    (tests/test_faults.py) would refuse their empty database."""
    monkeypatch.setattr("app.check_ready", lambda _app: None)


def test_missing_keys_are_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    for name in KEY_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    app = _app_in(tmp_path)
    again = _app_in(tmp_path)
    keys = [app.config[name] for name in KEY_NAMES]
    assert len(set(keys)) == 3 and all(len(key) > 40 for key in keys)
    assert [again.config[name] for name in KEY_NAMES] == keys
    config_file = tmp_path / "instance" / "config.py"
    assert oct(config_file.stat().st_mode & 0o777) == "0o600"


def test_the_environment_overrides_the_instance_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("FORM_SIGNING_KEY", "from-the-environment")
    monkeypatch.setenv("UNIVERSITY_TZ", "Europe/Lisbon")
    app = _app_in(tmp_path)
    assert app.config["FORM_SIGNING_KEY"] == "from-the-environment"
    assert app.config["UNIVERSITY_TZ"] == "Europe/Lisbon"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("db.sqlite3")


def _app_in(folder):
    return create_app(instance_path=str(folder / "instance"))
