"""Fixtures: an app on a fresh temporary database, a controllable clock, and builders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

import accounts
import login_sessions
import seeding
from app import create_app
from database import db
from models import Account, AuditEvent, Cohort, CohortKind, Office, Role, School, Step, StepMode, Student

TEST_KEYS = {
    "SECRET_KEY": "test-secret",
    "INITIAL_PASSWORD_KEY": "test-initial-password-key",
    "FORM_SIGNING_KEY": "test-form-signing-key",
}
NOW = datetime(2026, 6, 25, 4, 0, tzinfo=UTC)  # 12:00 in Wenzhou, inside the demo window below
WINDOW_OPENS = date(2026, 6, 20)
WINDOW_CLOSES = date(2026, 7, 3)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app_config(tmp_path, clock) -> dict:
    return {
        **TEST_KEYS,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "NOW": clock,
        "PUBLIC_BASE_URL": "https://leaving.example.edu",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),  # previews keep uploads here (uploads.py)
        # Cheap, so fixtures do not spend the suite's time hashing; test_auth keeps one test on scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in a separate worker: its own `g`, its own session.

    Without this, requests would share the test's app context, and so Flask-Login's cached user
    and the test's SQLAlchemy session, hiding bugs. The test's session is committed before (so the
    request sees what the test built) and after (so the test reads what the request wrote).
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()
        return response


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        seeding.ensure_standard_offices()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Builders -------------------------------------------------------------------


@pytest.fixture
def make_cohort(app):
    def build(code="UG2011", kind=CohortKind.DEGREE, opens=WINDOW_OPENS, closes=WINDOW_CLOSES, **extra) -> Cohort:
        cohort = Cohort(
            code=code,
            name_en=extra.pop("name_en", f"Cohort {code}"),
            name_zh=extra.pop("name_zh", ""),
            kind=kind,
            opens_on=opens,
            closes_on=closes,
            documents=seeding.documents_for(kind),
            certificate_day=extra.pop("certificate_day", date(2026, 6, 30)),
            certificate_hours="08:30–16:00",
            certificate_place="School office",
            **extra,
        )
        db.session.add(cohort)
        db.session.commit()
        return cohort

    return build


def school_named(name: str) -> School:
    school = db.session.scalar(select(School).where(School.name == name))
    if school is None:
        school = School(name=name)
        db.session.add(school)
        db.session.flush()
    return school


def office(code: str) -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


@pytest.fixture
def make_student(app, make_cohort):
    def build(
        student_id="1111210101",
        passport_no="E 1234-5678",
        cohort=None,
        school="School of Clinical Medicine",
        name="Arjun Raghavan",
        must_change=True,
        password=None,
        **details,
    ) -> Student:
        cohort = cohort or db.session.scalar(select(Cohort).where(Cohort.code == "UG2011")) or make_cohort()
        account = Account(
            username=student_id,
            role=Role.STUDENT,
            display_name=name,
            initial_password_digest=accounts.initial_password_digest(
                student_id, accounts.initial_password(passport_no)
            ),
            must_change_password=must_change,
        )
        if password:
            account.password_hash = accounts.hash_password(password)
            account.initial_password_digest = None
        student = Student(
            account=account, student_id=student_id, name=name, cohort=cohort, school=school_named(school), **details
        )
        db.session.add(student)
        db.session.commit()
        return student

    return build


@pytest.fixture
def make_account(app):
    def build(
        username="library", role=Role.STAFF, office_code="LIB", school=None, password="staff-password", **extra
    ) -> Account:
        account = Account(
            username=username,
            role=role,
            office=office(office_code) if office_code else None,
            school=school_named(school) if school else None,
            password_hash=accounts.hash_password(password),
            **extra,
        )
        db.session.add(account)
        db.session.commit()
        return account

    return build


@pytest.fixture
def admin(make_account):
    return make_account("admin", role=Role.ADMIN, office_code=None)


@pytest.fixture
def admin_client(client, admin):
    """A client logged in as the admin."""
    log_in(client, admin)
    return client


def log_in(client, account: Account) -> None:
    """Log in without the form (the form itself is tested in test_auth): a login session and its cookie."""
    token = login_sessions.start(account)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True


def audit_count(action: str | None = None, *, by_people: bool = False) -> int:
    """How many audit events (of one action); `by_people` leaves out the system's (automatic steps)."""
    query = select(func.count()).select_from(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if by_people:
        query = query.where(AuditEvent.actor_id.is_not(None))
    return db.session.scalar(query)


def make_cohort_step(office_: Office, title: str, cohorts: list[Cohort], mode=StepMode.STAFF, commit=True) -> Step:
    """A further step of an office, for some cohorts (none: all)."""
    new = Step(office=office_, title_en=title, mode=mode, position=100, cohorts=cohorts)
    db.session.add(new)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return new


def pytest_sessionstart(session) -> None:
    """Compile the catalogues as `make` does, so `pytest` alone serves both languages too."""
    import subprocess
    import sys
    from pathlib import Path

    pybabel = Path(sys.executable).parent / "pybabel"
    project = Path(__file__).resolve().parent.parent
    subprocess.run(
        [pybabel, "compile", "--directory", "translations", "--domain", "messages"],
        cwd=project,
        check=True,
        capture_output=True,
    )
