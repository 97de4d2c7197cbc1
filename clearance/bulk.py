"""An office's work on many students at once: clearing a list of IDs, and placing holds from a list.

Both are read first and write nothing (the preview), then read again under the write lock and
written in the caller's one transaction (the confirm). Clearing goes through `clear_step` for each
student, which stays the authority; the set-based diagnosis here only predicts what it will say,
in the same order and words, so thousands of IDs preview in a few queries.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import audit
from clearance.changes import Refused, clear_step, place_hold, refuse_unless_clearable
from clearance.forms import chunks, recheck_forms
from clearance.permissions import scope_students
from clearance.status import Shown, StepView, checklist, shown_state, step_applies
from database import db
from importing import SCIENTIFIC, ImportRefused, RowError, decode
from models import Account, Hold, HoldSource, Office, Step, StepMode, StepStatus, Student

MAX_IDS = 5_000  # about 13 s to clear on a laptop: well inside gunicorn's 30 s request timeout
MAX_LIST_BYTES = 300_000  # its base64 rides in a hidden field, under Werkzeug's 500 kB form-field limit
SEPARATORS = re.compile(r"[\s,;，；、]+")  # Excel columns, CSV, and the Chinese comma and semicolon
HEADER_WORDS = {"student_id", "studentid", "id", "学号"}
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (zip) and .xls (OLE)
HOLD_COLUMNS = ("student_id", "amount", "reason")
MAX_REASON = 300
AMOUNT = re.compile(r"[0-9]{1,8}(\.[0-9]{1,2})?")
THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")
AUTOMATIC_REFUSAL = _l("The system clears this step by itself when the office has no open hold.")


# --- Reading lists --------------------------------------------------------------------------------


def read_list_file(data: bytes, encoding: str = "utf-8") -> str:
    """An uploaded list as text; ImportRefused with advice for empty, oversized, Excel or binary files."""
    if not data.strip():
        raise ImportRefused(_l("The file is empty."))
    if len(data) > MAX_LIST_BYTES:
        raise ImportRefused(_l("The file is larger than %(kb)d kB: split it into smaller lists.",
                               kb=MAX_LIST_BYTES // 1000))
    if data.startswith(WORKBOOK_MAGIC):
        raise ImportRefused(_l("This is an Excel workbook, not a CSV file: in Excel choose Save as → "
                               "CSV UTF-8 (comma delimited), then upload that file."))
    return decode(data, encoding)


def ids_from_file(data: bytes) -> str:
    """The IDs in an uploaded file: the student_id column of a CSV with that header, else every word in it."""
    try:
        text = read_list_file(data, "utf-8")
    except ImportRefused:
        text = read_list_file(data, "gb18030")  # saved as plain "CSV" on a Chinese system
    first, _newline, rest = text.partition("\n")
    header = [cell.strip().lower() for cell in first.strip().split(",")]
    if "student_id" not in header or len(header) < 2:
        return text
    column = header.index("student_id")
    try:
        return "\n".join(row[column] for row in csv.reader(io.StringIO(rest, newline="")) if len(row) > column)
    except csv.Error:
        return text


def student_numbers(text: str) -> tuple[list[str], int]:
    """The IDs in pasted text (any whitespace, comma or semicolon between), each once in order; and the repeats."""
    tokens = [token.strip("\"'") for token in SEPARATORS.split(text)]
    tokens = [token for token in tokens if token and token.lower() not in HEADER_WORDS]
    numbers = list(dict.fromkeys(tokens))
    if len(numbers) > MAX_IDS:
        raise ImportRefused(_l("At most %(n)d IDs at a time: split the list.", n=MAX_IDS))
    return numbers, len(tokens) - len(numbers)


def _students_by_number(numbers: Iterable[str]) -> dict[str, Student]:
    found: dict[str, Student] = {}
    for part in chunks(numbers):
        found.update({s.student_id: s for s in db.session.scalars(select(Student).where(Student.student_id.in_(part)))})
    return found


def _visible(students: Iterable[Student], account: Account) -> set[int]:
    """Which of these students the account may see (its school, if it names one)."""
    visible: set[int] = set()
    for part in chunks(s.id for s in students):
        visible.update(db.session.scalars(scope_students(select(Student.id).where(Student.id.in_(part)), account)))
    return visible


# --- Clearing many -------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    CLEARED = "cleared"  # in a preview: would be cleared
    ALREADY_CLEARED = "already-cleared"
    NOT_FOUND = "not-found"
    NOT_IN_SCOPE = "not-in-scope"
    REFUSED = "refused"


class Why(enum.StrEnum):
    """Why an ID is not in scope or is refused."""

    NONE = ""
    OTHER_SCHOOL = "other-school"
    NOT_APPLICABLE = "not-applicable"
    HOLD = "hold"
    PREREQUISITE = "prerequisite"
    STAFF_BLOCK = "staff-block"
    AUTOMATIC = "automatic"
    OTHER = "other"


@dataclass
class Entry:
    """What happens (or would happen) to one ID; `name` is kept as text so a result renders without queries."""

    student_no: str
    outcome: Outcome
    why: Why = Why.NONE
    reason: str = ""
    name: str = ""
    student: Student | None = field(default=None, repr=False)


@dataclass
class BulkClear:
    step: Step
    entries: list[Entry]
    repeated: int = 0

    def grouped(self) -> dict[Outcome, list[Entry]]:
        """The entries by outcome, every outcome present, in the order of `Outcome`."""
        groups: dict[Outcome, list[Entry]] = {outcome: [] for outcome in Outcome}
        for entry in self.entries:
            groups[entry.outcome].append(entry)
        return groups


def step_views(step: Step, students: list[Student]) -> dict[int, StepView]:
    """Each student's view of one step as `status.checklist` builds it, in a few queries for thousands."""
    involved = [step, *step.prerequisites]
    recorded: dict[tuple[int, int], StepStatus] = {}
    holds: dict[tuple[int, int], list[Hold]] = {}
    for part in chunks(s.id for s in students):
        recorded.update({(r.student_id, r.step_id): r for r in db.session.scalars(select(StepStatus).where(
            StepStatus.student_id.in_(part), StepStatus.step_id.in_([s.id for s in involved])))})
        for hold in db.session.scalars(select(Hold).where(
                Hold.student_id.in_(part), Hold.released_at.is_(None),
                Hold.office_id.in_({s.office_id for s in involved})).order_by(Hold.placed_at)):
            holds.setdefault((hold.student_id, hold.office_id), []).append(hold)

    def shown(student: Student, one: Step) -> Shown:
        return shown_state(recorded.get((student.id, one.id)), holds.get((student.id, one.office_id), []))

    return {student.id: StepView(
        step, shown(student, step), recorded.get((student.id, step.id)), holds.get((student.id, step.office_id), []),
        [p for p in step.prerequisites if step_applies(p, student.cohort_id) and shown(student, p) != Shown.CLEARED])
        for student in students}


