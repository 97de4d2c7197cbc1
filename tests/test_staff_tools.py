"""The office tools through HTTP: hold lists, clearing many, the counter; and who may use them."""

from __future__ import annotations

import base64
import io
import re
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import clearance
import importing
import reading
from database import db, write_transaction
from models import AuditEvent, Cohort, CohortKind, FormVersion, Hold, HoldSource, Role, StepState, StepStatus, Student
from tests.conftest import audit_count, log_in, make_cohort_step, office
from wording import read

HOLDS_URL = "/staff/holds/upload"
BULK_URL = "/staff/bulk-clear"
COUNTER_URL = "/staff/counter"


def step_of(code):
    return office(code).steps[0]


def shown(student, step) -> str:
    return clearance.step_view(db.session.get(Student, student.id), step).shown


def snapshot() -> tuple[int, int, int, int]:
    """Rows of every table the tools write; the access tests assert they did not change."""
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return count(StepStatus), count(Hold), count(AuditEvent), count(FormVersion)


def csv_upload(text: str, name: str = "holds.csv", encoding: str = "utf-8", codec: str | None = None) -> dict:
    return {
        "stage": "preview",
        "encoding": encoding,
        "file": (io.BytesIO(text.encode(codec or encoding) if isinstance(text, str) else text), name),
    }


def carried(page: str) -> dict:
    """The hidden fields of the page's confirm (or counter's clear) form, as the browser would send them back."""
    form = next(
        form
        for form in re.findall(r"<form .*?</form>", page, re.S)
        if 'value="confirm"' in form or "counter-clear" in form
    )
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return fields


@pytest.fixture
def people(make_student, make_account, make_cohort):
    """Students of two schools and two cohorts, and accounts of every kind."""
    make_cohort()
    make_cohort("NDSHORT", kind=CohortKind.NON_DEGREE)
    students = {
        "a": make_student("1111210101", must_change=False),
        "b": make_student("1111210102", name="Sushila Thapa", must_change=False),
        "c": make_student("1111210103", name="Kwame Mensah", must_change=False),
        "nursing": make_student("1111210104", name="Wanjiru Kamau", school="School of Nursing", must_change=False),
        "short": make_student(
            "2222000001",
            name="Lee Min-jun",
            must_change=False,
            cohort=db.session.scalar(select(Cohort).where(Cohort.code == "NDSHORT")),
        ),
    }
    accounts = {
        "library": make_account("library", office_code="LIB"),
        "housing": make_account("housing", office_code="DORM"),
        "finance": make_account("finance", office_code="FIN"),
        "clinical": make_account("clinical", office_code="SCHOOL", school="School of Clinical Medicine"),
        "desk": make_account("desk", role=Role.DESK, office_code=None),
        "desk-housing": make_account("desk-housing", role=Role.DESK, office_code="DORM"),
        "admin": make_account("admin", role=Role.ADMIN, office_code=None),
    }
    return {**students, **accounts}


def clear_everything_but_school(student, admin) -> None:
    with write_transaction():
        clearance.refresh_students([student.id])
        for code in ("LIB", "DORM", "CARD", "INTL"):
            clearance.clear_step(student, step_of(code), admin)


# --- Access -------------------------------------------------------------------------------------


REQUESTS = [
    ("get", HOLDS_URL),
    ("post", HOLDS_URL),
    ("get", BULK_URL),
    ("post", BULK_URL),
    ("get", COUNTER_URL),
    ("get", COUNTER_URL + "?id=1111210101"),
    ("post", COUNTER_URL),
]


