"""Writing the progress CSV: one row per student, two columns per applicable step.

UTF-8 with a byte-order mark, so that Excel shows Chinese names; CRLF line ends; every cell that a
spreadsheet would read as a formula (ASCII or fullwidth = + - @) is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from clearance.status import applies_clause, step_pairs
from clock import local, university_zone, utcnow
from database import db
from models import Cohort, FormVersion, Handover, Office, School, Step, Student

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_APPLICABLE = "n/a"
STUDENT_COLUMNS = ["student_id", "name", "name_zh", "cohort", "school", "nationality"]
END_COLUMNS = ["form_serial", "handed_over"]


@dataclass
class Scope:
    """Which students an export covers: all, one cohort, one school, or one office's queue."""

    kind: str = "all"
    cohort: Cohort | None = None
    school: School | None = None
    office: Office | None = None
    where: list[ColumnElement[bool]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """What the audit log records as the export's subject."""
        named = (
            self.cohort.code
            if self.cohort
            else self.school.name
            if self.school
            else self.office.code
            if self.office
            else ""
        )
        return f"{self.kind}:{named}" if named else self.kind

    @property
    def filename(self) -> str:
        """A safe ASCII file name that says what and when."""
        part = (
            self.cohort.code
            if self.cohort
            else f"{self.school.id}"
            if self.school
            else self.office.code
            if self.office
            else ""
        )
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{self.kind}-{part}" if part else self.kind).strip("-")
        return f"progress-{slug}-{local(utcnow()):%Y%m%d-%H%M}.csv"


def scope_for(kind: str, ident: int | None) -> Scope | None:
    """The scope named by a request's `scope` and `id`; None when there is no such thing."""
    if kind == "all":
        return Scope()
    model = {"cohort": Cohort, "school": School, "office": Office}.get(kind)
    found = db.session.get(model, ident) if model and ident is not None else None
    if found is None:
        return None
    if kind == "cohort":
        return Scope(kind, cohort=found, where=[Student.cohort_id == found.id])
    if kind == "school":
        return Scope(kind, school=found, where=[Student.school_id == found.id])
    return Scope(kind, office=found, where=[_queue_of(found)])


def _queue_of(office: Office) -> ColumnElement[bool]:
    """Students whom at least one of the office's steps applies to."""
    # Its own Step, even inside a query over (student, step) pairs.
    return select(Step.id).where(Step.office_id == office.id, applies_clause()).correlate_except(Step).exists()


def neutralise(cell: object) -> str:
    """A cell as text that no spreadsheet runs as a formula."""
    text = "" if cell is None else str(cell)
    # Compatibility forms count as their ASCII twins: the fullwidth ＝ ＋ － ＠ of a Chinese input method
    # and the small ﹦ ﹢ ﹣ ﹫ start a formula in some spreadsheets too.
    first = unicodedata.normalize("NFKC", text[:1])
    return "'" + text if first.startswith(FORMULA_STARTS) else text


def _stamp(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored naive-UTC moment as the university's local time (the zone looked up once per export)."""
    return f"{moment.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M}" if moment else ""


def _progress(scope: Scope, zone: ZoneInfo) -> tuple[list[Step], dict[int, dict[int, tuple[str, str]]]]:
    """The steps that apply to anyone in scope, and each student's (status, date cleared) on each."""
    by_student: dict[int, dict[int, tuple[str, str]]] = {}
    for student_id, step_id, shown, changed_at in db.session.execute(step_pairs(scope.where)):
        by_student.setdefault(student_id, {})[step_id] = (shown, _stamp(changed_at, zone) if shown == "cleared" else "")
    step_ids = {step_id for statuses in by_student.values() for step_id in statuses}
    steps = db.session.scalars(select(Step).where(Step.id.in_(step_ids)).order_by(Step.position, Step.id)).all()
    return list(steps), by_student


def _students(scope: Scope):
    """Students in scope with their cohort, school, current form and hand-over, by student ID."""
    query = (
        select(
            Student.id,
            Student.student_id,
            Student.name,
            Student.name_zh,
            Cohort.code,
            School.name,
            Student.nationality,
            FormVersion.serial,
            Handover.handed_over_at,
        )
        .join(Cohort, Cohort.id == Student.cohort_id)
        .join(School, School.id == Student.school_id)
        .outerjoin(FormVersion, (FormVersion.student_id == Student.id) & FormVersion.voided_at.is_(None))
        .outerjoin(Handover, Handover.student_id == Student.id)
        .where(*scope.where)
        .order_by(Student.student_id)
    )
    return db.session.execute(query)


def progress_rows(scope: Scope) -> Iterable[list[str]]:
    """The header, then one row per student in scope."""
    zone = university_zone()
    steps, by_student = _progress(scope, zone)
    yield (
        STUDENT_COLUMNS
        + [f"{step.office.code} {step.title_en} {part}" for step in steps for part in ("status", "date")]
        + END_COLUMNS
    )
    for student_id, *details, serial, handed_at in _students(scope):
        statuses = by_student.get(student_id, {})
        cells = list(details)
        for step in steps:
            cells.extend(statuses.get(step.id, (NOT_APPLICABLE, "")))
        yield [*cells, serial or "", _stamp(handed_at, zone)]


def progress_csv(scope: Scope) -> tuple[bytes, int]:
    """The progress CSV as bytes (UTF-8 with BOM, CRLF) and how many student rows it holds."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    rows = -1  # the header is not a student
    for row in progress_rows(scope):
        writer.writerow([neutralise(cell) for cell in row])
        rows += 1
    return out.getvalue().encode("utf-8"), rows
