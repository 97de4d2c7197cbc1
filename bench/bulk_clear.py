"""How long an office takes to clear a pasted list of students (target: 3,000 IDs in about a second).

Run: .venv/bin/python -m bench.bulk_clear [students] [ids]. Imports generated students through the
real import path, then times the preview (`plan_bulk_clear`) and the confirm (`clear_many`, in one
write transaction, the unit of work settling the forms at commit) for the library's step. Never fails.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import importing
import seeding
from app import create_app
from bench.import_students import KEYS, NOW, generate
from clearance import bulk
from database import db, write_transaction
from models import Account, Office, Role


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    ids = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite3"
        app = create_app({**KEYS, "DATABASE_URL": f"sqlite:///{database}", "NOW": lambda: NOW})
        with app.app_context():
            db.create_all()
            seeding.ensure_standard_offices()
            cohort = seeding.ensure_demo_cohorts(NOW.date())[0].code
            db.session.commit()
            with write_transaction():
                importing.apply_import(importing.plan_import(generate(count, cohort)), None, "bench")
            library = db.session.query(Office).filter_by(code="LIB").one()
            staff = Account(username="bench-library", role=Role.STAFF, office=library)
            db.session.add(staff)
            db.session.commit()
            step = library.steps[0]
            db.session.commit()
            # Write the import's WAL back now, so an automatic checkpoint is not timed as part of the clear.
            with sqlite3.connect(database) as raw:
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            numbers = [str(2020000000 + n) for n in range(ids)]
            start = time.perf_counter()
            plan = bulk.plan_bulk_clear(numbers, step, staff)
            previewed = time.perf_counter() - start
            db.session.rollback()
            start = time.perf_counter()
            with write_transaction():
                result = bulk.clear_many(numbers, step, staff)
            cleared = time.perf_counter() - start
            outcomes = {outcome.value: len(entries) for outcome, entries in result.grouped().items() if entries}
            print(f"{count} students, {ids} IDs: preview {previewed:.2f} s, clear and commit {cleared:.2f} s")
            print(f"  preview: { {o.value: len(e) for o, e in plan.grouped().items() if e} }")
            print(f"  result:  {outcomes}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