@pytest.mark.parametrize(("method", "url"), REQUESTS)
@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("student", 403), ("desk", 403)])
def test_only_office_workers_reach_the_tools(app, people, method, url, who, expected):
    client = app.test_client()
    if who == "student":
        log_in(client, people["a"].account)
    elif who == "desk":
        log_in(client, people["desk"])  # a desk account that names no office
    data = {
        "stage": "confirm",
        "ids": "1111210101",
        "id": "1111210101",
        "step": str(step_of("DORM").id),
        "content": base64.b64encode(b"student_id,amount,reason\n1111210101,5,x\n").decode(),
        "encoding": "utf-8",
    }
    before = snapshot()
    response = client.post(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert "/login" in response.headers["Location"]
    assert snapshot() == before


def test_the_queue_links_to_the_tools(client, people):
    log_in(client, people["housing"])
    page = client.get("/staff/").get_data(as_text=True)
    assert all(url in page for url in (HOLDS_URL, BULK_URL, COUNTER_URL))


def test_a_desk_account_that_names_an_office_uses_the_tools(client, people):
    log_in(client, people["desk-housing"])
    client.post(BULK_URL, data={"stage": "confirm", "ids": "1111210101"})
    assert shown(people["a"], step_of("DORM")) == "cleared"


def test_an_office_cannot_bulk_clear_another_offices_step(client, people):
    log_in(client, people["housing"])
    before = snapshot()
    response = client.post(BULK_URL, data={"stage": "confirm", "ids": "1111210101", "step": step_of("CARD").id})
    assert response.status_code == 403 and snapshot() == before
    # ?office= is for admins only: staff always act for their own office.
    client.post(BULK_URL + "?office=CARD", data={"stage": "confirm", "ids": "1111210101"})
    assert shown(people["a"], step_of("CARD")) == "pending" and shown(people["a"], step_of("DORM")) == "cleared"


def test_an_admin_chooses_the_office(client, people):
    log_in(client, people["admin"])
    page = client.post(BULK_URL + "?office=CARD", data={"stage": "confirm", "ids": "1111210101"}).get_data(True)
    assert "Campus Card Centre" in page and "1 student cleared" in page
    assert shown(people["a"], step_of("CARD")) == "cleared"


# --- Hold lists ----------------------------------------------------------------------------------


GOOD_LIST = "student_id,amount,reason\r\n1111210101,35.50,Overdue books\r\n1111210102,,Lost library card\r\n"


def test_the_preview_shows_every_row_and_writes_nothing(client, people):
    log_in(client, people["library"])
    before = snapshot()
    response = client.post(HOLDS_URL, data=csv_upload("\ufeff" + GOOD_LIST), content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and snapshot() == before
    assert "2 holds to place" in page and "¥35.50" in page and "Overdue books" in page and "Lost library card" in page
    assert "Place these 2 holds" in page


def test_confirm_places_every_hold_from_the_carried_file(client, people):
    log_in(client, people["library"])
    with write_transaction():
        clearance.clear_step(people["a"], step_of("LIB"), people["library"])
    preview = client.post(HOLDS_URL, data=csv_upload(GOOD_LIST), content_type="multipart/form-data")
    response = client.post(HOLDS_URL, data=carried(preview.get_data(as_text=True)))
    assert response.status_code == 302
    holds = db.session.scalars(select(Hold).order_by(Hold.id)).all()
    assert [(h.student.student_id, h.amount, h.reason, h.source) for h in holds] == [
        ("1111210101", Decimal("35.50"), "Overdue books", HoldSource.LIST),
        ("1111210102", None, "Lost library card", HoldSource.LIST),
    ]
    assert shown(people["a"], step_of("LIB")) == "blocked"  # a cleared step is blocked again
    assert audit_count("hold.placed") == 2 and audit_count("hold.list-placed") == 1
    assert "2 holds placed from holds.csv" in client.get(HOLDS_URL).get_data(as_text=True)
    # Sending the same confirm again (back button, double click) places nothing twice.
    client.post(HOLDS_URL, data=carried(preview.get_data(as_text=True)))
    assert db.session.scalar(select(func.count()).select_from(Hold)) == 2


BAD_LIST = """student_id,amount,reason
1111210101,12.50,Overdue books
9999999999,5,Unknown person
1111210104,5,Other school
1111210102,-3,Negative
1111210103,abc,Not a number
2222000001,1.234,Three decimals
1111210102,4,Second time
1111210103,4,
"""


def test_every_problem_is_reported_with_its_line_and_nothing_is_placed(client, people):
    log_in(client, people["clinical"])  # limited to the School of Clinical Medicine
    before = snapshot()
    preview = client.post(HOLDS_URL, data=csv_upload(BAD_LIST), content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    for line, problem in [
        (3, "no student has the ID 9999999999"),
        (4, "not a student of your school"),
        (5, "“-3” is not an amount owed"),
        (6, "“abc” is not an amount owed"),
        (7, "“1.234” is not an amount owed"),
        (8, "already on line 5"),
        (9, "Give a reason"),
    ]:
        assert re.search(rf"Line {line}:</strong>[^<]*{re.escape(problem)}", page), (line, problem)
    assert "Place these" not in page
    # A forged confirm places nothing: the preview kept no file for a list with problems.
    response = client.post(
        HOLDS_URL,
        data={"stage": "confirm", "encoding": "utf-8", "filename": "bad.csv", "upload": "0" * 32, "seal": "0" * 64},
    )
    assert response.status_code == 200 and "nothing was placed" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_step_that_does_not_apply_still_gets_the_hold(client, people):
    log_in(client, people["housing"])
    dorm = step_of("DORM")
    dorm.cohorts = [people["a"].cohort]
    db.session.commit()
    page = client.post(
        HOLDS_URL,
        data=csv_upload("student_id,amount,reason\n2222000001,100,Keys\n"),
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "No step of this office applies" in page
    client.post(HOLDS_URL, data=carried(page))
    assert db.session.scalar(select(Hold.reason).where(Hold.student_id == people["short"].id)) == "Keys"


def test_a_hold_list_on_finance_blocks_the_automatic_step_and_voids_the_form(client, people):
    student, admin = people["a"], people["admin"]
    clear_everything_but_school(student, admin)
    with write_transaction():
        clearance.clear_step(student, step_of("SCHOOL"), admin)
    form = clearance.current_form(student)
    assert form is not None and shown(student, step_of("FIN")) == "cleared"
    log_in(client, people["finance"])
    page = client.post(
        HOLDS_URL,
        data=csv_upload("student_id,amount,reason\n1111210101,2300,Tuition unpaid\n"),
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "1 of these holds voids a student's form for leaving school" in page  # the preview flags it
    assert f"Voids form {form.serial} (issued on 2026-06-25 12:00, not printed yet)" in page
    client.post(HOLDS_URL, data=carried(page))
    assert shown(student, step_of("FIN")) == "blocked"
    assert db.session.get(FormVersion, form.id).voided_at is not None
    assert clearance.current_form(student) is None
    assert "Tuition unpaid" in read(db.session.get(FormVersion, form.id).void_reason)


def test_gb18030_lists_are_read_when_chosen(client, people):
    log_in(client, people["library"])
    text = "student_id,amount,reason\n1111210101,8,逾期图书\n"
    refused = client.post(HOLDS_URL, data=csv_upload(text, codec="gb18030"), content_type="multipart/form-data")
    assert "not valid utf-8" in refused.get_data(as_text=True)
    page = client.post(HOLDS_URL, data=csv_upload(text, encoding="gb18030"), content_type="multipart/form-data")
    assert "逾期图书" in page.get_data(as_text=True)
    client.post(HOLDS_URL, data=carried(page.get_data(as_text=True)))
    assert db.session.scalar(select(Hold.reason)) == "逾期图书"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "holds.csv", "Excel workbook"),
        (b"student_id,amount,reason\n", "holds.xlsx", "is not a CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "holds.csv", "not"),
        (b"name,amount\nx,1\n", "holds.csv", "line 1: missing required column(s): student_id, reason"),
        (b"", "holds.csv", "empty"),
    ],
)
def test_files_that_are_not_hold_lists_are_refused_with_a_message(client, people, content, name, message):
    log_in(client, people["library"])
    response = client.post(HOLDS_URL, data=csv_upload(content, name=name), content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The file was refused" in page and message in page


# --- Clearing many -----------------------------------------------------------------------------------


def test_pasted_ids_are_split_on_any_separator_and_counted_once():
    text = "student_id\r\n1111210101\t1111210102;1111210103, 1111210101\n\n'2222000001'，1111210104"
    assert reading.student_numbers(text) == (["1111210101", "1111210102", "1111210103", "2222000001", "1111210104"], 1)


def test_the_preview_says_what_would_happen_and_writes_nothing(client, people):
    log_in(client, people["housing"])
    before = snapshot()
    page = client.post(BULK_URL, data={"ids": "1111210101\n1111210102\n0000000000\n1111210101"}).get_data(True)
    assert snapshot() == before
    assert "<strong>2</strong> Will be cleared" in page and "<strong>1</strong> Not found" in page
    assert "1 repeated ID is counted once" in page and "Clear 2 students now" in page
    will = re.search(r'id="outcome-cleared".*?</section>', page, re.S).group(0)  # the name beside each ID
    assert re.search(r"1111210101</span> <span class=\"name\">Arjun Raghavan", will)
    assert re.search(r"1111210102</span> <span class=\"name\">Sushila Thapa", will)


def test_every_result_category_with_counts_ids_and_reasons(client, people, make_student):
    a, b, c, admin = people["a"], people["b"], people["c"], people["admin"]
    school = step_of("SCHOOL")
    school.cohorts = [a.cohort]  # not for the short-term students
    db.session.commit()
    held = make_student("1111210105", name="Ama Owusu", must_change=False)
    blocked = make_student("1111210106", name="Omar Haddad", must_change=False)
    for student in (a, b, held, blocked):  # c has done nothing yet: prerequisites missing
        clear_everything_but_school(student, admin)
    with write_transaction():
        clearance.clear_step(b, school, admin)
        clearance.place_hold(held, office("SCHOOL"), admin, "Thesis copy not handed in", None)
        clearance.block_step(blocked, school, admin, "Missing signature of the supervisor")
    log_in(client, people["clinical"])  # the school office of Clinical Medicine
    ids = "1111210101 1111210102 1111210103 1111210105 1111210106 1111210104 2222000001 9999999999"
    preview = client.post(BULK_URL, data={"ids": ids}).get_data(as_text=True)
    assert "<strong>1</strong> Will be cleared" in preview and "<strong>3</strong> Will be refused" in preview
    page = client.post(BULK_URL, data={"stage": "confirm", **carried(preview)}).get_data(as_text=True)
    sections = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<section class="outcome [^"]*" id="outcome-([\w-]+)".*?</section>', page, re.S)
    }
    assert "<strong>1</strong> Cleared" in page and "1111210101" in sections["cleared"]
    assert "Arjun Raghavan" in sections["cleared"] and "Sushila Thapa" in sections["already-cleared"]
    assert "<strong>1</strong> Already cleared" in page and "1111210102" in sections["already-cleared"]
    assert "<strong>1</strong> Not found" in page and "9999999999" in sections["not-found"]
    assert "<strong>2</strong> Not in scope" in page
    assert re.search(r"1111210104.*other school", sections["not-in-scope"], re.S)
    assert re.search(r"2222000001.*step does not apply", sections["not-in-scope"], re.S)
    refused = sections["refused"]
    assert re.search(r"1111210103.*missing prerequisite.*these steps come first", refused, re.S)
    assert re.search(r"1111210105.*open hold.*Thesis copy not handed in", refused, re.S)
    assert re.search(r"1111210106.*blocked by staff.*Missing signature", refused, re.S)
    assert shown(a, school) == "cleared" and shown(c, school) == "pending"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "step.cleared", AuditEvent.actor_id == people["clinical"].id)
        )
        == 1
    )


