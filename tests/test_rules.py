"""The rules of clearance.py, one by one, without pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

import clearance
from database import db, write_transaction
from models import FormVersion, Role, Step, StepMode, StepState
from tests.conftest import audit_count, make_cohort_step, office
from wording import read


def step(code: str) -> Step:
    return office(code).steps[0]


def shown(student, code: str) -> clearance.Shown:
    return clearance.step_view(student, step(code)).shown


@pytest.fixture
def student(make_student):
    return make_student()


@pytest.fixture
def staff(make_account):
    """One staff account per standard office, by code."""
    return {
        code: make_account(code.lower(), office_code=code) for code in ("LIB", "DORM", "FIN", "CARD", "INTL", "SCHOOL")
    }


def clear_all(student, staff) -> None:
    """Clear every step the way the offices would: library by the student, the rest by staff."""
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, step("LIB"), student.account)
        for code in ("DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, step(code), staff[code])


def current_serial(student) -> str | None:
    form = clearance.current_form(student)
    return form.serial if form else None


# --- Modes ------------------------------------------------------------------------


def test_a_student_clears_a_self_service_step_recorded_as_by_the_student(student):
    with write_transaction():
        assert clearance.clear_step(student, step("LIB"), student.account)
    view = clearance.step_view(student, step("LIB"))
    assert view.shown == "cleared" and view.cleared_by_kind == "student"
    assert audit_count("step.cleared", by_people=True) == 1


def test_clearing_twice_changes_once(student):
    with write_transaction():
        clearance.clear_step(student, step("LIB"), student.account)
    with write_transaction():
        assert clearance.clear_step(student, step("LIB"), student.account) is False
    assert audit_count("step.cleared", by_people=True) == 1


def test_office_staff_may_clear_a_self_service_step_too(student, staff):
    with write_transaction():
        clearance.clear_step(student, step("LIB"), staff["LIB"])
    assert clearance.step_view(student, step("LIB")).cleared_by_kind == "staff"


def test_a_student_cannot_clear_a_staff_step(student):
    with pytest.raises(clearance.Refused, match="Only the office"), write_transaction():
        clearance.clear_step(student, step("DORM"), student.account)
    assert shown(student, "DORM") == "pending"


def test_a_student_cannot_clear_another_students_step(student, make_student):
    other = make_student(student_id="1111210199")
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.clear_step(student, step("LIB"), other.account)
    assert shown(student, "LIB") == "pending"


def test_staff_of_another_office_cannot_clear(student, staff):
    with pytest.raises(clearance.Refused, match="does not act for this office"), write_transaction():
        clearance.clear_step(student, step("DORM"), staff["LIB"])
    assert shown(student, "DORM") == "pending"


def test_an_admin_may_clear_for_any_office(student, make_account):
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    with write_transaction():
        clearance.clear_step(student, step("DORM"), admin)
    assert shown(student, "DORM") == "cleared"


def test_a_desk_account_that_names_an_office_clears_its_steps(student, make_account):
    desk = make_account("desk-housing", role=Role.DESK, office_code="DORM")
    plain_desk = make_account("desk", role=Role.DESK, office_code=None)
    with write_transaction():
        clearance.clear_step(student, step("DORM"), desk)
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.clear_step(student, step("CARD"), plain_desk)
    assert shown(student, "DORM") == "cleared" and shown(student, "CARD") == "pending"


def test_the_system_clears_an_automatic_step_when_nothing_is_held(student):
    with write_transaction():
        clearance.refresh_students([student.id])
    view = clearance.step_view(student, step("FIN"))
    assert view.shown == "cleared" and view.cleared_by_kind == "system"


def test_staff_cannot_clear_an_automatic_step_by_hand(student, staff):
    with pytest.raises(clearance.Refused, match="system clears"), write_transaction():
        clearance.clear_step(student, step("FIN"), staff["FIN"])


# --- Holds ------------------------------------------------------------------------


def test_a_hold_blocks_the_step_and_refuses_self_service(student, staff):
    with write_transaction():
        clearance.place_hold(student, office("LIB"), staff["LIB"], "Library fees owed", Decimal("35.50"))
    assert shown(student, "LIB") == "blocked"
    with pytest.raises(clearance.Refused, match=r"35\.50"), write_transaction():
        clearance.clear_step(student, step("LIB"), student.account)
    assert shown(student, "LIB") == "blocked"


def test_a_hold_blocks_a_step_already_cleared_and_release_returns_it_to_pending(student, staff):
    with write_transaction():
        clearance.clear_step(student, step("LIB"), student.account)
    with write_transaction():
        hold = clearance.place_hold(student, office("LIB"), staff["LIB"], "Overdue book found", None)
    assert shown(student, "LIB") == "blocked"
    with write_transaction():
        clearance.release_hold(hold, staff["LIB"], "Book returned")
    assert shown(student, "LIB") == "pending"
    with write_transaction():
        clearance.clear_step(student, step("LIB"), student.account)
    assert shown(student, "LIB") == "cleared"


def test_releasing_the_last_hold_clears_an_automatic_step_again(student, staff):
    with write_transaction():
        clearance.refresh_students([student.id])
        first = clearance.place_hold(student, office("FIN"), staff["FIN"], "Tuition", Decimal(1000))
        second = clearance.place_hold(student, office("FIN"), staff["FIN"], "Accommodation", Decimal(200))
    assert shown(student, "FIN") == "blocked"
    with write_transaction():
        clearance.release_hold(first, staff["FIN"], "Paid")
    assert shown(student, "FIN") == "blocked"
    with write_transaction():
        clearance.release_hold(second, staff["FIN"], "Paid")
    view = clearance.step_view(student, step("FIN"))
    assert view.shown == "cleared" and view.cleared_by_kind == "system"


def test_holds_need_a_reason_and_a_release_happens_once(student, staff):
    with pytest.raises(clearance.Refused, match="reason"), write_transaction():
        clearance.place_hold(student, office("LIB"), staff["LIB"], "  ", None)
    with write_transaction():
        hold = clearance.place_hold(student, office("LIB"), staff["LIB"], "Fees", Decimal(5))
    with write_transaction():
        clearance.release_hold(hold, staff["LIB"], "Paid")
    with pytest.raises(clearance.Refused, match="already released"), write_transaction():
        clearance.release_hold(hold, staff["LIB"], "Paid again")
    assert audit_count("hold.released") == 1


def test_another_office_cannot_place_or_release_a_hold(student, staff):
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.place_hold(student, office("LIB"), staff["DORM"], "Fees", None)
    with write_transaction():
        hold = clearance.place_hold(student, office("LIB"), staff["LIB"], "Fees", None)
    with pytest.raises(clearance.Refused), write_transaction():
        clearance.release_hold(hold, staff["DORM"], "Not mine")
    assert hold.released_at is None


# --- Staff blocks and reopening -------------------------------------------------------


def test_a_staff_block_stays_until_reopened(student, staff):
    with write_transaction():
        clearance.block_step(student, step("DORM"), staff["DORM"], "Room damage to inspect")
    view = clearance.step_view(student, step("DORM"))
    assert view.shown == "blocked" and view.staff_block_reason == "Room damage to inspect"
    with pytest.raises(clearance.Refused, match="reopen it first"), write_transaction():
        clearance.clear_step(student, step("DORM"), staff["DORM"])
    with write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Inspected, fine")
    with write_transaction():
        clearance.clear_step(student, step("DORM"), staff["DORM"])
    assert shown(student, "DORM") == "cleared"


def test_block_and_reopen_need_a_reason(student, staff):
    for change in (clearance.block_step, clearance.reopen_step):
        with pytest.raises(clearance.Refused, match="reason"), write_transaction():
            change(student, step("DORM"), staff["DORM"], "")


def test_reopening_one_step_does_not_reopen_others(student, staff):
    with write_transaction():
        clearance.clear_step(student, step("DORM"), staff["DORM"])
        clearance.clear_step(student, step("CARD"), staff["CARD"])
    with write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Keys missing after all")
    assert shown(student, "DORM") == "pending" and shown(student, "CARD") == "cleared"


def test_an_automatic_step_is_not_reopened_by_hand(student, staff):
    with write_transaction():
        clearance.refresh_students([student.id])
    with pytest.raises(clearance.Refused, match="place a hold"), write_transaction():
        clearance.reopen_step(student, step("FIN"), staff["FIN"], "why not")


def test_reopening_a_blocked_automatic_step_lets_the_system_clear_it(student, staff):
    with write_transaction():
        clearance.block_step(student, step("FIN"), staff["FIN"], "Scholarship paperwork")
    with write_transaction():
        clearance.reopen_step(student, step("FIN"), staff["FIN"], "Paperwork done")
    assert shown(student, "FIN") == "cleared"


# --- Prerequisites and which steps apply -----------------------------------------------


def test_a_step_waits_for_its_prerequisites(student, staff):
    with pytest.raises(clearance.Refused, match="come first"), write_transaction():
        clearance.clear_step(student, step("SCHOOL"), staff["SCHOOL"])
    missing = clearance.step_view(student, step("SCHOOL")).missing_prerequisites
    # FIN is automatic: the system cleared it when the student was added, nothing being held.
    assert {s.office.code for s in missing} == {"LIB", "DORM", "CARD", "INTL"}


def test_a_prerequisite_that_does_not_apply_counts_as_met(student, staff, make_cohort):
    other_cohort = make_cohort("NDSHORT")
    with write_transaction():
        step("DORM").cohorts = [other_cohort]  # housing now only for another cohort
    with write_transaction():
        clearance.refresh_students([student.id])
        clearance.clear_step(student, step("LIB"), student.account)
        for code in ("CARD", "INTL"):
            clearance.clear_step(student, step(code), staff[code])
    assert all(shown(student, code) == "cleared" for code in ("LIB", "FIN", "CARD", "INTL"))
    with write_transaction():
        assert clearance.clear_step(student, step("SCHOOL"), staff["SCHOOL"])


def test_steps_apply_to_the_cohorts_they_name_or_to_all(student, make_cohort):
    other = make_cohort("NDCI")
    only_other = make_cohort_step(office("INTL"), "Scholarship exit interview", [other])
    titles = [view.step.title_en for view in clearance.checklist(student)]
    assert "Scholarship exit interview" not in titles and "Cancel your library card" in titles
    assert clearance.step_view(student, only_other) is None
    with pytest.raises(clearance.Refused, match="does not apply"), write_transaction():
        clearance.clear_step(student, only_other, student.account)


def test_retired_steps_do_not_apply(student):
    with write_transaction():
        step("CARD").retired = True
    assert "Return your campus card" not in [v.step.title_en for v in clearance.checklist(student)]


def test_the_next_step_is_the_first_one_ready(student, staff):
    assert clearance.next_step(clearance.checklist(student)).step.office.code == "LIB"
    with write_transaction():
        clearance.clear_step(student, step("LIB"), student.account)
    assert clearance.next_step(clearance.checklist(student)).step.office.code == "DORM"


# --- The form version (rule 5) -------------------------------------------------------


def test_a_form_version_is_issued_when_the_last_step_clears(student, staff):
    assert current_serial(student) is None
    clear_all(student, staff)
    serial = current_serial(student)
    assert serial and serial.startswith("LS2026-")
    assert audit_count("form.issued") == 1


def test_nothing_else_changes_the_serial(student, staff):
    clear_all(student, staff)
    serial = current_serial(student)
    with write_transaction():
        clearance.recheck_forms([student.id], None, "again")
    assert current_serial(student) == serial
    assert db.session.scalar(select(FormVersion).where(FormVersion.student_id == student.id)).serial == serial


def test_reopening_a_step_voids_the_form_and_clearing_again_issues_a_new_one(student, staff):
    clear_all(student, staff)
    first = current_serial(student)
    with write_transaction():
        clearance.reopen_step(student, step("CARD"), staff["CARD"], "Card not returned after all")
    assert current_serial(student) is None
    voided = db.session.scalar(select(FormVersion).where(FormVersion.serial == first))
    assert voided.voided_at is not None and "Card not returned" in read(voided.void_reason)
    with write_transaction():
        clearance.clear_step(student, step("CARD"), staff["CARD"])
    assert current_serial(student) not in (None, first)


def test_a_hold_voids_the_form(student, staff):
    clear_all(student, staff)
    with write_transaction():
        clearance.place_hold(student, office("FIN"), staff["FIN"], "Late fee", Decimal(50))
    assert current_serial(student) is None


def test_a_new_step_voids_the_form_when_rechecked(student, staff):
    clear_all(student, staff)
    with write_transaction():
        make_cohort_step(office("INTL"), "Exit survey", [], commit=False)
        clearance.recheck_forms([student.id], None, "step Exit survey added")
    assert current_serial(student) is None


def test_a_student_whose_only_step_is_automatic_is_complete_at_refresh(student, make_student, make_cohort):
    only_finance = make_cohort("AUTO")
    with write_transaction():
        for code in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
            step(code).cohorts = [student.cohort]  # no longer for the AUTO cohort
    newcomer = make_student(student_id="AUTO-1", cohort=only_finance)
    with write_transaction():
        clearance.refresh_students([newcomer.id])
    assert current_serial(newcomer) is not None
    assert clearance.step_view(newcomer, step("FIN")).recorded.state == StepState.CLEARED


def test_modes_are_what_the_standard_offices_say(app):
    assert step("LIB").mode == StepMode.SELF_SERVICE and step("FIN").mode == StepMode.AUTOMATIC
