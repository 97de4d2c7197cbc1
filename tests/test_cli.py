"""The command-line tasks: init-db, create-cohort, create-user, import-students."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, text

import accounts
import clearance
import seeding
from app import create_app
from clock import today
from database import db
from models import Account, AuditEvent, Cohort, CohortKind, Office, Role, School, Student
from tests.conftest import TEST_KEYS

COMMANDS = ("init-db", "create-cohort", "import-students", "create-user")
TABLES = ("offices", "steps", "cohorts", "schools", "accounts", "students", "holds", "step_statuses", "audit_events")


def counts() -> dict[str, int]:
    return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}  # noqa: S608


def cohort(code: str = "PG2014") -> Cohort | None:
    return db.session.scalar(select(Cohort).where(Cohort.code == code))


def account(username: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.username == username))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(runner, command):
    result = runner.invoke(args=[command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output and command in result.output


def test_import_help_names_its_options(runner):
    output = runner.invoke(args=["import-students", "--help"]).output
    assert "--dry-run" in output and "--encoding [utf-8|gb18030]" in output


# --- init-db -----------------------------------------------------------------------------


@pytest.fixture
def fresh_app(tmp_path, clock):
    """An app on an empty database file, for init-db (whose migrations build the schema)."""
    fresh = create_app(
        {
            **TEST_KEYS,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "NOW": clock,
        }
    )
    with restored_logging(), fresh.app_context():
        yield fresh
        db.session.remove()
        db.engine.dispose()


@contextmanager
def restored_logging() -> Iterator[None]:
    """Undo Alembic's logging setup (it disables every other logger), so later tests see logs as usual."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    disabled = {
        name: logger.disabled
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        root.handlers[:], root.level = handlers, level
        for name, was_disabled in disabled.items():
            logging.getLogger(name).disabled = was_disabled


