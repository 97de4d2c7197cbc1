"""The data model: SQLAlchemy 2.0 typed models. No behaviour here beyond small derived properties;
the rules live in clearance/ (docs/RULES.md)."""

from __future__ import annotations

import enum
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    Column,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from database import db


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    """A portable enum column that stores the members' values, checked by the database."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    STUDENT = "student"
    STAFF = "staff"
    DESK = "desk"
    ADMIN = "admin"


class CohortKind(enum.StrEnum):
    DEGREE = "degree"
    NON_DEGREE = "non-degree"


class StepMode(enum.StrEnum):
    SELF_SERVICE = "self-service"
    STAFF = "staff"
    AUTOMATIC = "automatic"


class StepState(enum.StrEnum):
    PENDING = "pending"
    CLEARED = "cleared"
    BLOCKED = "blocked"


class ActorKind(enum.StrEnum):
    """Who changed a step: office staff (or an admin), the student, or the system."""

    STAFF = "staff"
    STUDENT = "student"
    SYSTEM = "system"


class HoldSource(enum.StrEnum):
    IMPORT = "import"
    STAFF = "staff"
    LIST = "list"


step_cohorts = Table(
    "step_cohorts",
    db.metadata,
    Column("step_id", ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
)

step_prerequisites = Table(
    "step_prerequisites",
    db.metadata,
    Column("step_id", ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True),
    Column("required_step_id", ForeignKey("steps.id", ondelete="CASCADE"), primary_key=True),
)


class Cohort(db.Model):
    __tablename__ = "cohorts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[CohortKind] = mapped_column(_enum(CohortKind, "cohort_kind"))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    certificate_day: Mapped[date | None]
    certificate_hours: Mapped[str] = mapped_column(String(40), default="")
    certificate_place: Mapped[str] = mapped_column(String(200), default="")
    certificate_place_zh: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[str] = mapped_column(String(300))
    documents_zh: Mapped[str] = mapped_column(String(300), default="")

    students: Mapped[list[Student]] = relationship(back_populates="cohort")

    @property
    def window(self) -> tuple[date, date]:
        return (self.opens_on, self.closes_on)


class School(db.Model):
    __tablename__ = "schools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    # Where its students collect their certificates (office and room), unless their cohort names a place.
    certificate_place: Mapped[str] = mapped_column(String(200), default="")
    certificate_place_zh: Mapped[str] = mapped_column(String(200), default="")


class Office(db.Model):
    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    # The fields without a suffix are the English ones; each `_zh` twin is what a Chinese reader sees.
    location: Mapped[str] = mapped_column(String(300), default="")
    location_zh: Mapped[str] = mapped_column(String(300), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    hours_zh: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(100), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    instructions_zh: Mapped[str] = mapped_column(Text, default="")

    steps: Mapped[list[Step]] = relationship(back_populates="office", order_by="Step.position")


class Step(db.Model):
    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    instructions_zh: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    what_to_bring_zh: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    mode: Mapped[StepMode] = mapped_column(_enum(StepMode, "step_mode"))
    retired: Mapped[bool] = mapped_column(default=False)

    office: Mapped[Office] = relationship(back_populates="steps")
    # No cohorts named means the step applies to every cohort.
    cohorts: Mapped[list[Cohort]] = relationship(secondary=step_cohorts)
    prerequisites: Mapped[list[Step]] = relationship(
        secondary=step_prerequisites,
        primaryjoin=lambda: Step.id == step_prerequisites.c.step_id,
        secondaryjoin=lambda: Step.id == step_prerequisites.c.required_step_id,
    )


class Account(UserMixin, db.Model):
    """Every login, whatever the role; user names are unique across roles."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    disabled: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    # A slow hash of a chosen password, or of a one-time password given by an admin.
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # A keyed hash (key outside the database) of a student's initial password, until the first change.
    initial_password_digest: Mapped[str | None] = mapped_column(String(64))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_expires_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # No longer read: sessions live in login_sessions since 0008 (kept because the import still fills it).
    session_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    office: Mapped[Office | None] = relationship()
    school: Mapped[School | None] = relationship()
    student: Mapped[Student | None] = relationship(back_populates="account")

    # The token of the login session this request belongs to (login_sessions.py), not stored here.
    session_token = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookie: this login session's random token, never the account id."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return not self.disabled


class Student(db.Model):
    __tablename__ = "students"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    student_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    programme: Mapped[str] = mapped_column(String(200), default="")
    nationality: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    window_extended_until: Mapped[date | None]
    window_extension_reason: Mapped[str] = mapped_column(Text, default="")
    # Both names folded (lower case, no accents) so a search for "nguyen" finds "Nguyễn".
    search_key: Mapped[str] = mapped_column(String(320), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship(back_populates="student")
    cohort: Mapped[Cohort] = relationship(back_populates="students")
    school: Mapped[School] = relationship()
    statuses: Mapped[list[StepStatus]] = relationship(back_populates="student")
    holds: Mapped[list[Hold]] = relationship(back_populates="student")


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}
)


