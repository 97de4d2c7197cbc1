"""Admin pages: cohorts, windows, offices and steps, accounts, the student import."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

import clearance
from database import db, write_transaction
from models import Account, Cohort, FormVersion, Role, Step, StepMode, Student
from tests.conftest import audit_count, log_in, office
from wording import read

HEADER = "student_id,name,passport_no,cohort,school,name_zh,library_fees_owed\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


ADMIN_PAGES = [
    "/admin/cohorts",
    "/admin/cohorts/new",
    "/admin/offices",
    "/admin/steps/new",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/import",
]


@pytest.fixture
def outsiders(make_account, make_student):
    return [
        make_account("library"),
        make_account("desk", role=Role.DESK, office_code=None),
        make_student(must_change=False).account,
    ]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_only_admins_open_admin_pages(app, path, outsiders):
    for account in outsiders:
        client = app.test_client()
        log_in(client, account)
        assert client.get(path).status_code == 403, (path, account.username)
    assert app.test_client().get(path).status_code == 302


def test_posts_by_non_admins_change_nothing(client, make_account):
    log_in(client, make_account("library"))
    before = count(Cohort)
    response = client.post(
        "/admin/cohorts/new",
        data={"code": "X", "name_en": "X", "kind": "degree", "opens_on": "2026-06-01", "closes_on": "2026-06-30"},
    )
    assert response.status_code == 403 and count(Cohort) == before


# --- Cohorts and windows -------------------------------------------------------------


def cohort_data(**changes) -> dict:
    data = {
        "code": "UG2012",
        "name_en": "2012 undergraduates",
        "name_zh": "2012级本科生",
        "kind": "degree",
        "opens_on": "2027-06-20",
        "closes_on": "2027-07-03",
        "certificate_day": "2027-06-30",
        "certificate_hours": "08:30-16:00",
        "certificate_place": "School office",
        "documents": "",
    }
    return data | changes


def test_an_admin_creates_a_cohort_with_default_documents(admin_client):
    response = admin_client.post("/admin/cohorts/new", data=cohort_data(), follow_redirects=True)
    assert "Cohort UG2012 saved" in response.get_data(as_text=True)
    cohort = db.session.scalar(select(Cohort).where(Cohort.code == "UG2012"))
    assert cohort.documents == "Graduation certificate and degree certificate"
    assert cohort.closes_on == date(2027, 7, 3) and audit_count("cohort.created") == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closes_on": "2027-06-01"}, "closes before it opens"),
        ({"opens_on": "20/06/2027"}, "Not a valid date value"),
        ({"code": "UG 2012"}, "Letters, digits"),
        ({"certificate_hours": "morning"}, "Write the certificate hours like 08:30-16:00."),
    ],
)
def test_bad_cohort_input_is_explained_and_nothing_saved(admin_client, changes, message):
    page = admin_client.post("/admin/cohorts/new", data=cohort_data(**changes)).get_data(as_text=True)
    assert message in page and count(Cohort) == 0


def test_editing_a_cohort_is_audited_from_and_to(admin_client, make_cohort):
    cohort = make_cohort()
    data = cohort_data(code="UG2011", opens_on="2026-06-20", closes_on="2026-07-10")
    admin_client.post(f"/admin/cohorts/{cohort.id}", data=data)
    db.session.refresh(cohort)
    assert cohort.closes_on == date(2026, 7, 10) and cohort.name_en == "2012 undergraduates"
    assert audit_count("cohort.changed") == 1


def test_one_students_window_is_extended_with_a_reason(admin_client, make_student, clock):
    student = make_student(must_change=False)
    page = admin_client.post(
        "/admin/cohorts/extend",
        data={"student_id": "1111210101", "day": "2026-07-20", "reason": ""},
        follow_redirects=True,
    )
    assert "This field is required" in page.get_data(as_text=True)
    admin_client.post(
        "/admin/cohorts/extend",
        data={"student_id": "1111210101", "day": "2026-07-20", "reason": "Thesis defence on 15 July"},
    )
    db.session.refresh(student)
    assert student.window_extended_until == date(2026, 7, 20)
    assert clearance.window_state(student, date(2026, 7, 15)) == clearance.Window.OPEN
    assert audit_count("window.extended") == 1


def test_an_unknown_student_cannot_be_extended(admin_client, make_cohort):
    make_cohort()
    page = admin_client.post(
        "/admin/cohorts/extend",
        data={"student_id": "0000", "day": "2026-07-20", "reason": "x"},
        follow_redirects=True,
    )
    assert "No student has the ID 0000" in page.get_data(as_text=True)


# --- Offices and steps -----------------------------------------------------------------


def test_an_admin_edits_an_office(admin_client):
    library = office("LIB")
    data = {
        "code": "LIB",
        "name_en": "University Library",
        "name_zh": "图书馆",
        "location": "New building",
        "hours": "8-22",
        "phone": "123",
        "instructions": "Bring your card",
    }
    admin_client.post(f"/admin/offices/{library.id}", data=data)
    db.session.refresh(library)
    assert library.name_en == "University Library" and audit_count("office.changed") == 1


def step_data(**changes) -> dict:
    data = {
        "office_id": office("INTL").id,
        "title_en": "Exit survey",
        "title_zh": "离校问卷",
        "instructions": "",
        "what_to_bring": "",
        "position": "70",
        "mode": "staff",
    }
    return data | changes


@pytest.fixture
def complete_student(make_student, make_account):
    student = make_student(must_change=False)
    staff = make_account("admin2", role=Role.ADMIN, office_code=None)
    with write_transaction():
        clearance.refresh_students([student.id])
        for code in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, office(code).steps[0], staff)
    assert clearance.current_form(student) is not None
    return student


def test_adding_a_step_warns_before_voiding_printed_forms(admin_client, complete_student):
    page = admin_client.post("/admin/steps/new", data=step_data()).get_data(as_text=True)
    assert "voids 1 printed form." in page and "voids 1 printed forms" not in page
    assert db.session.scalar(select(Step).where(Step.title_en == "Exit survey")) is None
    admin_client.post("/admin/steps/new", data=step_data(confirm_void="y"))
    assert db.session.scalar(select(Step).where(Step.title_en == "Exit survey")) is not None
    assert clearance.current_form(complete_student) is None
    assert "step Exit survey added" in read(db.session.scalar(select(FormVersion.void_reason)))


def test_a_step_for_another_cohort_voids_nothing(admin_client, complete_student, make_cohort):
    other = make_cohort("NDCI")
    admin_client.post("/admin/steps/new", data=step_data(cohorts=[other.id]))
    assert clearance.current_form(complete_student) is not None


def test_switching_a_step_to_automatic_lets_the_system_clear_it(admin_client, make_student):
    student = make_student(must_change=False)
    card = office("CARD").steps[0]
    admin_client.post(
        f"/admin/steps/{card.id}", data=step_data(office_id=card.office_id, title_en=card.title_en, mode="automatic")
    )
    view = clearance.step_view(student, card)
    assert card.mode == StepMode.AUTOMATIC and view.shown == "cleared" and view.cleared_by_kind == "system"


def test_retiring_the_last_open_step_completes_a_student(admin_client, make_student, make_account):
    student = make_student(must_change=False)
    staff = make_account("admin2", role=Role.ADMIN, office_code=None)
    with write_transaction():
        clearance.refresh_students([student.id])
        for code in ("LIB", "DORM", "CARD", "INTL"):
            clearance.clear_step(student, office(code).steps[0], staff)
    school = office("SCHOOL").steps[0]
    admin_client.post(
        f"/admin/steps/{school.id}", data=step_data(office_id=school.office_id, title_en=school.title_en, retired="y")
    )
    assert school.retired and clearance.current_form(student) is not None
    assert count(Step) == 6  # retired, not deleted


def test_a_step_cannot_need_itself(admin_client):
    card = office("CARD").steps[0]
    page = admin_client.post(
        f"/admin/steps/{card.id}",
        data=step_data(office_id=card.office_id, title_en=card.title_en, prerequisites=[card.id]),
    ).get_data(as_text=True)
    assert "is not a valid choice" in page
    assert card not in card.prerequisites


# --- Accounts ----------------------------------------------------------------------------


def test_a_new_account_without_a_password_gets_a_one_time_password_shown_once(admin_client, app):
    page = admin_client.post(
        "/admin/accounts/new",
        data={
            "username": "finance2",
            "display_name": "Finance counter 2",
            "role": "staff",
            "office_id": office("FIN").id,
            "school_id": 0,
        },
    ).get_data(as_text=True)
    password = page.split("<code>")[1].split("</code>")[0]
    account = db.session.scalar(select(Account).where(Account.username == "finance2"))
    assert account.office.code == "FIN" and account.must_change_password and password not in account.password_hash
    newcomer = app.test_client()
    response = newcomer.post("/login", data={"username": "finance2", "password": password})
    assert response.headers["Location"] == "/staff/"
    assert newcomer.get("/staff/", follow_redirects=True).request.path == "/password"


def test_staff_without_an_office_is_refused(admin_client):
    page = admin_client.post(
        "/admin/accounts/new",
        data={"username": "nobody", "role": "staff", "office_id": 0, "school_id": 0, "password": "long enough pass"},
    )
    assert "needs an office" in page.get_data(as_text=True)
    assert db.session.scalar(select(Account).where(Account.username == "nobody")) is None


def test_disabling_an_account_ends_its_sessions(admin_client, app, make_account):
    library = make_account("library")
    library_client = app.test_client()
    log_in(library_client, library)
    admin_client.post(
        f"/admin/accounts/{library.id}",
        data={"display_name": "", "role": "staff", "office_id": office("LIB").id, "school_id": 0, "disabled": "y"},
    )
    db.session.refresh(library)
    assert library.disabled and audit_count("account.changed") == 1
    assert library_client.get("/staff/").status_code == 302


def test_an_admin_cannot_disable_themself(admin_client, admin):
    page = admin_client.post(
        f"/admin/accounts/{admin.id}", data={"role": "admin", "office_id": 0, "school_id": 0, "disabled": "y"}
    ).get_data(as_text=True)
    assert "cannot disable your own account" in page
    db.session.refresh(admin)
    assert not admin.disabled


def test_giving_a_one_time_password_asks_first_and_changes_nothing(admin_client, app, make_student):
    student = make_student(must_change=False, password="forgotten password")
    before = (student.account.password_hash, student.account.session_generation)
    page = admin_client.post(f"/admin/accounts/{student.account.id}/reset-password").get_data(as_text=True)
    assert "Give 1111210101 a one-time password?" in page and "stops working at once" in page
    assert "Yes, give a one-time password" in page and 'name="confirm" value="yes"' in page and "<code>" not in page
    db.session.refresh(student.account)
    assert (student.account.password_hash, student.account.session_generation) == before
    assert audit_count("password.reset") == 0
    returning = app.test_client()
    response = returning.post("/login", data={"username": "1111210101", "password": "forgotten password"})
    assert response.status_code == 302


def test_the_accounts_list_and_an_account_page_offer_the_reset_that_asks_first(admin_client, make_account):
    library = make_account("library")
    for path in ("/admin/accounts", f"/admin/accounts/{library.id}"):
        page = admin_client.get(path).get_data(as_text=True)
        form = page.split(f'action="/admin/accounts/{library.id}/reset-password"')[1].split("</form>")[0]
        assert "Give a one-time password" in form and 'name="confirm"' not in form


def test_a_students_password_reset_gives_a_one_time_password_that_forces_a_change(admin_client, app, make_student):
    student = make_student(must_change=False, password="forgotten password")
    url = f"/admin/accounts/{student.account.id}/reset-password"
    page = admin_client.post(url, data={"confirm": "yes"}).get_data(as_text=True)
    password = page.split("<code>")[1].split("</code>")[0]
    assert len(password) == 10 and audit_count("password.reset") == 1
    returning = app.test_client()
    assert (
        returning.post("/login", data={"username": "1111210101", "password": "forgotten password"}).status_code == 200
    )
    returning.post("/login", data={"username": "1111210101", "password": password})
    assert returning.get("/checklist", follow_redirects=True).request.path == "/password"


def test_the_account_list_finds_students_by_id(admin_client, make_student):
    make_student(must_change=False)
    assert "1111210101" not in admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "1111210101" in admin_client.get("/admin/accounts?q=11112").get_data(as_text=True)


# --- The import ---------------------------------------------------------------------------


def upload(client, text: str, encoding="utf-8", raw: bytes | None = None):
    data = raw if raw is not None else text.encode("utf-8")
    return client.post(
        "/admin/import",
        data={"file": (io.BytesIO(data), "students.csv"), "encoding": encoding},
        content_type="multipart/form-data",
    )


GOOD = (
    HEADER + "1111210101,Arjun Raghavan,E 1234-5678,UG2011,School of Clinical Medicine,,\n"
    "1111210102,Sushila Thapa,10293847,UG2011,School of Clinical Medicine,,12.50\n"
)


def test_a_file_with_one_bad_line_shows_the_error_and_imports_nothing(admin_client, make_cohort):
    make_cohort()
    bad = GOOD.replace("10293847", "AB-123")
    page = upload(admin_client, bad).get_data(as_text=True)
    assert "Line 3:" in page and "fewer than 6 digits" in page and "cannot be imported" in page
    assert "admin.import_confirm" not in page and count(Student) == 0


def kept_upload(page: str) -> dict[str, str]:
    """The confirm form's hidden fields: the kept upload's name and seal, and the encoding."""
    return {name: page.split(f'name="{name}" value="')[1].split('"')[0] for name in ("upload", "seal", "encoding")}


def test_preview_writes_nothing_and_confirm_imports_through_the_same_code(admin_client, make_cohort):
    make_cohort()
    page = upload(admin_client, GOOD).get_data(as_text=True)
    assert "Preview: nothing has been written yet" in page and count(Student) == 0
    assert "10293847" not in page and 'name="carried"' not in page  # the file stays on the server
    done = admin_client.post("/admin/import/confirm", data=kept_upload(page))
    assert "2 students added" in done.get_data(as_text=True)
    assert count(Student) == 2 and audit_count("student.imported") == 2


def test_confirm_checks_again(admin_client, make_cohort):
    make_cohort()
    page = upload(admin_client, GOOD).get_data(as_text=True)
    db.session.execute(Cohort.__table__.delete())
    db.session.commit()
    done = admin_client.post("/admin/import/confirm", data=kept_upload(page))
    assert done.status_code == 400 and "Nothing was imported" in done.get_data(as_text=True)
    assert count(Student) == 0


def test_a_file_that_is_not_csv_text_is_refused(admin_client, make_cohort):
    make_cohort()
    response = upload(admin_client, "", raw=b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    assert response.status_code == 400 and "refused" in response.get_data(as_text=True)


def test_an_upload_over_the_limit_gets_413(app, admin_client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(admin_client, HEADER + "x" * 2000)
    assert response.status_code == 413 and "larger than this page accepts" in response.get_data(as_text=True)


def test_a_gb18030_upload_is_read_when_chosen(admin_client, make_cohort):
    make_cohort()
    text = GOOD.replace(
        "Sushila Thapa,10293847,UG2011,School of Clinical Medicine,",
        "Lim Wei Jie,10293847,UG2011,School of Clinical Medicine,林伟杰",
    )
    page = upload(admin_client, "", encoding="gb18030", raw=text.encode("gb18030")).get_data(as_text=True)
    assert "林伟杰" in page and "Preview" in page
    refused = upload(admin_client, "", raw=text.encode("gb18030")).get_data(as_text=True)
    assert "CSV UTF-8" in refused


def test_prerequisites_cannot_make_a_circle(admin_client):
    card, school = office("CARD").steps[0], office("SCHOOL").steps[0]  # the school sign-off needs the card
    page = admin_client.post(
        f"/admin/steps/{card.id}",
        data=step_data(office_id=card.office_id, title_en=card.title_en, prerequisites=[school.id]),
    ).get_data(as_text=True)
    assert "make a circle" in page
    db.session.refresh(card)
    assert card.prerequisites == []


def test_an_automatic_step_needs_no_prerequisites(admin_client):
    card, dorm = office("CARD").steps[0], office("DORM").steps[0]
    page = admin_client.post(
        f"/admin/steps/{card.id}",
        data=step_data(office_id=card.office_id, title_en=card.title_en, mode="automatic", prerequisites=[dorm.id]),
    ).get_data(as_text=True)
    assert "cannot need other steps first" in page
    db.session.refresh(card)
    assert card.mode == StepMode.STAFF
