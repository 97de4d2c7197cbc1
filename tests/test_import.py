"""Importing the student CSV: every refusal with its line number, all or nothing, safe re-imports."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

import accounts
import importing
from database import db, write_transaction
from models import (
    Account,
    ActorKind,
    AuditEvent,
    Hold,
    HoldSource,
    Office,
    Role,
    School,
    StepState,
    StepStatus,
    Student,
)
from tests.conftest import NOW

HEADER = "student_id,name,passport_no,cohort,school,name_zh,programme,nationality,email,library_fees_owed"
GOOD = "1111210101,Arjun Raghavan,E 1234-5678,UG2011,School of Clinical Medicine,,MBBS,India,arjun@example.com,"
SECOND = "1111210102,Sushila Thapa,10293847,UG2011,School of Clinical Medicine,,MBBS,Nepal,,"
TABLES = ("accounts", "students", "holds", "audit_events", "step_statuses", "schools")


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *rows, ""]).encode(encoding)


def counts() -> dict[str, int]:
    return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}  # noqa: S608


def import_bytes(data: bytes, encoding: str = "utf-8") -> importing.ImportResult:
    """Plan and apply in one transaction, as the CLI and the upload do."""
    with write_transaction():
        plan = importing.plan_import(data, encoding)
        assert plan.ok, [str(error) for error in plan.errors]
        return importing.apply_import(plan, None, "test")


def student(student_id: str = "1111210101") -> Student:
    return db.session.scalar(select(Student).where(Student.student_id == student_id))


def cli_import(runner, tmp_path, data: bytes, *options: str):
    path = tmp_path / "students.csv"
    path.write_bytes(data)
    return runner.invoke(args=["import-students", str(path), *options])


# --- Refusals: the message with its line number, and nothing written ------------------

BAD_ROWS = {
    "empty student ID": (",Nobody,E 7654321,UG2011,School of Clinical Medicine,,,,,", "line 3: student_id is empty"),
    "duplicate student ID": (GOOD.replace("Arjun", "Other"), "line 3: student_id 1111210101 is already on line 2"),
    "ID in scientific notation": (
        "1.11121E+11,Sushila Thapa,10293847,UG2011,School of Clinical Medicine,,,,,",
        "line 3: student_id 1.11121E+11 is in scientific notation",
    ),
    "ID with other characters": (
        "1111 210102,Sushila Thapa,10293847,UG2011,School of Clinical Medicine,,,,,",
        "line 3: student_id “1111 210102” may hold only letters, digits and hyphens",
    ),
    "unknown cohort": (SECOND.replace("UG2011", "UG1999"), "line 3: cohort “UG1999” does not exist"),
    "passport under 6 digits": (SECOND.replace("10293847", "AB 12-345"), "line 3: passport_no has fewer than 6 digits"),
    "empty passport": (SECOND.replace("10293847", ""), "line 3: passport_no is empty"),
    "empty name": (SECOND.replace("Sushila Thapa", ""), "line 3: name is empty"),
    "empty school": (SECOND.replace("School of Clinical Medicine", ""), "line 3: school is empty"),
    "amount not a number": (SECOND + "twelve", "line 3: library_fees_owed: “twelve” is not an amount owed"),
    "negative amount": (SECOND + "-5", "line 3: library_fees_owed: “-5” is not an amount owed"),
    "amount with 3 decimals": (SECOND + "1.005", "line 3: library_fees_owed: “1.005” is not an amount owed"),
    "zero amount": (SECOND + "0", "line 3: library_fees_owed: “0” is not an amount owed"),
    "name too long": (SECOND.replace("Sushila Thapa", "S" * 201), "line 3: name is longer than 200 characters"),
    "student ID too long": (SECOND.replace("1111210102", "1" * 33), "line 3: student_id is longer than 32 characters"),
    "bad e-mail": (SECOND.replace("Nepal,,", "Nepal,sushila.example.com,"), "line 3: email “sushila.example.com”"),
    "too many fields": (SECOND + ",extra", "line 3: 11 fields but the header has 10"),
}


@pytest.mark.parametrize("bad_row, message", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_one_bad_row_refuses_the_whole_file_with_its_line_number(runner, tmp_path, make_cohort, bad_row, message):
    make_cohort()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD, bad_row))
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing was imported" in result.output
    assert counts() == before


@pytest.mark.parametrize(
    "header, message",
    [
        ("student_id,name,passport_no,cohort", "line 1: missing required column(s): school"),
        (HEADER + ",phone", "line 1: unknown column(s): phone"),
        (HEADER.replace("email", "name"), "line 1: column(s) named twice: name"),
    ],
    ids=["missing column", "unknown column", "repeated column"],
)
def test_a_bad_header_refuses_the_file_on_line_1(runner, tmp_path, make_cohort, header, message):
    make_cohort()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD + ",", header=header))
    assert result.exit_code != 0
    assert message in result.output
    assert counts() == before


def test_every_bad_row_is_reported_not_just_the_first(make_cohort):
    make_cohort()
    third = SECOND.replace("1111210102", "1111210103").replace("10293847", "12")
    plan = importing.plan_import(csv_bytes(SECOND.replace("UG2011", "X"), GOOD, third))
    assert [str(error)[:7] for error in plan.errors] == ["line 2:", "line 4:"]
    assert not plan.ok


def test_a_plan_with_errors_cannot_be_applied(make_cohort):
    make_cohort()
    before = counts()
    plan = importing.plan_import(csv_bytes(GOOD, SECOND.replace("UG2011", "UG1999")))
    with pytest.raises(ValueError, match="cannot be applied"):
        importing.apply_import(plan, None, "test")
    db.session.rollback()
    assert counts() == before


def test_a_student_id_that_is_a_staff_user_name_is_refused(make_cohort, make_account):
    make_cohort()
    make_account(username="1111210102")
    plan = importing.plan_import(csv_bytes(GOOD, SECOND))
    assert [str(error) for error in plan.errors] == ["line 3: 1111210102 is already a staff account's user name"]


def test_student_ids_differing_only_in_case_are_the_same_user_name(make_cohort, make_account):
    make_cohort()
    make_account(username="library")
    plan = importing.plan_import(
        csv_bytes(
            GOOD.replace("1111210101", "Library"),
            SECOND.replace("1111210102", "ab-1"),
            SECOND.replace("1111210102", "AB-1").replace("10293847", "20293847"),
        )
    )
    assert [str(error) for error in plan.errors] == [
        "line 2: Library is already a staff account's user name",
        "line 4: student_id AB-1 is already on line 3",
    ]


def test_a_failure_while_writing_leaves_nothing_behind(runner, tmp_path, make_cohort):
    make_cohort()
    db.session.scalar(select(Office).where(Office.code == "LIB")).code = "LIBRARY"  # holds cannot be placed
    db.session.commit()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD, SECOND + "12.50"))
    assert isinstance(result.exception, ValueError)
    assert counts() == before


# --- Encodings ---------------------------------------------------------------------------


def test_a_utf8_file_with_a_bom_is_read(make_cohort):
    make_cohort()
    import_bytes(b"\xef\xbb\xbf" + csv_bytes(GOOD))
    assert student().name == "Arjun Raghavan"


GB_ROWS = (GOOD.replace(",,MBBS", ",阿尔君,临床医学"), SECOND.replace(",,MBBS", ",苏希拉,临床医学"))


def test_a_gb18030_file_is_read_when_asked(runner, tmp_path, make_cohort):
    make_cohort()
    result = cli_import(runner, tmp_path, csv_bytes(*GB_ROWS, encoding="gb18030"), "--encoding", "gb18030")
    assert result.exit_code == 0, result.output
    assert (student().name_zh, student().programme) == ("阿尔君", "临床医学")
    assert student("1111210102").name_zh == "苏希拉"


def test_gb18030_bytes_are_refused_as_utf8_with_advice(runner, tmp_path, make_cohort):
    make_cohort()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(*GB_ROWS, encoding="gb18030"))
    assert result.exit_code != 0
    assert "save it from Excel as “CSV UTF-8 (comma delimited)”" in result.output
    assert "gb18030" in result.output
    assert counts() == before


def test_bytes_that_are_not_utf8_are_refused_with_their_line_number(make_cohort):
    make_cohort()
    data = csv_bytes(GOOD, SECOND.replace("Thapa", "Th\xe4pa"), encoding="latin-1")
    with pytest.raises(importing.ImportRefused, match="line 3"):
        importing.plan_import(data)


def test_a_utf16_file_is_refused_with_advice(runner, tmp_path, make_cohort):
    make_cohort()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD, encoding="utf-16"))
    assert result.exit_code != 0
    assert "UTF-16" in result.output and "CSV UTF-8" in result.output
    assert counts() == before


def test_a_quoted_field_over_several_lines_keeps_later_line_numbers_right(make_cohort):
    make_cohort()
    multi_line = SECOND.replace(",MBBS,", ',"MBBS\nClinical Medicine\n(English-taught)",')
    data = csv_bytes(GOOD, multi_line, "1111210103,Tanvir Ahmed,BW 03847,UG2011,School of Pharmacy,,,,,")
    plan = importing.plan_import(data)
    assert [str(error) for error in plan.errors] == [
        "line 6: passport_no has fewer than 6 digits, so no initial password can be made"
    ]


def test_crlf_line_endings_and_blank_lines_keep_line_numbers_right(make_cohort):
    make_cohort()
    data = "\r\n".join([HEADER, GOOD, "", SECOND.replace("UG2011", "UG1999"), ""]).encode()
    assert [error.line for error in importing.plan_import(data).errors] == [4]


# --- What an import writes ----------------------------------------------------------------


def test_an_import_adds_students_with_accounts_that_must_change_their_password(make_cohort):
    make_cohort()
    result = import_bytes(csv_bytes(GOOD, SECOND))
    assert (result.added, result.updated) == (2, 0)
    account = student().account
    assert (account.username, account.role, account.display_name) == ("1111210101", Role.STUDENT, "Arjun Raghavan")
    assert account.must_change_password
    assert accounts.password_matches(account, "345678")
    assert student().school.name == "School of Clinical Medicine"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "student.imported")) == 2


def test_library_fees_owed_place_an_open_library_hold_of_that_amount(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD, SECOND + '"¥1234.50"'))
    hold = db.session.scalar(select(Hold))
    assert (hold.student.student_id, hold.office.code, hold.amount) == ("1111210102", "LIB", Decimal("1234.50"))
    assert hold.is_open and hold.source == HoldSource.IMPORT
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 1


def test_nothing_that_reveals_the_initial_password_is_stored(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    stored = " ".join(
        str(value)
        for table in ("accounts", "students", "audit_events")
        for row in db.session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        for value in row
    )
    for secret in ("E 1234-5678", "12345678", "345678"):
        assert secret not in stored


@pytest.mark.parametrize(
    "passport_no, password",
    [
        ("E 1234-5678", "345678"),
        ("18AB62947", "862947"),
        ("123456", "123456"),
        ("G 12 34 56 78 90", "567890"),
        ("P-0012345", "012345"),
    ],
)
def test_the_initial_password_is_the_last_6_digits_of_the_passport(make_cohort, passport_no, password):
    make_cohort()
    assert accounts.initial_password(passport_no) == password
    import_bytes(csv_bytes(GOOD.replace("E 1234-5678", passport_no)))
    assert accounts.password_matches(student().account, password)


@pytest.mark.parametrize("passport_no", ["", "AB", "E 12345", "12-34-5"])
def test_a_passport_with_under_6_digits_gives_no_initial_password(passport_no):
    assert accounts.initial_password(passport_no) is None


# --- Importing again ------------------------------------------------------------------------


def test_reimport_updates_details_and_keeps_progress_and_absent_students(make_cohort, make_account):
    make_cohort()
    staff = make_account(username="housing", office_code="DORM")
    import_bytes(csv_bytes(GOOD, SECOND))
    dorm_step = db.session.scalar(select(Office).where(Office.code == "DORM")).steps[0]
    db.session.add(
        StepStatus(
            student=student(), step=dorm_step, state=StepState.CLEARED, actor_kind=ActorKind.STAFF, actor_id=staff.id
        )
    )
    db.session.commit()
    result = import_bytes(csv_bytes(GOOD.replace("Arjun Raghavan", "Arjun R. Raghavan")))
    assert (result.added, result.updated) == (0, 1)
    assert (student().name, student().account.display_name) == ("Arjun R. Raghavan", "Arjun R. Raghavan")
    assert student("1111210102") is not None
    status = db.session.scalar(select(StepStatus).where(StepStatus.step_id == dorm_step.id))
    assert (status.student_id, status.state) == (student().id, StepState.CLEARED)


def test_reimport_of_the_same_file_changes_nothing(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD, SECOND + "9.90"))
    before = counts()
    result = import_bytes(csv_bytes(GOOD, SECOND + "9.90"))
    assert (result.added, result.updated, result.unchanged, result.holds_placed) == (0, 0, 2, 0)
    assert counts() == before


def test_reimport_does_not_place_again_a_hold_that_staff_released(runner, tmp_path, make_cohort, make_account):
    make_cohort()
    staff = make_account()
    data = csv_bytes(GOOD, SECOND + "35.50")
    import_bytes(data)
    hold = db.session.scalar(select(Hold))
    hold.released_at, hold.released_by_id, hold.release_reason = NOW.replace(tzinfo=None), staff.id, "paid"
    db.session.commit()
    result = cli_import(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "line 3: library hold for 1111210102 was released by staff; not placed again" in result.output
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 1
    assert db.session.scalar(select(Hold)).released_by_id == staff.id


def test_reimport_with_a_new_passport_changes_the_initial_password(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    result = import_bytes(csv_bytes(GOOD.replace("E 1234-5678", "K 9876-5432")))
    assert result.updated == 1
    account = db.session.scalar(select(Account).where(Account.username == "1111210101"))
    assert accounts.password_matches(account, "765432")
    assert not accounts.password_matches(account, "345678")


def test_reimport_with_a_new_passport_keeps_a_password_already_chosen(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    accounts.change_password(student().account, "chosen-password")
    db.session.commit()
    import_bytes(csv_bytes(GOOD.replace("E 1234-5678", "K 9876-5432")))
    assert accounts.password_matches(student().account, "chosen-password")
    assert not accounts.password_matches(student().account, "765432")


def test_reimport_can_move_a_student_to_a_new_school(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    plan = importing.plan_import(csv_bytes(GOOD.replace("Clinical Medicine", "Nursing")))
    assert plan.new_schools == ["School of Nursing"]
    import_bytes(csv_bytes(GOOD.replace("Clinical Medicine", "Nursing")))
    assert student().school.name == "School of Nursing"
    assert db.session.scalar(select(func.count()).select_from(School)) == 2


# --- Automatic steps ----------------------------------------------------------------------


def fin_state(student_id: str) -> tuple[StepState, ActorKind] | None:
    fin_step = db.session.scalar(select(Office).where(Office.code == "FIN")).steps[0]
    status = db.session.scalar(
        select(StepStatus).where(StepStatus.step_id == fin_step.id, StepStatus.student_id == student(student_id).id)
    )
    return (status.state, status.actor_kind) if status else None


def place_fin_hold(held: Student) -> Hold:
    fin = db.session.scalar(select(Office).where(Office.code == "FIN"))
    hold = Hold(student=held, office=fin, reason="Tuition unpaid", source=HoldSource.STAFF)
    db.session.add(hold)
    db.session.commit()
    return hold


def test_import_clears_the_fin_step_of_students_without_an_open_fin_hold(runner, tmp_path, make_student):
    place_fin_hold(make_student(student_id="1111210102", name="Sushila Thapa", programme="MBBS"))
    result = cli_import(runner, tmp_path, csv_bytes(GOOD + "20", SECOND))
    assert result.exit_code == 0, result.output
    assert fin_state("1111210101") == (StepState.CLEARED, ActorKind.SYSTEM)  # a library hold does not block FIN
    # Cleared by the system when the student was added, returned to pending by the hold, not cleared again.
    assert fin_state("1111210102") == (StepState.PENDING, ActorKind.SYSTEM)


def test_reimport_clears_the_fin_step_of_unchanged_students_too(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    db.session.execute(text("DELETE FROM step_statuses"))  # as if FIN had just been made automatic
    db.session.commit()
    import_bytes(csv_bytes(GOOD))
    assert fin_state("1111210101") == (StepState.CLEARED, ActorKind.SYSTEM)


# --- Dry run --------------------------------------------------------------------------------


def test_dry_run_reports_what_would_change_and_writes_nothing(runner, tmp_path, make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD))
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD.replace("India", "Nepal"), SECOND + "5"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 to add, 1 to update, 0 unchanged, 0 lines refused; 1 library hold to place" in result.output
    assert "Dry run: nothing was written." in result.output
    assert counts() == before
    assert student().nationality == "India"


def test_dry_run_reports_refused_rows_and_writes_nothing(runner, tmp_path, make_cohort):
    make_cohort()
    before = counts()
    result = cli_import(runner, tmp_path, csv_bytes(GOOD, SECOND.replace("UG2011", "UG1999")), "--dry-run")
    assert result.exit_code != 0
    assert "1 to add, 0 to update, 0 unchanged, 1 line refused" in result.output
    assert "line 3: cohort “UG1999” does not exist" in result.output
    assert counts() == before


# --- Size -------------------------------------------------------------------------------------


def test_a_few_hundred_generated_students_import_with_their_holds(make_cohort):
    # The timing at 20,000 rows is a benchmark: bench/import_students.py.
    make_cohort()
    rows = [
        f"{2020000000 + n},Student {n},P {n:08d},UG2011,School {n % 12},,,,,{'12.50' if n % 10 == 0 else ''}"
        for n in range(300)
    ]
    before = counts()
    result = import_bytes(csv_bytes(*rows))
    assert (result.added, result.updated, result.holds_placed) == (300, 0, 30)
    added = {table: count - before[table] for table, count in counts().items()}
    assert added["students"] == added["accounts"] == 300
    assert (added["schools"], added["holds"]) == (12, 30)
    owed = student("2020000290").holds
    assert [(hold.amount, hold.source, hold.is_open) for hold in owed] == [(Decimal("12.50"), HoldSource.IMPORT, True)]
    assert student("2020000291").holds == []


def test_a_fee_hold_from_a_reimport_reopens_a_cleared_library_card(make_cohort, make_account):
    import clearance

    make_cohort()
    import_bytes(csv_bytes(GOOD))
    arjun = student()
    library_step = db.session.scalar(select(Office).where(Office.code == "LIB")).steps[0]
    with write_transaction():
        clearance.clear_step(arjun, library_step, arjun.account)
    import_bytes(csv_bytes(GOOD + "12.50"))
    assert clearance.step_view(arjun, library_step).shown == "blocked"
    hold = db.session.scalar(select(Hold).where(Hold.student_id == arjun.id))
    with write_transaction():
        clearance.release_hold(hold, make_account("library"), "Paid")
    assert clearance.step_view(arjun, library_step).shown == "pending"  # not the clearance from before the hold


def test_an_id_differing_only_in_case_from_an_existing_student_is_refused(make_cohort):
    make_cohort()
    import_bytes(csv_bytes(GOOD.replace("1111210101", "AB-101")))
    plan = importing.plan_import(csv_bytes(GOOD.replace("1111210101", "ab-101")))
    assert [str(error) for error in plan.errors] == [
        "line 2: student_id ab-101 differs only in case from the existing student AB-101: use the same spelling"
    ]
