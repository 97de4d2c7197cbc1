"""The Python rule and its SQL twin agree (clearance/status.py), for every combination of what decides a step.

One database holds students × steps covering every combination of: the step names the student's
cohort, another cohort, or none; it is retired or not; the student's recorded state is nothing,
pending, cleared or blocked; the step's office has an open hold on the student, a released one, or
none; the step's prerequisite is met or not. Every matrix step has an office of its own, so a hold
is on exactly one step; the standard steps are retired, so nothing else applies.

Each twin is compared twice (the `world` fixture's two phases): as written, before the unit of
work settles it (a cleared step under an open hold exists only here), and as committed, when held
steps are reopened and form versions issued.

Prerequisites (`missing_prerequisites`, and the queue's "ready") have a world of their own, `signoff`:
a step that needs one step for everybody (every recorded state and hold), one named for another
cohort only, and a retired one; the last two count as met where they do not apply.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select, true

import clearance
import exporting
from clearance import Shown, statistics
from clock import utcnow
from database import db
from models import (
    Account,
    ActorKind,
    Cohort,
    Hold,
    HoldSource,
    Office,
    Role,
    Step,
    StepMode,
    StepState,
    StepStatus,
    Student,
)

NAMING = ("own cohort", "other cohort", "no cohort")
RETIRED = (False, True)
RECORDED = (None, StepState.PENDING, StepState.CLEARED, StepState.BLOCKED)
HOLDS = ("no hold", "open hold", "released hold")
PREREQUISITE = ("met", "unmet")

# Rule 4, as a table both twins are held to: an open hold blocks whatever is recorded, a released one counts
# for nothing, and nothing recorded is pending. (At commit a cleared step under an open hold is reopened to
# pending; it still shows blocked.)
EXPECTED_SHOWN = {
    (None, "no hold"): Shown.PENDING,
    (None, "open hold"): Shown.BLOCKED,
    (None, "released hold"): Shown.PENDING,
    (StepState.PENDING, "no hold"): Shown.PENDING,
    (StepState.PENDING, "open hold"): Shown.BLOCKED,
    (StepState.PENDING, "released hold"): Shown.PENDING,
    (StepState.CLEARED, "no hold"): Shown.CLEARED,
    (StepState.CLEARED, "open hold"): Shown.BLOCKED,
    (StepState.CLEARED, "released hold"): Shown.CLEARED,
    (StepState.BLOCKED, "no hold"): Shown.BLOCKED,
    (StepState.BLOCKED, "open hold"): Shown.BLOCKED,
    (StepState.BLOCKED, "released hold"): Shown.BLOCKED,
}


@dataclass(frozen=True)
class Case:
    """One (student, step) pair of the matrix: everything that decides whether and how the step shows."""

    naming: str
    retired: bool
    recorded: StepState | None
    hold: str
    prerequisite: str


@dataclass
class World:
    students: list[Student]
    steps: list[Step]  # the matrix steps, then the prerequisite they all name
    admin: Account
    cases: dict[tuple[str, int], Case]  # by (student ID, step id), for the matrix steps
    committed: bool  # False: flushed only, as written, before the unit of work settled it


def _matrix_steps(cohorts: dict[str, Cohort], first: Step) -> list[Step]:
    """A step of its own office for each cohort naming and retirement, each requiring `first`."""
    steps = []
    for n, (named, retired) in enumerate(itertools.product(("A", "B", None), RETIRED)):
        office = Office(code=f"T{n}", name_en=f"Test office {n}")
        title = f"names {named or 'none'}{' (retired)' if retired else ''}"
        steps.append(
            Step(
                office=office,
                title_en=title,
                mode=StepMode.STAFF,
                position=10 + n,
                retired=retired,
                cohorts=[cohorts[named]] if named else [],
                prerequisites=[first],
            )
        )
    return steps


def _record(student: Student, step: Step, recorded: StepState | None, hold: str) -> None:
    """Write a recorded state and a hold directly, as any writer might leave them."""
    if recorded is not None:
        db.session.add(
            StepStatus(
                student_id=student.id,
                step_id=step.id,
                state=recorded,
                actor_kind=ActorKind.STAFF,
                reason="" if recorded == StepState.CLEARED else f"recorded {recorded.value}",
            )
        )
    if hold != "no hold":
        released = hold == "released hold"
        db.session.add(
            Hold(
                student_id=student.id,
                office_id=step.office_id,
                reason="Keys not returned",
                source=HoldSource.STAFF,
                released_at=utcnow() if released else None,
                release_reason="Returned" if released else "",
            )
        )


def _naming(step: Step, student: Student) -> str:
    if not step.cohorts:
        return "no cohort"
    return "own cohort" if step.cohorts[0].id == student.cohort_id else "other cohort"


@pytest.fixture(params=["flushed", "committed"])
def world(request, make_cohort, make_student, make_account) -> World:
    """Students of two cohorts and two schools, one per (recorded, hold, prerequisite), on every matrix step."""
    for step in db.session.scalars(select(Step)):
        step.retired = True  # the standard steps would apply to everyone and are tested elsewhere
    cohorts = {"A": make_cohort("UG2011"), "B": make_cohort("PG2014")}
    first = Step(
        office=Office(code="FIRST", name_en="First office"), title_en="Comes first", mode=StepMode.STAFF, position=1
    )
    steps = _matrix_steps(cohorts, first)
    db.session.add_all([first, *steps])
    db.session.commit()
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    combinations = list(itertools.product(cohorts.values(), RECORDED, HOLDS, PREREQUISITE))
    schools = ("School of Nursing", "School of Pharmacy")
    # make_student commits, and the states must be written after: a commit would settle them.
    students = [
        make_student(f"20260{n:05d}", cohort=cohort, name=f"Student {n}", school=schools[n % 2])
        for n, (cohort, *_rest) in enumerate(combinations)
    ]
    cases = {}
    for student, (_cohort, recorded, hold, prerequisite) in zip(students, combinations, strict=True):
        for step in steps:
            _record(student, step, recorded, hold)
            cases[(student.student_id, step.id)] = Case(
                _naming(step, student), step.retired, recorded, hold, prerequisite
            )
        _record(student, first, StepState.CLEARED if prerequisite == "met" else None, "no hold")
    db.session.flush()
    if request.param == "committed":
        db.session.commit()
    return World(students, [*steps, first], admin, cases, request.param == "committed")


def python_views(world: World) -> dict[str, dict[int, clearance.StepView]]:
    """The checklist of each student (the Python rules), by student ID and step id."""
    return {s.student_id: {view.step.id: view for view in clearance.checklist(s)} for s in world.students}


def label(step: Step) -> str:
    return f"{step.office.code} {step.title_en}"


# --- The matrix itself ---------------------------------------------------------------------------


def test_every_combination_is_present_and_shows_as_the_rules_table_says(world):
    every = {Case(*combination) for combination in itertools.product(NAMING, RETIRED, RECORDED, HOLDS, PREREQUISITE)}
    assert set(world.cases.values()) == every
    views = python_views(world)
    for (number, step_id), case in world.cases.items():
        view = views[number].get(step_id)
        assert (view is not None) == (case.naming != "other cohort" and not case.retired), (number, case)
        if view is not None:
            assert view.shown == EXPECTED_SHOWN[(case.recorded, case.hold)], (number, case)
            unmet = [step.title_en for step in view.missing_prerequisites]
            assert unmet == (["Comes first"] if case.prerequisite == "unmet" else []), (number, case)


# --- Each twin ----------------------------------------------------------------------------------------


def test_checklist_and_step_pairs_show_the_same_steps_the_same_way(world):
    steps = {step.id: label(step) for step in db.session.scalars(select(Step))}
    python = {
        (number, steps[step_id]): str(view.shown)
        for number, views in python_views(world).items()
        for step_id, view in views.items()
    }
    numbers = {s.id: s.student_id for s in world.students}
    sql = {
        (numbers[student_id], steps[step_id]): shown
        for student_id, step_id, shown, _changed_at in db.session.execute(clearance.step_pairs())
    }
    assert python == sql


def queue_shown(step: Step, account: Account, status: str = "") -> dict[str, tuple[str, list[int], bool]]:
    """Every page of the step's queue, in its order: each student's shown status, open holds' ids and readiness."""
    rows, page, pages = {}, 1, 1
    while page <= pages:
        found = clearance.office_queue(step, account, clearance.QueueFilters(status=status, page=page))
        rows.update(
            {s.student_id: (str(view.shown), [h.id for h in view.holds], view.is_ready) for s, view in found.rows}
        )
        page, pages = page + 1, found.pages
    assert len(rows) == found.total
    return rows