def test_an_automatic_step_is_refused_for_everyone(client, people):
    log_in(client, people["finance"])
    page = client.post(BULK_URL, data={"stage": "confirm", "ids": "1111210101"}).get_data(as_text=True)
    assert "automatic step" in page and "The system clears this step by itself" in page


def test_an_office_with_two_steps_chooses_which(client, people):
    second = make_cohort_step(office("DORM"), "Return the key deposit card", [])
    log_in(client, people["housing"])
    form = client.get(BULK_URL).get_data(as_text=True)
    assert "Return the key deposit card" in form and 'name="step"' in form
    client.post(BULK_URL, data={"stage": "confirm", "ids": "1111210101", "step": second.id})
    assert shown(people["a"], second) == "cleared" and shown(people["a"], step_of("DORM")) == "pending"


def test_ids_from_an_uploaded_csv_column(client, people):
    log_in(client, people["housing"])
    data = "\ufeffname,student_id\r\nArjun Raghavan,1111210101\r\nSushila Thapa,1111210102\r\n".encode()
    page = client.post(
        BULK_URL, data={"ids": "", "file": (io.BytesIO(data), "ids.csv")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "<strong>2</strong> Will be cleared" in page and "<strong>0</strong> Not found" in page


def test_three_thousand_ids_preview_and_clear_in_seconds(app, client, make_account, make_cohort):
    make_cohort()
    rows = [f"3000{n:06d},Student {n},E{n:08d},UG2011,School of Clinical Medicine,,,,," for n in range(3000)]
    data = (
        "student_id,name,passport_no,cohort,school,name_zh,programme,nationality,email,library_fees_owed\n"
        + "\n".join(rows)
    ).encode()
    with write_transaction():
        importing.apply_import(importing.plan_import(data), None, "test")
    log_in(client, make_account("housing", office_code="DORM"))
    ids = "\n".join(f"3000{n:06d}" for n in range(3000))
    started = time.perf_counter()
    preview = client.post(BULK_URL, data={"ids": ids})
    previewed = time.perf_counter()
    result = client.post(BULK_URL, data={"stage": "confirm", "ids": ids})
    cleared = time.perf_counter()
    print(f"\n3,000 IDs: preview {previewed - started:.2f} s, clear {cleared - previewed:.2f} s")
    assert "<strong>3000</strong> Will be cleared" in preview.get_data(as_text=True)
    assert "<strong>3000</strong> Cleared" in result.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(StepStatus)
            .where(StepStatus.step_id == step_of("DORM").id, StepStatus.state == StepState.CLEARED)
        )
        == 3000
    )
    assert cleared - started < 60  # generous on a shared machine; the figures above are what matter