def diagnose(view: StepView, student: Student) -> Entry:
    """What `clear_step` would do with this view: the same checks in the same order, with its message."""
    entry = Entry(student.student_id, Outcome.CLEARED, name=student.name, student=student)
    if view.step.mode == StepMode.AUTOMATIC:
        entry.outcome, entry.why, entry.reason = Outcome.REFUSED, Why.AUTOMATIC, str(AUTOMATIC_REFUSAL)
    elif view.shown == Shown.CLEARED:
        entry.outcome = Outcome.ALREADY_CLEARED
    else:
        try:
            refuse_unless_clearable(view)
        except Refused as refused:
            entry.outcome, entry.reason = Outcome.REFUSED, str(refused)
            entry.why = (Why.HOLD if view.holds else Why.STAFF_BLOCK if view.staff_block_reason
                         else Why.PREREQUISITE)
    return entry


def plan_bulk_clear(numbers: list[str], step: Step, account: Account, repeated: int = 0) -> BulkClear:
    """What clearing the step for each of these IDs would do, ID by ID. Writes nothing."""
    found = _students_by_number(numbers)
    visible = _visible(found.values(), account)
    views = step_views(step, [s for s in found.values() if s.id in visible and step_applies(step, s.cohort_id)])
    entries = []
    for number in numbers:
        student = found.get(number)
        if student is None:
            reason = _("Excel wrote it in scientific notation: format the column as Text and copy the IDs again."
                       ) if SCIENTIFIC.fullmatch(number) else ""
            entries.append(Entry(number, Outcome.NOT_FOUND, reason=reason))
        elif student.id not in visible:
            entries.append(Entry(number, Outcome.NOT_IN_SCOPE, Why.OTHER_SCHOOL,
                                 _("not a student of your school"), student.name))
        elif student.id not in views:
            entries.append(Entry(number, Outcome.NOT_IN_SCOPE, Why.NOT_APPLICABLE,
                                 _("this step does not apply to their cohort (%(cohort)s)",
                                        cohort=student.cohort.code), student.name))
        else:
            entries.append(diagnose(views[student.id], student))
    return BulkClear(step, entries, repeated)


