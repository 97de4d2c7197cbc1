"""One amount rule (clearance/amounts.py): an amount is accepted or refused, with the same words, everywhere.

The places: the rule itself, the office's hold form, an uploaded hold list, the student import's
library_fees_owed column, and `place_hold` given a number. Each place's outcome is the amount it
read (None: no amount) or the refusal's words as the person sees them, so one comparison shows
which place disagrees.
"""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal, InvalidOperation

import pytest
from sqlalchemy import func, select

import clearance
import importing
from clearance.amounts import amount_refusal
from database import db, write_transaction
from models import Hold, Student
from tests.conftest import log_in, office

STUDENT = "1111210101"
HOLDS_URL = "/staff/holds/upload"
REFUSED = ["1,23", "12,50", "1e3", "NaN", "-5", "0", "1.005", "abc", "100000000"]
ACCEPTED = {"35.50": Decimal("35.50"), "¥12": Decimal("12"), " 8 ": Decimal("8")}
IMPORT_HEADER = ["student_id", "name", "passport_no", "cohort", "school", "library_fees_owed"]

Outcome = Decimal | str | None  # the amount read (None: no amount), or the words of the refusal


@pytest.fixture
def library(make_cohort, make_student, make_account):
    """A student, and a member of the library's staff who may place holds on them."""
    make_cohort()
    make_student(STUDENT, must_change=False)
    return make_account("library", office_code="LIB")


def hold_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Hold))


def new_hold_amount(holds_before: int) -> Outcome:
    """The amount of the one hold placed since there were `holds_before`."""
    [amount] = db.session.scalars(select(Hold.amount).order_by(Hold.id).offset(holds_before)).all()
    return amount


def csv_text(*rows: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


# --- Each place, as the person meets it -----------------------------------------------------------------


def by_rule(typed: str) -> Outcome:
    try:
        return clearance.parse_amount(typed)
    except clearance.Refused as refused:
        return str(refused)


def by_hold_form(client, typed: str) -> Outcome:
    """The record page's hold form: a refusal is flashed and nothing is placed."""
    before = hold_count()
    page = client.post(
        f"/staff/students/{STUDENT}/holds", data={"reason": "Fees (form)", "amount": typed}, follow_redirects=True
    ).get_data(as_text=True)
    errors = [html.unescape(e) for e in re.findall(r'<p class="flash flash-error" role="alert">(.*?)</p>', page)]
    if errors:
        assert hold_count() == before
        return " | ".join(errors)
    return new_hold_amount(before)


def by_hold_list(client, typed: str) -> Outcome:
    """An uploaded hold list: a refusal is shown with its line; otherwise the confirm places the hold."""
    before = hold_count()
    data = csv_text(["student_id", "amount", "reason"], [STUDENT, typed, "Fees (list)"]).encode()
    page = client.post(
        HOLDS_URL,
        data={"stage": "preview", "encoding": "utf-8", "file": (io.BytesIO(data), "h.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    errors = [html.unescape(e) for e in re.findall(r"<li><strong>Line 2:</strong> (.*?)</li>", page)]
    if errors:
        assert hold_count() == before
        return " | ".join(errors)
    confirm = re.search(r'<form [^>]*class="confirm-form">.*?</form>', page, re.S).group(0)
    client.post(HOLDS_URL, data=dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', confirm)))
    return new_hold_amount(before)


def by_student_import(typed: str) -> Outcome:
    """The import's library_fees_owed column: a refusal names the column; an amount becomes a hold to place."""
    row = ["1111210199", "Lin Mei", "E 8765-4321", "UG2011", "School of Nursing", typed]
    plan = importing.plan_import(csv_text(IMPORT_HEADER, row).encode())
    if plan.errors:
        return " | ".join(str(error.message) for error in plan.errors)
    [added] = plan.to_add
    assert plan.holds_to_place == ([added] if added.fees else [])
    return added.fees


def by_place_hold(library, typed: str) -> Outcome:
    """The rule for a number already read: `place_hold` given Decimal(typed)."""
    before = hold_count()
    student = db.session.scalar(select(Student).where(Student.student_id == STUDENT))
    try:
        with write_transaction():
            clearance.place_hold(student, office("LIB"), library, "Fees (number)", Decimal(typed))
    except clearance.Refused as refused:
        assert hold_count() == before
        return str(refused)
    return new_hold_amount(before)


def as_number(typed: str) -> Decimal | None:
    try:
        return Decimal(typed)
    except InvalidOperation:
        return None


# --- The same outcome everywhere --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", REFUSED)
def test_a_refused_amount_is_refused_with_the_same_words_everywhere(app, client, library, typed):
    log_in(client, library)
    words = str(amount_refusal(typed))
    assert f"“{typed}”" in words
    outcomes = {
        "rule": by_rule(typed),
        "hold form": by_hold_form(client, typed),
        "hold list": by_hold_list(client, typed),
        "student import": by_student_import(typed),
    }
    expected = {"rule": words, "hold form": words, "hold list": words, "student import": f"library_fees_owed: {words}"}
    if as_number(typed) is not None:
        outcomes["place_hold"] = by_place_hold(library, typed)
        # The same sentence, naming the number as Python writes it (Decimal("1e3") is 1E+3).
        expected["place_hold"] = str(amount_refusal(as_number(typed)))
    assert outcomes == expected
    assert hold_count() == 0


@pytest.mark.parametrize(("typed", "amount"), ACCEPTED.items())
def test_an_accepted_amount_is_the_same_amount_everywhere(app, client, library, typed, amount):
    log_in(client, library)
    outcomes = {
        "rule": by_rule(typed),
        "hold form": by_hold_form(client, typed),
        "hold list": by_hold_list(client, typed),
        "student import": by_student_import(typed),
    }
    if as_number(typed) is not None:
        outcomes["place_hold"] = by_place_hold(library, typed)
    assert outcomes == dict.fromkeys(outcomes, amount)


def test_an_empty_amount_is_no_amount_and_in_the_import_nothing_owed(app, client, library):
    log_in(client, library)
    assert by_rule("") is None and by_rule("  ") is None
    assert by_hold_form(client, "") is None
    assert by_hold_list(client, "") is None
    assert by_student_import("") is None  # and no library hold to place