def test_each_office_queue_shows_the_checklists_status_and_counts(world):
    views = python_views(world)
    for step in world.steps:
        expected = {
            number: (str(view.shown), [h.id for h in view.holds], view.is_ready)
            for number, by_step in views.items()
            if (view := by_step.get(step.id))
        }
        queue = queue_shown(step, world.admin)
        assert queue == expected, label(step)
        readiness = [ready for _shown, _holds, ready in queue.values()]
        if step.prerequisites:  # ready students first; a step with none is in ID order
            assert readiness == sorted(readiness, reverse=True), label(step)
        else:
            assert list(queue) == sorted(queue), label(step)
        for status in [*Shown, "ready"]:
            wanted = {
                number: row for number, row in expected.items() if (row[2] if status == "ready" else row[0] == status)
            }
            assert queue_shown(step, world.admin, status) == wanted, (label(step), status)
        counts = clearance.queue_counts(step, world.admin)
        python_counts = Counter(shown for shown, _holds, _ready in expected.values())
        python_counts["ready"] = sum(ready for _shown, _holds, ready in expected.values())
        statuses = [*Shown, "ready"]
        assert {status: counts[status] for status in statuses} == {status: python_counts[status] for status in statuses}
        if step.prerequisites and not step.retired:  # the matrix steps in force: both kinds of pending occur
            assert 0 < counts["ready"] < counts[Shown.PENDING], label(step)


