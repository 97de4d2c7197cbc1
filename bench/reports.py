"""How long the admin reports take with many students (target: well under a second each at 20,000).

Run: .venv/bin/python -m bench.reports [students]. Builds a temporary database with generated students
and progress, then prints the median time of each counting function and each page. Never fails.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

import clearance
import exporting
import login_sessions
import seeding
from app import create_app
from bench.timing import median_ms
from clearance import statistics as stats
from database import db
from models import Account, ActorKind, FormVersion, Hold, HoldSource, Role, School, Step, StepState, StepStatus, Student

KEYS = {"SECRET_KEY": "bench", "INITIAL_PASSWORD_KEY": "bench", "FORM_SIGNING_KEY": "bench"}
NOW = datetime(2026, 6, 25, 4, 0, tzinfo=UTC)


def generate(count: int) -> None:
    """Students in five cohorts and ten schools; each step cleared with some chance; a few holds."""
    rng = random.Random(7)
    seeding.ensure_standard_offices()
    cohorts = seeding.ensure_demo_cohorts(NOW.date())
    db.session.add_all(School(name=f"School {n}") for n in range(10))
    db.session.flush()
    schools = db.session.scalars(select(School.id)).all()
    db.session.execute(insert(Account), [{"username": f"s{n:06d}", "role": Role.STUDENT} for n in range(count)])
    accounts = db.session.execute(select(Account.username, Account.id).where(Account.role == Role.STUDENT)).all()
    db.session.execute(
        insert(Student),
        [
            {
                "account_id": account_id,
                "student_id": username[1:],
                "name": f"Student {username}",
                "cohort_id": rng.choice(cohorts).id,
                "school_id": rng.choice(schools),
            }
            for username, account_id in accounts
        ],
    )
    students = db.session.scalars(select(Student.id)).all()
    steps = db.session.scalars(select(Step).where(Step.mode != "automatic")).all()
    db.session.execute(
        insert(StepStatus),
        [
            {
                "student_id": sid,
                "step_id": step.id,
                "state": StepState.CLEARED,
                "actor_kind": ActorKind.STAFF,
                "changed_at": NOW.replace(tzinfo=None) - timedelta(hours=rng.randint(0, 200)),
            }
            for sid in students
            for step in steps
            if rng.random() < 0.8
        ],
    )
    db.session.execute(
        insert(Hold),
        [
            {"student_id": sid, "office_id": steps[0].office_id, "reason": "fees", "source": HoldSource.IMPORT}
            for sid in rng.sample(students, count // 20)
        ],
    )
    clearance.refresh_students(students, why="bench")
    forms = db.session.scalars(select(FormVersion.id)).all()
    db.session.execute(
        update(FormVersion),
        [{"id": fid, "issued_at": NOW.replace(tzinfo=None) - timedelta(hours=rng.randint(0, 150))} for fid in forms],
    )
    db.session.commit()
    print(f"{count} students, {len(forms)} complete")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({**KEYS, "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "NOW": lambda: NOW})
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            generate(count)
            print(f"generated in {time.perf_counter() - start:.1f} s")
            current = clearance.current_cohorts()
            figures = {
                "tallies (cohort, school)": lambda: stats.tallies(),
                "by_step": lambda: stats.by_step(),
                "today_numbers": lambda: stats.today_numbers(current),
                "idle_count + list": lambda: (stats.idle_count(), stats.idle_students()),
                "completions_per_day": lambda: stats.completions_per_day(current),
                "progress_csv (all)": lambda: exporting.progress_csv(exporting.Scope()),
            }
            for name, action in figures.items():
                print(f"{name:>24}: {median_ms(action):8.1f} ms")
            admin = Account(username="bench-admin", role=Role.ADMIN)
            db.session.add(admin)
            db.session.commit()
            client = app.test_client()
            token = login_sessions.start(admin)
            db.session.commit()
            with client.session_transaction() as session:
                session["_user_id"] = token
            for url in ("/admin/", "/admin/statistics", "/admin/audit", "/admin/export.csv"):
                print(f"{'GET ' + url:>24}: {median_ms(lambda url=url: client.get(url), rounds=3):8.1f} ms")
            db.engine.dispose()


if __name__ == "__main__":
    main()