def _every_step_loaded() -> list[Step]:
    """Every step with its cohorts, prerequisites and office, to hold on to during a long loop of changes.

    The session keeps objects only while someone references them: without this, each change would
    load the steps' cohorts and prerequisites again, about ten queries per student.
    """
    return list(db.session.scalars(select(Step).options(
        selectinload(Step.cohorts), selectinload(Step.prerequisites), selectinload(Step.office))))


def clear_many(plan: BulkClear, actor: Account) -> BulkClear:
    """Clear the step for every found student in scope through `clear_step`, in the caller's transaction.

    A refusal is raised before anything is written, so it skips that student only.
    """
    steps = _every_step_loaded()
    results = []
    for entry in plan.entries:
        if entry.student is None or entry.outcome == Outcome.NOT_IN_SCOPE:
            results.append(entry)
            continue
        try:
            done = clear_step(entry.student, plan.step, actor, recheck=False)
        except Refused as refused:
            why = entry.why if entry.outcome == Outcome.REFUSED else Why.OTHER
            results.append(Entry(entry.student_no, Outcome.REFUSED, why, str(refused), entry.name))
        else:
            results.append(Entry(entry.student_no, Outcome.CLEARED if done else Outcome.ALREADY_CLEARED,
                                 name=entry.name))
    del steps
    cleared = [entry.student.id for entry in plan.entries if entry.student is not None]
    recheck_forms(cleared, actor, f"step {plan.step.title_en} cleared (bulk)")  # once for all, same transaction
    return BulkClear(plan.step, results, plan.repeated)


def office_step_views(student: Student, office: Office) -> list[tuple[StepView, Entry]]:
    """The office's steps that apply to one student, each with what clearing it would do (the counter)."""
    return [(view, diagnose(view, student)) for view in checklist(student) if view.step.office_id == office.id]


# --- Hold lists --------------------------------------------------------------------------------------


@dataclass
class HoldRow:
    line: int
    student: Student
    amount: Decimal | None
    reason: str
    applies: bool  # whether a step of the office applies to the student; the hold is placed either way


