"""The unit of work (clearance/settle.py): whatever a transaction changed is settled before it commits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import clearance
from clearance import settle
from clearance.setup import save_step
from database import db, write_transaction
from models import Hold, HoldSource, Office, Role, StepMode, StepState, StepStatus
from tests.conftest import office
from tests.test_rules import clear_all, shown, step
from wording import read


@pytest.fixture
def student(make_student):
    return make_student()


@pytest.fixture
def staff(make_account):
    """One staff account per standard office, by code."""
    return {code: make_account(code.lower(), office_code=code) for code in ("LIB", "DORM", "CARD", "INTL", "SCHOOL")}


def test_a_hold_added_any_way_reopens_the_cleared_step_and_voids_the_form(student, staff):
    clear_all(student, staff)
    assert clearance.current_form(student) is not None
    db.session.add(Hold(student_id=student.id, office_id=office("DORM").id, reason="Keys", source=HoldSource.STAFF))
    db.session.commit()  # no writer of clearance/ was called: the flush hook noticed the hold
    status = db.session.scalar(
        select(StepStatus).where(StepStatus.student_id == student.id, StepStatus.step_id == step("DORM").id)
    )
    assert status.state == StepState.PENDING and shown(student, "DORM") == "blocked"
    assert clearance.current_form(student) is None


def test_a_step_moved_to_an_office_that_holds_something_voids_the_form(student, staff):
    clear_all(student, staff)
    gym = Office(code="GYM", name_en="Sports centre")
    db.session.add(gym)
    db.session.commit()
    with write_transaction():  # an office with no step yet: holding something there blocks nothing
        clearance.place_hold(student, gym, None, "Locker key", None)
    assert clearance.current_form(student) is not None
    step("DORM").office_id = gym.id  # an ORM edit of the step's office, outside save_step
    db.session.commit()
    assert clearance.current_form(student) is None


def test_a_settle_that_failed_is_tried_again_by_the_next_commit(student, staff, monkeypatch):
    clear_all(student, staff)
    real = settle.settle
    calls = []

    def fail_once(reasons):
        calls.append(sorted(reasons))
        if len(calls) == 1:
            raise RuntimeError("disk full")
        real(reasons)

    monkeypatch.setattr(settle, "settle", fail_once)
    clearance.reopen_step(student, step("DORM"), staff["DORM"], "Key not returned")
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.commit()  # the marks were kept: this commit settles
    assert calls == [[student.id], [student.id]]
    assert clearance.current_form(student) is None


def test_a_rolled_back_change_settles_nothing(student, staff):
    clear_all(student, staff)
    serial = clearance.current_form(student).serial
    with pytest.raises(RuntimeError), write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Oops")
        raise RuntimeError("the person's request failed half-way")
    db.session.commit()
    assert clearance.current_form(student).serial == serial
    assert settle.PENDING not in db.session.info


def test_the_void_reason_says_what_happened(student, staff):
    clear_all(student, staff)
    with write_transaction():
        clearance.reopen_step(student, step("DORM"), staff["DORM"], "Key not returned")
    form = db.session.scalars(select(clearance.forms.FormVersion)).one()
    assert read(form.void_reason) == "step Check out of student housing reopened: Key not returned"


def test_a_new_step_for_one_cohort_settles_only_that_cohort(make_cohort, make_student, make_account, monkeypatch):
    a, b = make_cohort("UG2011"), make_cohort("PG2014")
    in_a = make_student("1111210101", cohort=a)
    make_student("2222210101", cohort=b)
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    settled = []
    real = settle.settle
    monkeypatch.setattr(settle, "settle", lambda reasons: (settled.append(sorted(reasons)), real(reasons)))
    values = {
        "office_id": office("INTL").id,
        "title_en": "Exit survey",
        "title_zh": "",
        "instructions": "",
        "what_to_bring": "",
        "position": 100,
        "mode": StepMode.STAFF,
    }
    with write_transaction():
        save_step(None, values, [a], [], False, admin)
    assert settled == [[in_a.id]]
