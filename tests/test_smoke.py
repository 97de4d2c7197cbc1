from tests.conftest import log_in


def test_login_page_names_the_university_and_the_initial_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Wenzhou Medical University" in page
    assert "温州医科大学" in page
    assert "last 6 digits of your passport number" in page
    assert "86699251" in page


def test_student_checklist_lists_applicable_steps(client, make_student):
    student = make_student(must_change=False)
    log_in(client, student.account)
    page = client.get("/checklist").get_data(as_text=True)
    assert "Cancel your library card" in page
    assert "School sign-off" in page