@dataclass
class HoldList:
    """What a hold list would place; `errors` non-empty means nothing may be placed."""

    rows: list[HoldRow] = field(default_factory=list)
    already_held: list[HoldRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> Decimal:
        return sum((row.amount or Decimal(0) for row in self.rows), Decimal(0))


def _hold_records(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str], list[RowError]]:
    """The rows as (line, values), the ignored columns, and rows that are not readable."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportRefused(_l("The file is empty: it needs the header row student_id,amount,reason.")) from None
    missing = [name for name in HOLD_COLUMNS if name not in columns]
    repeated = sorted({name for name in HOLD_COLUMNS if columns.count(name) > 1})
    if missing or repeated:
        raise ImportRefused(_l("Line 1 must be the header student_id,amount,reason (missing: %(missing)s; "
                               "named twice: %(repeated)s).", missing=", ".join(missing) or "-",
                               repeated=", ".join(repeated) or "-"))
    records, errors = [], []
    line = reader.line_num + 1
    try:
        for record in reader:
            if len(record) > len(columns):
                errors.append(RowError(line, _("%(n)d fields but the header has %(m)d",
                                                    n=len(record), m=len(columns))))
            elif any(cell.strip() for cell in record):
                records.append((line, {name: cell.strip() for name, cell in zip(columns, record, strict=False)}))
            line = reader.line_num + 1
    except csv.Error as error:
        errors.append(RowError(line, _("not readable as CSV (%(error)s)", error=error)))
    return records, [c or _("(empty)") for c in columns if c not in HOLD_COLUMNS], errors


def parse_amount(text: str) -> tuple[Decimal | None, str]:
    """An amount of yuan with at most 2 decimals (empty: none), or the problem with it."""
    cleaned = text.replace("¥", "").replace("￥", "").strip()
    if THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    if not cleaned:
        return None, ""
    if cleaned.startswith("-"):
        return None, _("amount %(amount)s is negative", amount=text)
    if re.fullmatch(r"[0-9]+\.[0-9]{3,}", cleaned):
        return None, _("amount %(amount)s has more than 2 decimals", amount=text)
    if not AMOUNT.fullmatch(cleaned):
        return None, _("amount “%(amount)s” is not a number of yuan such as 12.50", amount=text)
    return Decimal(cleaned), ""


def _check_hold_row(values: dict[str, str], student: Student | None, visible: set[int], seen: dict[str, int]
                    ) -> list[str]:
    number, reason = values.get("student_id", ""), values.get("reason", "")
    problems = []
    if not number:
        problems.append(_("student_id is empty"))
    elif SCIENTIFIC.fullmatch(number):
        problems.append(_("student_id %(id)s is in scientific notation: format the column as Text in Excel",
                               id=number))
    elif number.lower() in seen:
        problems.append(_("student %(id)s is already on line %(line)d", id=number, line=seen[number.lower()]))
    elif student is None:
        problems.append(_("no student has the ID %(id)s", id=number))
    elif student.id not in visible:
        problems.append(_("%(id)s is not a student of your school", id=number))
    if not reason:
        problems.append(_("reason is empty: the student sees it"))
    elif len(reason) > MAX_REASON:
        problems.append(_("reason is longer than %(n)d characters", n=MAX_REASON))
    problems.append(parse_amount(values.get("amount", ""))[1])
    return [problem for problem in problems if problem]


def plan_hold_list(data: bytes, encoding: str, office: Office, account: Account) -> HoldList:
    """Read and check a hold list (student_id,amount,reason); every problem with its line. Writes nothing."""
    records, ignored, errors = _hold_records(read_list_file(data, encoding))
    plan = HoldList(errors=errors, ignored_columns=ignored)
    found = _students_by_number(values.get("student_id", "") for _line, values in records)
    visible = _visible(found.values(), account)
    held = set(db.session.execute(select(Hold.student_id, Hold.reason, Hold.amount).where(
        Hold.office_id == office.id, Hold.released_at.is_(None))).all())
    steps = [step for step in office.steps if not step.retired]
    seen: dict[str, int] = {}
    for line, values in records:
        student = found.get(values.get("student_id", ""))
        problems = _check_hold_row(values, student, visible, seen)
        seen.setdefault(values.get("student_id", "").lower(), line)
        plan.errors.extend(RowError(line, problem) for problem in problems)
        if problems or student is None:
            continue
        amount = parse_amount(values.get("amount", ""))[0] or None
        row = HoldRow(line, student, amount, values["reason"], any(step_applies(s, student.cohort_id) for s in steps))
        (plan.already_held if (student.id, row.reason, amount) in held else plan.rows).append(row)
    plan.errors.sort(key=lambda error: error.line)
    return plan


def place_hold_list(plan: HoldList, office: Office, actor: Account, filename: str) -> int:
    """Place every hold of a checked list in the caller's transaction: all or nothing. Returns how many."""
    if not plan.ok:
        raise ValueError("a hold list with errors cannot be placed")
    steps = _every_step_loaded()
    for row in plan.rows:
        place_hold(row.student, office, actor, row.reason, row.amount, source=HoldSource.LIST)
    del steps
    audit.record("hold.list-placed", actor, office_id=office.id, subject=filename,
                 after=f"{len(plan.rows)} holds, ¥{plan.total}",
                 reason=f"{len(plan.already_held)} already held, not placed again")
    return len(plan.rows)
