"""Verifying a printed form at the certificate desk, and recording the hand-over (rule 7).

The QR code holds a token: the form's serial signed with FORM_SIGNING_KEY (separate from the
session key, so rotating that does not void printed forms). An altered or foreign token fails the
signature. The short code printed beside it finds the same form when typed by hand.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import audit
from clearance.changes import Refused, lock_student
from clearance.permissions import scope_students, sees_student, works_desk
from clearance.status import StepView, checklist
from clearance.window import certificate_place
from clock import utcnow
from database import db
from models import Account, FormVersion, Handover, School, Student
from wording import say

TOKEN_IN_TEXT = re.compile(r"/verify/([A-Za-z0-9._-]+)")
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")  # spaces, hyphens and the dashes an input method may type
SERIAL_TYPED = re.compile(r"LS(\d{4})(\d{1,12})")  # LS2026-000003 once separators are gone; leading zeros optional


def _signer() -> Signer:
    return Signer(current_app.config["FORM_SIGNING_KEY"], salt="form-for-leaving-school", digest_method=hashlib.sha256)


def token_for(form: FormVersion) -> str:
    """The signed token printed in the QR code."""
    return _signer().sign(form.serial.encode()).decode()


def form_for_token(token: str) -> FormVersion | None:
    """The form a token names, or None when the signature fails or no such form exists here."""
    signer = _signer()
    try:
        serial = signer.unsign(token.encode()).decode()
    except (BadSignature, UnicodeError):
        return None
    # base64 decoding forgives padding and the unused low bits of the last character: only the exact
    # token this server prints is genuine, so one form has one token and an altered one is caught.
    if not hmac.compare_digest(signer.sign(serial.encode()), token.encode()):
        return None
    return db.session.scalar(select(FormVersion).where(FormVersion.serial == serial))


def display_code(form: FormVersion) -> str:
    """The short code as printed, in two groups for reading aloud: ABCD-EFGH."""
    return f"{form.code[:4]}-{form.code[4:]}"


class Verdict(enum.StrEnum):
    CURRENT = "current"
    VOID = "void"
    HANDED_OVER = "handed-over"
    NOT_GENUINE = "not-genuine"
    NO_MATCH = "no-match"  # a typing mistake, not a forgery
    STUDENT_ID = "student-id"  # a student ID typed instead of the form's code
    OTHER_SCHOOL = "other-school"  # genuine, but another school's desk hands over


@dataclass(frozen=True)
class Found:
    """What the desk typed or scanned: the form it names, or the verdict when it names none."""

    form: FormVersion | None
    miss: Verdict = Verdict.NO_MATCH


@dataclass
class Check:
    """What the desk sees after a scan; of another school's student only where to send them (school and place)."""

    verdict: Verdict
    form: FormVersion | None = None
    handover: Handover | None = None
    rows: list[StepView] | None = None
    other_school: School | None = None
    other_place: str = ""
    other_place_zh: str = ""

    @property
    def student(self):
        return self.form.student if self.form else None


def find_form(typed: str, desk: Account | None = None) -> Found:
    """The form for what a scanner or a person typed: the QR URL, a token, a short code or a serial.

    Only a token (QR content: a /verify/ URL, or anything with a dot) can be forged, so only a token whose
    signature fails is "not genuine"; a typed code or serial that matches no form is a typing mistake.
    """
    typed = unicodedata.normalize("NFKC", typed).strip()  # full-width letters from a Chinese input method
    match = TOKEN_IN_TEXT.search(typed)
    if match or "." in typed:  # only a signed token has a dot
        return Found(form_for_token(match.group(1) if match else typed), Verdict.NOT_GENUINE)
    squeezed = SEPARATORS.sub("", typed).upper()
    form = db.session.scalar(select(FormVersion).where(FormVersion.code == squeezed)) if squeezed else None
    if form is None and (serial := SERIAL_TYPED.fullmatch(squeezed)):
        year, number = serial.groups()
        form = db.session.scalar(select(FormVersion).where(FormVersion.serial == f"LS{year}-{int(number):06d}"))
    if form is not None:
        return Found(form)
    return Found(None, Verdict.STUDENT_ID if _looks_like_student_id(typed, squeezed, desk) else Verdict.NO_MATCH)


def _looks_like_student_id(typed: str, squeezed: str, desk: Account | None) -> bool:
    """Digits alone: a student ID (a serial starts with LS; a code of digits alone matched already). So is any
    student's ID as imported, letters and all, in any case (a full scan, only when nothing else matched)."""
    if squeezed.isdigit():
        return True
    query = select(Student.id).where(func.upper(Student.student_id).in_({typed.upper(), squeezed})).limit(1)
    if desk is not None:  # only the desk's own students: whether anyone else exists is not its business
        query = scope_students(query, desk)
    return db.session.scalar(query) is not None


def check_form(form: FormVersion | None, desk: Account, typed: str = "", miss: Verdict = Verdict.NOT_GENUINE) -> Check:
    """The verdict on a scanned form (`miss` when there is none), audited with the verdict; of another school's
    student only which school, so the desk can send them there."""
    if not works_desk(desk):
        raise Refused(_l("Only the certificate desk checks printed forms."))
    if form is None:
        audit.record("form.verified", desk, subject=typed, after=miss.value)
        return Check(miss)
    if not sees_student(desk, form.student):
        student = form.student
        check = Check(
            Verdict.OTHER_SCHOOL,
            other_school=student.school,
            other_place=certificate_place(student),
            other_place_zh=certificate_place(student, chinese=True),
        )
    else:
        handover = db.session.scalar(select(Handover).where(Handover.student_id == form.student_id))
        check = Check(_verdict_on(form, handover), form, handover, checklist(form.student))
    audit.record("form.verified", desk, student_id=form.student_id, subject=form.serial, after=check.verdict.value)
    return check


def _verdict_on(form: FormVersion, handover: Handover | None) -> Verdict:
    if handover:
        return Verdict.HANDED_OVER
    return Verdict.VOID if form.voided_at else Verdict.CURRENT


def record_handover(form: FormVersion, desk: Account, printout_received: bool) -> Handover:
    """Hand the cohort's certificates over, once per student, against the current form scanned."""
    student = form.student
    lock_student(student)
    if not works_desk(desk) or not sees_student(desk, student):
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
        documents_zh=student.cohort.documents_zh,
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
        reason=say("printed form received"),
    )
    return handover


def handover_of(student_id: int) -> Handover | None:
    """The student's certificate hand-over, if it happened."""
    return db.session.scalar(select(Handover).where(Handover.student_id == student_id))
