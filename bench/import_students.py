"""How long the student import takes for a large file (target: 20,000 rows well under 20 seconds).

Run: .venv/bin/python -m bench.import_students [rows]. Builds a temporary database with one cohort,
then plans and applies a generated CSV through the real import path, in one write transaction as
the CLI and the upload do, and prints the time. Never fails.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import importing
import seeding
from app import create_app
from database import db, write_transaction

KEYS = {"SECRET_KEY": "bench", "INITIAL_PASSWORD_KEY": "bench", "FORM_SIGNING_KEY": "bench"}
NOW = datetime(2026, 6, 25, 4, 0, tzinfo=UTC)
HEADER = "student_id,name,passport_no,cohort,school,name_zh,programme,nationality,email,library_fees_owed"


def generate(count: int, cohort: str) -> bytes:
    """A CSV of `count` new students in twelve schools; one in ten owes library fees."""
    rows = [
        f"{2020000000 + n},Student {n},P {n:08d},{cohort},School {n % 12},,,,,{'12.50' if n % 10 == 0 else ''}"
        for n in range(count)
    ]
    return "\n".join([HEADER, *rows, ""]).encode()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({**KEYS, "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "NOW": lambda: NOW})
        with app.app_context():
            db.create_all()
            seeding.ensure_standard_offices()
            cohort = seeding.ensure_demo_cohorts(NOW.date())[0].code
            db.session.commit()
            data = generate(count, cohort)
            start = time.perf_counter()
            with write_transaction():
                plan = importing.plan_import(data)
                planned = time.perf_counter() - start
                if not plan.ok:
                    print(f"refused: {plan.errors[0]}")
                    return
                result = importing.apply_import(plan, None, "bench")
            elapsed = time.perf_counter() - start
            print(f"{count} rows: {len(plan.errors)} refused, {result.added} added, {result.holds_placed} holds placed")
            print(f"{'plan':>8}: {planned:6.1f} s")
            print(f"{'total':>8}: {elapsed:6.1f} s ({count / elapsed:,.0f} rows/s)")
            db.engine.dispose()


if __name__ == "__main__":
    main()
