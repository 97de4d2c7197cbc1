"""The migrations produce exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine

from app import create_app
from database import db
from tests.conftest import TEST_KEYS

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app({**TEST_KEYS, "DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again_with_data_in_the_tables(tmp_path):
    """SQLite rebuilds a table to drop a column: rows that point at it must not stop a downgrade."""
    from flask_migrate import downgrade

    import seeding
    from models import Account, Role, School

    url = f"sqlite:///{tmp_path / 'with-data.sqlite3'}"
    app = create_app({**TEST_KEYS, "DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        seeding.ensure_standard_offices()  # offices with steps pointing at them
        school = School(name="School of Nursing")
        db.session.add(Account(username="desk-nursing", role=Role.DESK, school=school))
        db.session.commit()
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="0003_one_current_form")
        upgrade(directory=str(MIGRATIONS))
        assert db.session.scalar(db.select(School.name)) == "School of Nursing"
        db.session.remove()
        db.engine.dispose()