def test_missing_prerequisites_in_python_and_in_sql_agree_for_every_pair(world):
    views = python_views(world)
    numbers = {s.id: s.student_id for s in world.students}
    pairs = (
        select(Student.id, Step.id, clearance.missing_prerequisites_clause())
        .select_from(Student)
        .join(Step, clearance.applies_clause())
    )
    sql = {(numbers[sid], step_id): missing for sid, step_id, missing in db.session.execute(pairs) if sid in numbers}
    python = {
        (number, step_id): len(view.missing_prerequisites)
        for number, by_step in views.items()
        for step_id, view in by_step.items()
    }
    assert python == sql
    assert set(python.values()) == {0, 1}


def test_complete_in_python_in_sql_and_by_the_form_version(world):
    views = python_views(world)
    python = {s.student_id: clearance.is_complete(list(views[s.student_id].values())) for s in world.students}
    sql = {s.student_id: clearance.completeness([s.id])[s.id] for s in world.students}
    assert python == sql
    assert set(python.values()) == {True, False}  # both outcomes occur, so the comparison means something
    if world.committed:
        assert {s.student_id: clearance.current_form(s) is not None for s in world.students} == python


def test_statistics_count_what_the_checklists_show(world):
    views = python_views(world)
    total = statistics.total(list(statistics.tallies().values()))
    complete = sum(clearance.is_complete(list(by_step.values())) for by_step in views.values())
    blocked = sum(any(v.shown == Shown.BLOCKED for v in by_step.values()) for by_step in views.values())
    with_form = {s.student_id for s in world.students if clearance.current_form(s) is not None}
    assert (total.students, total.cleared, total.blocked, total.forms) == (
        len(world.students),
        complete,
        blocked,
        len(with_form),
    )
    per_step = {step.id: tally for step, tally in statistics.by_step()}
    assert set(per_step) == {step.id for step in world.steps if not step.retired}
    for step in world.steps:
        applies = {number: by_step[step.id] for number, by_step in views.items() if step.id in by_step}
        shown = Counter(view.shown for view in applies.values())
        expected = statistics.Tally(
            len(applies),
            shown[Shown.CLEARED],
            shown[Shown.PENDING],
            shown[Shown.BLOCKED],
            len(with_form & set(applies)),
            0,
        )
        assert per_step.get(step.id, statistics.Tally()) == expected, label(step)


def test_the_progress_export_shows_each_status_or_not_applicable(world):
    views = python_views(world)
    header, *rows = exporting.progress_rows(exporting.Scope())
    assert sorted(row[0] for row in rows) == sorted(views)
    form_column = header.index("form_serial")
    with_form = {s.student_id for s in world.students if clearance.current_form(s) is not None}
    for step in world.steps:
        column = f"{label(step)} status"
        if column not in header:  # only steps that apply to someone have columns
            assert not any(step.id in by_step for by_step in views.values()), label(step)
            continue
        index = header.index(column)
        for row in rows:
            view = views[row[0]].get(step.id)
            assert row[index] == (str(view.shown) if view else exporting.NOT_APPLICABLE), (row[0], column)
    assert {row[0] for row in rows if row[form_column]} == with_form