# Umlauts spelt out, as people type them without the letters ("Müller" → "Mueller"); ß is already "ss".
_TRANSLITERATED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def fold(text: str, transliterate: bool = False) -> str:
    """Text as searched: lower case, no accents ("Müller" → "muller"); transliterated, umlauts spelt out ("mueller")."""
    text = text.casefold()
    if transliterate:
        text = unicodedata.normalize("NFC", text).translate(_TRANSLITERATED)  # NFC: "u" + a combining diaeresis too
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def student_search_key(name: str, name_zh: str) -> str:
    """Both names folded, then the words that transliterate otherwise: "Zoë Müller" → "zoe muller mueller"."""
    full = f"{name} {name_zh}".strip()
    plain = fold(full)
    spelt_out = [word for word in fold(full, transliterate=True).split() if word not in plain.split()]
    return " ".join([plain, *spelt_out])[:320]


def search_folds(word: str) -> set[str]:
    """What a typed word may stand for in a search key: "müller" is "muller" or "mueller" ("mueller" stays itself)."""
    return {fold(word), fold(word, transliterate=True)}


@event.listens_for(Student, "before_insert")
@event.listens_for(Student, "before_update")
def _keep_search_key(_mapper, _connection, student: Student) -> None:
    student.search_key = student_search_key(student.name or "", student.name_zh or "")


class StepStatus(db.Model):
    """A student's recorded state on one step. No row means pending and untouched."""

    __tablename__ = "step_statuses"
    __table_args__ = (UniqueConstraint("student_id", "step_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), index=True)
    state: Mapped[StepState] = mapped_column(_enum(StepState, "step_state"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    student: Mapped[Student] = relationship(back_populates="statuses")
    step: Mapped[Step] = relationship()
    actor: Mapped[Account | None] = relationship()


class Hold(db.Model):
    """Something an office holds against a student (fees, keys, a card); open until released."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_open", "student_id", "office_id", "released_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    source: Mapped[HoldSource] = mapped_column(_enum(HoldSource, "hold_source"))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str] = mapped_column(Text, default="")

    student: Mapped[Student] = relationship(back_populates="holds")
    office: Mapped[Office] = relationship()
    placed_by: Mapped[Account | None] = relationship(foreign_keys=[placed_by_id])
    released_by: Mapped[Account | None] = relationship(foreign_keys=[released_by_id])

    @property
    def is_open(self) -> bool:
        return self.released_at is None


class FormVersion(db.Model):
    """One issue of a student's Form for Leaving School; current while not voided."""

    __tablename__ = "form_versions"
    # At most one current version per student, enforced by the database itself (both dialects).
    __table_args__ = (
        Index(
            "uq_form_versions_current",
            "student_id",
            unique=True,
            sqlite_where=text("voided_at IS NULL"),
            postgresql_where=text("voided_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str] = mapped_column(Text, default="")

    student: Mapped[Student] = relationship()


class Handover(db.Model):
    """The certificates handed to a student: once per student, against the form version scanned."""

    __tablename__ = "handovers"
    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), unique=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"))
    documents: Mapped[str] = mapped_column(String(300))
    documents_zh: Mapped[str] = mapped_column(String(300), default="")
    printout_received: Mapped[bool] = mapped_column(default=True)
    handed_over_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    handed_over_at: Mapped[datetime] = mapped_column(default=utcnow)

    student: Mapped[Student] = relationship()
    form_version: Mapped[FormVersion] = relationship()
    handed_over_by: Mapped[Account] = relationship()


class LoginFailure(db.Model):
    """One failed login (or wrong current password), counted per client address and per name typed.

    The name is kept only as a keyed hash (login_limits.name_key): what people type there is
    sometimes a password.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_address_at", "address", "at"),
        Index("ix_login_failures_name_key_at", "name_key", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    # Refused by the lock of this name for this address: counted for the address, not to slow the name elsewhere.
    while_locked: Mapped[bool] = mapped_column(default=False)


class LoginSession(db.Model):
    """One logged-in browser: the cookie holds a random token, this row its SHA-256 and its times."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    account: Mapped[Account] = relationship()


class AuditEvent(db.Model):
    """Append-only record of every change: who, when, what, from, to, why."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    from_value: Mapped[str] = mapped_column(Text, default="")
    to_value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[Account | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, _target) -> None:
    raise RuntimeError("audit events are append-only")
