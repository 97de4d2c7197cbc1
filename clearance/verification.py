"""Verifying a printed form at the certificate desk, and recording the hand-over (rule 7).

The QR code holds a token: the form's serial signed with FORM_SIGNING_KEY (separate from the
session key, so rotating that does not void printed forms). An altered or foreign token fails the
signature. The short code printed beside it finds the same form when typed by hand.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import audit
from clearance.changes import Refused, lock_student
from clearance.permissions import sees_student
from clearance.status import StepView, checklist
from clock import utcnow
from database import db
from models import Account, FormVersion, Handover, Role

TOKEN_IN_TEXT = re.compile(r"/verify/([A-Za-z0-9._-]+)")


def _signer() -> Signer:
    return Signer(current_app.config["FORM_SIGNING_KEY"], salt="form-for-leaving-school", digest_method=hashlib.sha256)


def token_for(form: FormVersion) -> str:
    """The signed token printed in the QR code."""
    return _signer().sign(form.serial.encode()).decode()


def form_for_token(token: str) -> FormVersion | None:
    """The form a token names, or None when the signature fails or no such form exists here."""
    try:
        serial = _signer().unsign(token.encode()).decode()
    except (BadSignature, UnicodeError):
        return None
    return db.session.scalar(select(FormVersion).where(FormVersion.serial == serial))


def display_code(form: FormVersion) -> str:
    """The short code as printed, in two groups for reading aloud: ABCD-EFGH."""
    return f"{form.code[:4]}-{form.code[4:]}"


def find_form(typed: str) -> FormVersion | None:
    """The form for what a scanner or a person typed: the QR URL, a token, a short code or a serial."""
    typed = typed.strip()
    match = TOKEN_IN_TEXT.search(typed)
    if match or "." in typed:  # only a signed token has a dot
        return form_for_token(match.group(1) if match else typed)
    code = re.sub(r"[\s-]", "", typed).upper()
    return db.session.scalar(
        select(FormVersion).where((FormVersion.code == code) | (FormVersion.serial == typed.upper()))
    )


class Verdict(enum.StrEnum):
    CURRENT = "current"
    VOID = "void"
    HANDED_OVER = "handed-over"
    NOT_GENUINE = "not-genuine"


@dataclass
class Check:
    """What the desk sees after a scan."""

    verdict: Verdict
    form: FormVersion | None = None
    handover: Handover | None = None
    rows: list[StepView] | None = None

    @property
    def student(self):
        return self.form.student if self.form else None


def check_form(form: FormVersion | None, desk: Account) -> Check:
    """The verdict on a scanned form, and audit that it was checked; Refused outside the desk's school."""
    if form is None:
        audit.record("form.verified", desk, after=Verdict.NOT_GENUINE.value)
        return Check(Verdict.NOT_GENUINE)
    if desk.role not in (Role.DESK, Role.ADMIN) or not sees_student(desk, form.student):
        raise Refused(_l("This form belongs to a student of another school: their school's desk checks it."))
    handover = db.session.scalar(select(Handover).where(Handover.student_id == form.student_id))
    if handover:
        verdict = Verdict.HANDED_OVER
    elif form.voided_at:
        verdict = Verdict.VOID
    else:
        verdict = Verdict.CURRENT
    audit.record("form.verified", desk, student_id=form.student_id, subject=form.serial, after=verdict.value)
    return Check(verdict, form, handover, checklist(form.student))


def record_handover(form: FormVersion, desk: Account, printout_received: bool) -> Handover:
    """Hand the cohort's certificates over, once per student, against the current form scanned."""
    student = form.student
    lock_student(student)
    if desk.role not in (Role.DESK, Role.ADMIN) or not sees_student(desk, student):
        raise Refused(_l("Your account does not hand over certificates for this student."))
    if not printout_received:
        raise Refused(_l("Keep the printed form: tick that you received it, then record the hand-over."))
    db.session.refresh(form)
    if db.session.scalar(select(Handover.id).where(Handover.student_id == student.id)):
        raise Refused(_l("The certificates were already handed over to this student."))
    if form.voided_at:
        raise Refused(_l("This form is no longer valid: the student must print the current one."))
    handover = Handover(
        student_id=student.id,
        form_version_id=form.id,
        documents=student.cohort.documents,
        printout_received=True,
        handed_over_by_id=desk.id,
        handed_over_at=utcnow(),
    )
    db.session.add(handover)
    try:
        db.session.flush()
    except IntegrityError:  # another desk recorded it at the same moment
        raise Refused(_l("The certificates were already handed over to this student.")) from None
    audit.record(
        "certificates.handed-over",
        desk,
        student_id=student.id,
        subject=form.serial,
        after=handover.documents,
        reason="printed form received",
    )
    return handover


def handover_of(student_id: int) -> Handover | None:
    """The student's certificate hand-over, if it happened."""
    return db.session.scalar(select(Handover).where(Handover.student_id == student_id))