# --- The counter ---------------------------------------------------------------------------------------


def counter_form(page: str) -> dict:
    """The counter's one form as the browser sends it when Enter is pressed in the box (the box empty)."""
    form = re.search(r'<form [^>]*id="counter-form".*?</form>', page, re.S).group()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    return {**fields, "scan": "", "action": "open"}


def test_the_counter_opens_a_student_and_one_enter_on_the_empty_box_clears(client, people):
    log_in(client, people["housing"])
    empty = client.get(COUNTER_URL).get_data(as_text=True)
    assert re.search(r'<input id="counter-id"[^>]*autofocus', empty)
    page = client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)
    assert "Arjun Raghavan" in page and "Waiting" in page
    assert re.search(r'<input id="counter-id"[^>]*autofocus', page)  # the box keeps the focus, without a script
    response = client.post(COUNTER_URL, data=counter_form(page))
    assert response.headers["Location"] == COUNTER_URL
    assert shown(people["a"], step_of("DORM")) == "cleared" and audit_count("step.cleared", by_people=True) == 1
    after = client.get(COUNTER_URL).get_data(as_text=True)
    assert "Cleared: Arjun Raghavan (1111210101)" in after
    assert "Cleared" in client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)


def test_scanning_the_next_card_opens_it_and_never_clears_the_one_shown(client, people):
    log_in(client, people["housing"])
    page = client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)
    response = client.post(COUNTER_URL, data={**counter_form(page), "scan": "1111210102"})
    assert response.headers["Location"] == COUNTER_URL + "?id=1111210102"
    assert shown(people["a"], step_of("DORM")) == "pending" and audit_count("step.cleared", by_people=True) == 0