def test_step_applies_and_applies_clause_agree_for_every_pair(world):
    cohort_of = {s.id: s.cohort_id for s in world.students}
    steps = {step.id: step for step in world.steps}
    pairs = (
        select(Student.id, Step.id, clearance.applies_clause())
        .select_from(Student)
        .join(Step, true())
        .where(Step.id.in_(steps))
    )
    sql = {(student_id, step_id): bool(applies) for student_id, step_id, applies in db.session.execute(pairs)}
    python = {
        (student_id, step_id): clearance.step_applies(step, cohort_of[student_id])
        for student_id in cohort_of
        for step_id, step in steps.items()
    }
    assert python == sql
    for (student_id, step_id), applies in python.items():  # the clause for one step, as the queue uses it
        one_step = select(clearance.applies_clause(steps[step_id], cohort_of[student_id]))
        assert bool(db.session.scalar(one_step)) == applies, (student_id, step_id)


# --- Prerequisites: every way one can be met or not --------------------------------------------------


@pytest.fixture(params=["flushed", "committed"])
def signoff(request, make_cohort, make_student, make_account) -> tuple[Step, dict[str, list[str]], Account]:
    """A sign-off that needs three steps: one for everybody, one named for cohort A only, one retired.

    One student per (cohort, the first prerequisite's recorded state and hold, cohort A's own step
    cleared or not); returns the sign-off, the prerequisites each student should miss, an admin.
    """
    for step in db.session.scalars(select(Step)):
        step.retired = True
    cohorts = {"A": make_cohort("UG2011"), "B": make_cohort("PG2014")}

    def new_step(code: str, title: str, **extra) -> Step:
        return Step(office=Office(code=code, name_en=title), title_en=title, mode=StepMode.STAFF, position=1, **extra)

    everyone, only_a = new_step("P1", "Everyone"), new_step("P2", "Only A", cohorts=[cohorts["A"]])
    old = new_step("P3", "Retired", retired=True)
    signoff = new_step("SIGN", "Sign-off", prerequisites=[everyone, only_a, old])
    db.session.add_all([everyone, only_a, old, signoff])
    db.session.commit()
    combinations = list(itertools.product(cohorts.values(), RECORDED, HOLDS, (None, StepState.CLEARED)))
    students = [make_student(f"30000{n:05d}", cohort=c) for n, (c, *_rest) in enumerate(combinations)]
    expected = {}
    for student, (cohort, recorded, hold, own) in zip(students, combinations, strict=True):
        _record(student, everyone, recorded, hold)
        _record(student, only_a, own, "no hold")
        missing = (
            []
            if (recorded, hold) in {(StepState.CLEARED, "no hold"), (StepState.CLEARED, "released hold")}
            else ["Everyone"]
        )
        expected[student.student_id] = missing + (["Only A"] if cohort == cohorts["A"] and own is None else [])
    db.session.flush()
    if request.param == "committed":
        db.session.commit()
    return signoff, expected, make_account("admin", role=Role.ADMIN, office_code=None)


def test_a_prerequisite_that_does_not_apply_or_is_retired_counts_as_met_in_python_and_sql(signoff):
    step, expected, admin = signoff
    students = list(db.session.scalars(select(Student).where(Student.student_id.in_(expected))))
    python = {
        s.student_id: sorted(required.title_en for required in clearance.step_view(s, step).missing_prerequisites)
        for s in students
    }
    assert python == expected
    missing = clearance.missing_prerequisites_clause()
    sql = dict(
        db.session.execute(
            select(Student.student_id, missing).select_from(Student).join(Step, Step.id == step.id)
        ).all()
    )
    assert sql == {number: len(names) for number, names in expected.items()}
    one_step = dict(db.session.execute(select(Student.student_id, clearance.missing_prerequisites_clause(step))).all())
    assert one_step == sql
    ready = queue_shown(step, admin, "ready")
    assert set(ready) == {number for number, names in expected.items() if not names} != set()
    assert all(is_ready for _shown, _holds, is_ready in ready.values())