def test_init_db_creates_the_schema_and_standard_offices_and_is_safe_twice(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "Database ready. Added: office LIB" in first.output
    after_first = counts()
    assert set(db.session.scalars(select(Office.code))) == {"LIB", "DORM", "FIN", "CARD", "INTL", "SCHOOL"}
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == "Database ready."  # nothing added
    assert counts() == after_first


def test_init_db_demo_adds_students_open_cohorts_and_logins_and_is_safe_twice(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    assert "Demo: 40 students added, 0 updated." in result.output
    assert db.session.scalar(select(func.count()).select_from(Student)) == 40
    cohorts = db.session.scalars(select(Cohort)).all()
    assert sorted(c.code for c in cohorts) == ["NDCI", "NDLONG", "NDSHORT", "PG2014", "UG2011"]
    assert all(c.opens_on <= today() <= c.closes_on for c in cohorts)
    for username, *_ in seeding.DEMO_ACCOUNTS:
        assert accounts.password_matches(account(username), f"{username}-demo"), username
        assert f"  {username} " in result.output
    after_first = counts()
    again = runner.invoke(args=["init-db", "--demo"])
    assert again.exit_code == 0, again.output
    assert "Demo: 0 students added, 0 updated." in again.output
    assert counts() == after_first


def test_init_db_demo_students_log_in_with_their_passport_digits(fresh_app):
    fresh_app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert accounts.password_matches(account("1111210101"), "817263")  # passport J 4817263


def test_init_db_demo_gives_every_student_a_real_certificate_place(fresh_app):
    """Each demo student's form names a place one can find: their cohort's, else their school's office and room."""
    fresh_app.test_cli_runner().invoke(args=["init-db", "--demo"])
    for student in db.session.scalars(select(Student)):
        place = clearance.certificate_place(student)
        assert "room" in place and "Your school" not in place, (student.student_id, place)


def test_init_db_demo_replaces_the_old_demo_place(fresh_app):
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db", "--demo"])
    old = db.session.scalar(select(Cohort).where(Cohort.code == "UG2011"))
    old.certificate_place = seeding.OLD_DEMO_PLACE  # as older versions made it
    db.session.commit()
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    db.session.refresh(old)
    assert old.certificate_place == "" and clearance.certificate_place(old.students[0]).endswith("(Chashan campus)")


# --- create-cohort ---------------------------------------------------------------------------

COHORT = [
    "create-cohort",
    "PG2014",
    "--name-en",
    "2014 postgraduates",
    "--name-zh",
    "2014级研究生",
    "--opens",
    "2026-06-20",
    "--closes",
    "2026-07-03",
]


@pytest.mark.parametrize(
    "kind, documents",
    [
        ("degree", "Graduation certificate and degree certificate"),
        ("non-degree", "Certificate of completion"),
    ],
)
def test_create_cohort_takes_its_documents_from_the_kind(runner, kind, documents):
    result = runner.invoke(args=[*COHORT, "--kind", kind])
    assert result.exit_code == 0, result.output
    assert "Cohort PG2014 created: window 2026-06-20 to 2026-07-03." in result.output
    created = cohort()
    assert (created.kind, created.documents) == (CohortKind(kind), documents)
    assert (created.opens_on, created.closes_on) == (date(2026, 6, 20), date(2026, 7, 3))
    assert created.name_zh == "2014级研究生"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort.created")).subject == "PG2014"


def test_create_cohort_keeps_the_certificate_details_given(runner):
    result = runner.invoke(
        args=[
            *COHORT,
            "--kind",
            "degree",
            "--certificate-day",
            "2026-06-30",
            "--certificate-hours",
            "09:00-12:00",
            "--certificate-place",
            "Room 105",
            "--documents",
            "Degree certificate only",
        ]
    )
    assert result.exit_code == 0, result.output
    created = cohort()
    assert (created.certificate_day, created.certificate_hours, created.certificate_place, created.documents) == (
        date(2026, 6, 30),
        "09:00-12:00",
        "Room 105",
        "Degree certificate only",
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (["--closes", "2026-06-19"], "The window closes before it opens"),
        (["--opens", "20/06/2026"], "“20/06/2026” is not a date in the form YYYY-MM-DD"),
        (["--kind", "diploma"], "'diploma' is not one of 'degree', 'non-degree'"),
    ],
    ids=["closes before it opens", "bad date", "unknown kind"],
)
def test_create_cohort_refuses_bad_options_and_writes_nothing(runner, change, message):
    before = counts()
    result = runner.invoke(args=[*COHORT, "--kind", "degree", *change])
    assert result.exit_code != 0
    assert message in result.output
    assert counts() == before


def test_create_cohort_lists_every_problem_at_once_like_the_admin_page(runner):
    before = counts()
    result = runner.invoke(
        args=[
            *COHORT,
            "--kind",
            "degree",
            "--closes",
            "2026-06-10",
            "--certificate-day",
            "2026-06-01",
            "--certificate-hours",
            "16:00-08:30",
        ]
    )
    assert result.exit_code != 0
    assert "The window closes before it opens." in result.output
    assert "The certificate day (2026-06-01) comes before the window opens (2026-06-20)." in result.output
    assert "The certificate hours must end after they start (16:00-08:30)." in result.output
    assert "Error: the cohort was not created: 3 problems" in result.output
    assert counts() == before


def test_create_cohort_refuses_hours_that_are_not_hours(runner):
    result = runner.invoke(args=[*COHORT, "--kind", "degree", "--certificate-hours", "all day"])
    assert result.exit_code != 0
    assert "Write the certificate hours like 08:30-16:00." in result.output
    assert "the cohort was not created: 1 problem" in result.output


def test_create_cohort_refuses_a_code_that_exists(runner, make_cohort):
    make_cohort(code="PG2014")
    before = counts()
    result = runner.invoke(args=[*COHORT, "--kind", "degree"])
    assert result.exit_code != 0
    assert "A cohort with this code already exists" in result.output
    assert counts() == before


# --- create-user -------------------------------------------------------------------------------


def test_create_user_makes_a_staff_account_of_an_office_and_school(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "clinical",
            "--role",
            "staff",
            "--office",
            "school",
            "--school",
            "School of Clinical Medicine",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Account clinical (staff) created." in result.output
    created = account("clinical")
    assert (created.role, created.office.code, created.school.name) == (
        Role.STAFF,
        "SCHOOL",
        "School of Clinical Medicine",
    )
    assert accounts.password_matches(created, "long-enough-pw")
    assert "long-enough-pw" not in created.password_hash


def test_create_user_asks_for_the_password_twice_when_not_given(runner):
    result = runner.invoke(args=["create-user", "desk", "--role", "desk"], input="long-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 0, result.output
    assert accounts.password_matches(account("desk"), "long-enough-pw")


PASSWORD = ["--password", "long-enough-pw"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "staff", *PASSWORD], "A staff account needs an office."),
        (["--role", "staff", "--office", "GYM", *PASSWORD], "no office “GYM”"),
        (["--role", "admin", "--office", "LIB", *PASSWORD], "An admin works for every office and school"),
        (["--role", "student", *PASSWORD], "'student' is not one of 'staff', 'desk', 'admin'"),
        (["--role", "desk", "--school", "School of Nursing", "--password", "short"], "at least 8 characters"),
    ],
    ids=["staff without office", "unknown office", "admin with office", "student", "short password"],
)
def test_create_user_refuses_and_writes_nothing(runner, args, message):
    before = counts()
    result = runner.invoke(args=["create-user", "someone", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert counts() == before
    assert db.session.scalar(select(School).where(School.name == "School of Nursing")) is None


def test_create_user_refuses_a_bad_user_name(runner):
    result = runner.invoke(args=["create-user", "a b", "--role", "desk", *PASSWORD])
    assert result.exit_code != 0
    assert "A user name is 2 to 64 letters" in result.output
    assert account("a b") is None


def test_create_user_refuses_a_user_name_taken_in_any_case(runner, make_account):
    make_account(username="library")
    before = counts()
    result = runner.invoke(args=["create-user", "Library", "--role", "admin", *PASSWORD])
    assert result.exit_code != 0
    assert "The user name “Library” is already taken" in result.output
    assert counts() == before


# --- import-students ---------------------------------------------------------------------------


HEADER = "student_id,name,passport_no,cohort,school,library_fees_owed"


def test_import_students_reports_what_it_did(runner, tmp_path, make_cohort):
    make_cohort()
    path = tmp_path / "students.csv"
    path.write_text(f"{HEADER}\n1111210101,Arjun Raghavan,J 4817263,UG2011,School of Nursing,12.50\n", encoding="utf-8")
    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "1 to add, 0 to update, 0 unchanged, 0 lines refused; 1 library hold to place; new schools: School of Nursing"
    ) in result.output
    assert "Imported: 1 added, 0 updated, 1 hold placed." in result.output


def test_import_students_refuses_a_file_with_a_bad_row_and_exits_non_zero(runner, tmp_path, make_cohort):
    make_cohort()
    path = tmp_path / "students.csv"
    path.write_text(f"{HEADER}\n1111210101,Arjun Raghavan,J 48,UG2011,School of Nursing,\n", encoding="utf-8")
    before = counts()
    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 1
    assert "line 2: passport_no has fewer than 6 digits" in result.output
    assert "Error: the file was refused: 1 error; nothing was imported" in result.output
    assert counts() == before


def test_import_students_refuses_an_unknown_encoding_or_a_missing_file(runner, tmp_path):
    path = tmp_path / "students.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    latin = runner.invoke(args=["import-students", str(path), "--encoding", "latin-1"])
    assert latin.exit_code == 2 and "'latin-1' is not one of 'utf-8', 'gb18030'" in latin.output
    missing = runner.invoke(args=["import-students", str(tmp_path / "nowhere.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_import_students_refuses_an_empty_file(runner, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 1
    assert "the file is empty" in result.output
