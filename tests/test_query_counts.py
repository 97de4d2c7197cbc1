"""No per-student queries: the work on many students issues as many SQL statements for 10 as for 100.

Each test counts the statements sent to the database (an engine listener) for a small and a large
group and prints both (pytest -s shows them). Only the counts are compared, never timings: those
belong in bench/.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

import clearance
from clearance import bulk
from database import db, write_transaction
from models import Account, HoldSource, Step, Student
from tests.conftest import log_in, office

SLACK = 2  # statements a larger group may add, e.g. one more chunk of a bound-parameter list; never per student
SCHOOLS = ("School of Nursing", "School of Pharmacy", "School of Clinical Medicine")


@dataclass
class Statements:
    count: int = 0


@contextmanager
def counting() -> Iterator[Statements]:
    """Count the statements executed on the app's engine inside the block."""
    seen = Statements()

    def count(*_args) -> None:
        seen.count += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def make_group(make_cohort, make_student):
    """Build `size` students, spread over the same schools and cohorts whatever the size; their student IDs."""
    cohorts = [make_cohort("UG2011"), make_cohort("PG2014")]
    made = 0

    def build(size: int) -> list[str]:
        nonlocal made
        numbers = []
        for _ in range(size):
            number = f"3030{made:06d}"
            make_student(
                number, cohort=cohorts[made % 2], school=SCHOOLS[made % 3], name=f"Student {made}", must_change=False
            )
            numbers.append(number)
            made += 1
        return numbers

    return build


def students(numbers: list[str]) -> list[Student]:
    return list(db.session.scalars(select(Student).where(Student.student_id.in_(numbers))))


def report(what: str, counts: dict[int, int]) -> None:
    print(f"\n{what}: " + ", ".join(f"{size} students: {n} statements" for size, n in counts.items()))


def test_clearing_many_costs_the_same_statements_for_10_or_100(app, make_group, make_account):
    library = make_account("library")
    step = office("LIB").steps[0]
    counts = {}
    for size in (10, 100):
        numbers = make_group(size)
        with counting() as statements, write_transaction():
            result = bulk.clear_many(numbers, step, library)
        counts[size] = statements.count
        assert [entry.outcome for entry in result.entries] == [bulk.Outcome.CLEARED] * size
    report("clear_many", counts)
    assert abs(counts[100] - counts[10]) <= SLACK


def test_checklists_cost_the_same_statements_for_5_or_50(app, make_group, make_account):
    library_id = make_account("library").id
    counts = {}
    for size in (5, 50):
        numbers = make_group(size)
        library = db.session.get(Account, library_id)
        with write_transaction():  # something recorded by a person, and holds, to load with the views
            bulk.clear_many(numbers, office("LIB").steps[0], library)
            clearance.place_holds(
                [clearance.NewHold(s.id, "Keys", Decimal("5")) for s in students(numbers)],
                office("DORM"),
                library,
                HoldSource.LIST,
            )
        db.session.remove()  # a fresh session: nothing already loaded spares a query
        group = students(numbers)
        with counting() as statements:
            views = clearance.checklists(group)
        counts[size] = statements.count
        assert len(views) == size and all(len(rows) == 6 for rows in views.values())
    report("checklists", counts)
    assert abs(counts[50] - counts[5]) <= SLACK


def test_the_queue_page_costs_the_same_statements_for_5_or_50(app, client, make_group, make_account):
    library = make_account("library")
    log_in(client, library)
    counts = {}
    for size in (5, 45):  # 5, then 50 in all: one full page
        make_group(size)
        db.session.commit()
        with counting() as statements:
            page = client.get("/staff/").get_data(as_text=True)
        total = db.session.scalar(select(func.count()).select_from(Student))
        counts[total] = statements.count
        assert page.count('class="button small"') == total  # every student listed with a Clear button
    report("GET /staff/", counts)
    assert abs(counts[50] - counts[5]) <= SLACK


# --- Form versions follow many students at once ----------------------------------------------------------


@pytest.fixture
def library_step_only(app):
    """Every standard step but the library card retired: clearing it completes a student."""
    for step in db.session.scalars(select(Step)):
        step.retired = step.office.code != "LIB"
    db.session.commit()
    return office("LIB").steps[0]


def test_completing_many_students_issues_their_forms_in_the_same_statements(
    library_step_only, make_group, make_account
):
    library = make_account("library")
    counts = {}
    for size in (10, 100):
        numbers = make_group(size)
        with counting() as statements, write_transaction():
            bulk.clear_many(numbers, library_step_only, library)
        counts[size] = statements.count
        assert all(clearance.current_form(student) for student in students(numbers))
    report("clear_many, forms issued", counts)
    assert abs(counts[100] - counts[10]) <= SLACK


def test_a_hold_on_many_students_voids_their_forms_in_the_same_statements(library_step_only, make_group, make_account):
    library = make_account("library")
    counts = {}
    for size in (10, 100):
        numbers = make_group(size)
        with write_transaction():
            bulk.clear_many(numbers, library_step_only, library)
        holds = [clearance.NewHold(student.id, "Fees") for student in students(numbers)]
        with counting() as statements, write_transaction():
            clearance.place_holds(holds, office("LIB"), library, HoldSource.LIST)
        counts[size] = statements.count
        assert not any(clearance.current_form(student) for student in students(numbers))
    report("place_holds, forms voided", counts)
    assert abs(counts[100] - counts[10]) <= SLACK