def test_the_clear_button_clears_the_one_shown(client, people):
    log_in(client, people["housing"])
    page = client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)
    client.post(COUNTER_URL, data=carried(page) | {"action": "clear"})
    assert shown(people["a"], step_of("DORM")) == "cleared"


def test_the_counter_shows_a_block_and_refuses_to_clear(client, people):
    with write_transaction():
        clearance.place_hold(people["a"], office("DORM"), people["housing"], "Room 214: broken window", Decimal("150"))
    log_in(client, people["housing"])
    page = client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)
    assert "Blocked" in page and "Room 214: broken window" in page and "¥150" in page
    assert 'class="button primary huge"' not in page
    before = snapshot()
    client.post(COUNTER_URL, data={"current": "1111210101", "step": step_of("DORM").id, "action": "clear"})
    assert snapshot() == before
    after = client.get(COUNTER_URL).get_data(as_text=True)
    assert "Not cleared: Arjun Raghavan (1111210101)" in after and "open hold" in after


def test_the_counter_says_when_an_id_is_unknown_or_out_of_scope(client, people):
    log_in(client, people["clinical"])
    unknown = client.get(COUNTER_URL + "?id=0000").get_data(as_text=True)
    assert "No student has the ID 0000" in unknown and re.search(r'id="counter-id"[^>]*autofocus', unknown)
    other = client.get(COUNTER_URL + "?id=1111210104").get_data(as_text=True)
    assert "not a student of your school" in other and "Wanjiru" not in other


# --- With CSRF on, as in production ----------------------------------------------------------------------


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_posts_without_the_token_change_nothing(self, client, people):
        log_in(client, people["housing"])
        before = snapshot()
        for url, data in [
            (BULK_URL, {"stage": "confirm", "ids": "1111210101"}),
            (COUNTER_URL, {"current": "1111210101", "step": step_of("DORM").id, "action": "clear"}),
        ]:
            assert client.post(url, data=data).status_code == 400
        assert snapshot() == before

    def test_the_pages_carry_the_token(self, client, people):
        log_in(client, people["housing"])
        page = client.get(COUNTER_URL + "?id=1111210101").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post(COUNTER_URL, data={**carried(page), "csrf_token": token})
        assert shown(people["a"], step_of("DORM")) == "cleared"
