"""Importing the list of eligible students from CSV: validate everything, then write all or nothing.

The same code serves the CLI and the admin's upload. Reading (`plan_import`) writes
nothing, which is what a dry run shows; `apply_import` writes the plan in the caller's
transaction with bulk statements, so 20,000 rows take seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

import audit
from accounts import initial_password, initial_password_digest
from clearance import NewHold, place_holds, touch
from clearance.status import LIBRARY_OFFICE
from clock import utcnow
from database import db
from models import Account, Cohort, Hold, HoldSource, Office, Role, School, Student, student_search_key
from reading import ENCODINGS, ImportRefused, RowError, amount_cell, decode, read_table
from wording import say

__all__ = ["ENCODINGS", "ImportPlan", "ImportRefused", "ImportResult", "RowError", "apply_import", "plan_import"]

REQUIRED_COLUMNS = ("student_id", "name", "passport_no", "cohort", "school")
OPTIONAL_COLUMNS = ("name_zh", "programme", "nationality", "email", "library_fees_owed")
MAX_LENGTHS = {
    "student_id": 32,
    "name": 200,
    "passport_no": 40,
    "cohort": 32,
    "school": 200,
    "name_zh": 100,
    "programme": 200,
    "nationality": 100,
    "email": 200,
    "library_fees_owed": 20,
}
DETAIL_FIELDS = ("name", "name_zh", "programme", "nationality", "email")
MULTILINE_COLUMNS = ("programme",)  # a long title Excel wraps; names, IDs and codes are one line each
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
LIBRARY_FEES_REASON = say("Library fees owed")
# Why an import touched a student (audit reason; a voided form says it): by where the file came from.
IMPORT_REASONS = {
    "upload": say("import of an uploaded student list"),
    "cli": say("import from the command line"),
    "demo": say("import of the demo students"),
}


@dataclass
class StudentRow:
    line: int
    values: dict[str, str]
    fees: Decimal | None


@dataclass
class ImportPlan:
    """What an import would do; `errors` non-empty means it must not be applied."""

    to_add: list[StudentRow] = field(default_factory=list)
    to_update: list[tuple[StudentRow, Student, dict[str, tuple[str, str]]]] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    new_schools: list[str] = field(default_factory=list)
    holds_to_place: list[StudentRow] = field(default_factory=list)
    holds_not_replaced: list[StudentRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> int:
        return len(self.unchanged_ids)

    @property
    def refused_lines(self) -> int:
        """How many lines have at least one problem (a line may have several)."""
        return len({error.line for error in self.errors})

    @property
    def changes_anything(self) -> bool:
        """Whether applying it would add or update a student or place a hold."""
        return bool(self.to_add or self.to_update or self.holds_to_place)


@dataclass
class Known:
    """What the database already holds that a row is checked against."""

    cohorts: dict[str, Cohort]
    students: dict[str, Student]
    staff_names: set[str]  # user names of other accounts, lower case

    @classmethod
    def load(cls) -> Known:
        return cls(
            cohorts={c.code: c for c in db.session.scalars(select(Cohort))},
            students={s.student_id: s for s in db.session.scalars(select(Student))},
            staff_names={
                name.lower()
                for name in db.session.scalars(select(Account.username).where(Account.role != Role.STUDENT))
            },
        )


def read_rows(text: str, known: Known) -> tuple[list[StudentRow], list[RowError]]:
    """Parse and check every row on its own and against the database: every problem of a row, by line number."""
    table = read_table(text, REQUIRED_COLUMNS, OPTIONAL_COLUMNS, multiline=MULTILINE_COLUMNS)
    rows, errors = [], list(table.errors)
    seen: dict[str, int] = {}
    by_lower = {number.lower(): number for number in known.students}
    for line, values in table.rows:
        problems, fees = _row_problems(values, seen, line)
        problems += _database_problems(values, known, by_lower)
        errors.extend(RowError(line, problem) for problem in problems)
        if not problems:
            rows.append(StudentRow(line, values, fees))
    return rows, errors


def _row_problems(values: dict[str, str], seen: dict[str, int], line: int) -> tuple[list[str], Decimal | None]:
    problems = [
        _l("%(column)s is longer than %(n)d characters", column=name, n=limit)
        for name, limit in MAX_LENGTHS.items()
        if len(values.get(name, "")) > limit
    ]
    problems += [_l("%(column)s is empty", column=name) for name in REQUIRED_COLUMNS if not values.get(name)]
    student_id = values.get("student_id", "")
    if student_id and not STUDENT_ID.fullmatch(student_id):
        problems.append(_l("student_id “%(id)s” may hold only letters, digits and hyphens", id=student_id))
    elif student_id.lower() in seen:  # user names are unique regardless of case
        problems.append(
            _l("student_id %(id)s is already on line %(line)d", id=student_id, line=seen[student_id.lower()])
        )
    elif student_id:
        seen[student_id.lower()] = line
    if values.get("passport_no") and initial_password(values["passport_no"]) is None:
        problems.append(_l("passport_no has fewer than 6 digits, so no initial password can be made"))
    if values["email"] and "@" not in values["email"]:
        problems.append(_l("email “%(email)s” is not an e-mail address", email=values["email"]))
    fees, fee_problem = amount_cell(values["library_fees_owed"], "library_fees_owed")
    return [*problems, *filter(None, [fee_problem])], fees


def _database_problems(values: dict[str, str], known: Known, by_lower: dict[str, str]) -> list[str]:
    """A cohort that does not exist, an ID that is a staff user name or an existing ID in another case."""
    problems = []
    cohort, student_id = values.get("cohort", ""), values.get("student_id", "")
    if cohort and cohort not in known.cohorts:
        problems.append(_l("cohort “%(code)s” does not exist: create it first", code=cohort))
    if student_id and student_id.lower() in known.staff_names:
        problems.append(_l("%(id)s is already a staff account's user name", id=student_id))
    same_but_case = by_lower.get(student_id.lower())
    if student_id and same_but_case and same_but_case != student_id:
        problems.append(
            _l(
                "student_id %(id)s differs only in case from the existing student %(existing)s: use the same spelling",
                id=student_id,
                existing=same_but_case,
            )
        )
    return problems


def plan_import(data: bytes, encoding: str = "utf-8") -> ImportPlan:
    """Read the file and compare it with the database; writes nothing."""
    known = Known.load()
    rows, errors = read_rows(decode(data, encoding), known)
    plan = ImportPlan(errors=errors)
    schools = set(db.session.scalars(select(School.name)))
    released_import_holds, open_import_holds = _import_holds()
    for row in rows:
        values = row.values
        if values["school"] not in schools and values["school"] not in plan.new_schools:
            plan.new_schools.append(values["school"])
        existing = known.students.get(values["student_id"])
        if existing is None:
            plan.to_add.append(row)
        else:
            changes = _changes(existing, values, known.cohorts)
            if changes:
                plan.to_update.append((row, existing, changes))
            else:
                plan.unchanged_ids.append(existing.id)
        if row.fees:
            key = existing.id if existing else None
            if key in released_import_holds:
                plan.holds_not_replaced.append(row)
            elif key not in open_import_holds:
                plan.holds_to_place.append(row)
    plan.errors.sort(key=lambda error: error.line)
    return plan


def _import_holds() -> tuple[set[int], set[int]]:
    """Students with a released, and with an open, library hold placed by an import."""
    query = (
        select(Hold.student_id, Hold.released_at)
        .join(Office)
        .where(Office.code == LIBRARY_OFFICE, Hold.source == HoldSource.IMPORT)
    )
    released, still_open = set(), set()
    for student_id, released_at in db.session.execute(query):
        (released if released_at else still_open).add(student_id)
    return released - still_open, still_open


def _changes(student: Student, values: dict[str, str], cohorts: dict[str, Cohort]) -> dict:
    changes = {
        name: (getattr(student, name), values[name]) for name in DETAIL_FIELDS if getattr(student, name) != values[name]
    }
    if student.cohort_id != cohorts[values["cohort"]].id:
        changes["cohort"] = (student.cohort.code, values["cohort"])
    if student.school.name != values["school"]:
        changes["school"] = (student.school.name, values["school"])
    account = student.account
    if account.initial_password_digest:
        digest = initial_password_digest(values["student_id"], initial_password(values["passport_no"]))
        if digest != account.initial_password_digest:
            changes["initial password"] = ("(from the old passport number)", "(from the new passport number)")
    return changes


@dataclass
class ImportResult:
    added: int
    updated: int
    unchanged: int
    holds_placed: int
    student_ids: list[int]


def apply_import(plan: ImportPlan, actor: Account | None, source: str) -> ImportResult:
    """Write a checked plan in the caller's transaction; never deletes, never re-places a released hold.

    Then every student in the file is re-checked: automatic steps and form versions follow (rule 4).
    """
    if not plan.ok:
        raise ValueError("an import plan with errors cannot be applied")
    now = utcnow()
    actor_label = actor.username if actor else source
    cohorts = {c.code: c.id for c in db.session.scalars(select(Cohort))}
    schools = _ensure_schools(plan)
    added = _add_students(plan.to_add, cohorts, schools, now)
    events = [
        audit.entry(
            "student.imported",
            actor,
            actor_label=actor_label,
            at=now,
            student_id=student_id,
            subject=row.values["student_id"],
            after=f"{row.values['cohort']}, {row.values['school']}",
            reason=_import_reason(source),
        )
        for row, student_id in zip(plan.to_add, added, strict=True)
    ]
    for row, student, changes in plan.to_update:
        _update_student(student, row.values, changes, cohorts, schools)
        events.append(
            audit.entry(
                "student.updated",
                actor,
                actor_label=actor_label,
                at=now,
                student_id=student.id,
                subject=row.values["student_id"],
                reason=_import_reason(source),
                before="; ".join(f"{k}: {old}" for k, (old, _new) in changes.items()),
                after="; ".join(f"{k}: {new}" for k, (_old, new) in changes.items()),
            )
        )
    audit.record_many(events)
    ids_by_number = dict(zip((row.values["student_id"] for row in plan.to_add), added, strict=True))
    ids_by_number.update({student.student_id: student.id for _row, student, _c in plan.to_update})
    ids_by_number.update(
        _ids_of(
            row.values["student_id"] for row in plan.holds_to_place if row.values["student_id"] not in ids_by_number
        )
    )
    placed = _place_fee_holds(plan.holds_to_place, ids_by_number, actor, actor_label)
    every_id = sorted(set(ids_by_number.values()) | set(plan.unchanged_ids))
    touch(every_id, _import_reason(source), actor)  # automatic steps and forms follow before commit
    return ImportResult(len(added), len(plan.to_update), plan.unchanged, placed, every_id)


def _import_reason(source: str) -> str:
    return IMPORT_REASONS.get(source) or say("import (%(source)s)", source=source)


def _ensure_schools(plan: ImportPlan) -> dict[str, int]:
    for name in plan.new_schools:
        db.session.add(School(name=name))
    db.session.flush()
    return {s.name: s.id for s in db.session.scalars(select(School))}


def _add_students(rows: list[StudentRow], cohorts, schools, now) -> list[int]:
    if not rows:
        return []
    account_ids = db.session.scalars(
        insert(Account).returning(Account.id, sort_by_parameter_order=True),
        [
            {
                "username": row.values["student_id"],
                "role": Role.STUDENT,
                "display_name": row.values["name"],
                "must_change_password": True,
                "created_at": now,
                "failed_logins": 0,
                "session_generation": 0,
                "disabled": False,
                "initial_password_digest": initial_password_digest(
                    row.values["student_id"], initial_password(row.values["passport_no"])
                ),
            }
            for row in rows
        ],
    ).all()
    return db.session.scalars(
        insert(Student).returning(Student.id, sort_by_parameter_order=True),
        [
            {
                "account_id": account_id,
                "student_id": row.values["student_id"],
                "cohort_id": cohorts[row.values["cohort"]],
                "school_id": schools[row.values["school"]],
                "created_at": now,
                "updated_at": now,
                "search_key": student_search_key(row.values["name"], row.values["name_zh"]),
                "window_extension_reason": "",
                **{name: row.values[name] for name in DETAIL_FIELDS},
            }
            for row, account_id in zip(rows, account_ids, strict=True)
        ],
    ).all()


def _update_student(student: Student, values, changes, cohorts, schools) -> None:
    for name in DETAIL_FIELDS:
        setattr(student, name, values[name])
    student.cohort_id = cohorts[values["cohort"]]
    student.school_id = schools[values["school"]]
    student.account.display_name = values["name"]
    if "initial password" in changes:
        student.account.initial_password_digest = initial_password_digest(
            values["student_id"], initial_password(values["passport_no"])
        )


def _ids_of(student_numbers) -> dict[str, int]:
    numbers = list(student_numbers)
    if not numbers:
        return {}
    query = select(Student.student_id, Student.id).where(Student.student_id.in_(numbers))
    return dict(db.session.execute(query).all())


def _place_fee_holds(rows: list[StudentRow], ids_by_number, actor, actor_label: str) -> int:
    """Place the library holds of the file, through the same writer as every other hold (rule 3)."""
    if not rows:
        return 0
    library = db.session.scalar(select(Office).where(Office.code == LIBRARY_OFFICE))
    if library is None:
        raise ValueError("the library office (LIB) does not exist: run init-db first")
    holds = [NewHold(ids_by_number[row.values["student_id"]], LIBRARY_FEES_REASON, row.fees) for row in rows]
    return len(place_holds(holds, library, actor, HoldSource.IMPORT, actor_label=actor_label))
