"""How much /form.pdf costs beyond xhtml2pdf's bare render of the same HTML (target: at most 1.5x).

Run: .venv/bin/python -m bench.form_pdf [rounds]. Prints figures; never fails. Compare the
ratio within one run: the machine is shared and noisy.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import login_sessions
from app import create_app
from bench.timing import median_ms
from database import db, write_transaction

KEYS = {"SECRET_KEY": "bench", "INITIAL_PASSWORD_KEY": "bench", "FORM_SIGNING_KEY": "bench"}


def complete_student():
    """The demo data, with one student cleared everywhere."""
    import clearance
    import seeding
    from clock import today
    from importing import apply_import, plan_import
    from models import Account, Office, Role, Student

    seeding.ensure_standard_offices()
    seeding.ensure_demo_cohorts(today())
    apply_import(plan_import(Path("seed_data.csv").read_bytes()), None, "bench")
    admin = Account(username="bench-admin", role=Role.ADMIN)
    db.session.add(admin)
    student = db.session.scalars(db.select(Student).order_by(Student.id)).first()
    for office in db.session.scalars(db.select(Office)):
        for step in office.steps:
            if step.mode.value != "automatic":
                clearance.clear_step(student, step, admin)
    student.account.must_change_password = False
    return student


def main(rounds: int) -> None:
    import printing
    from clearance import current_form

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({**KEYS, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "TESTING": True})
        with app.app_context():
            db.create_all()
            with write_transaction():
                student = complete_student()
            client = app.test_client()
            token = login_sessions.start(student.account)
            db.session.commit()
            with client.session_transaction() as session:
                session["_user_id"] = token
            # Its own app context, so Flask-Login's cached anonymous user does not leak into the client's requests.
            with app.app_context(), app.test_request_context("/form.pdf"):
                student = db.session.merge(student)
                html = printing.render_form_html(
                    printing.form_content(student, current_form(student), for_pdf=True), for_pdf=True
                )

            def bare():
                printing.render_pdf(html)

            def endpoint():
                response = client.get("/form.pdf")
                assert response.status_code == 200, (response.status_code, response.location)

            bare_ms = median_ms(bare, rounds)
            endpoint_ms = median_ms(endpoint, rounds)
    print(f"rounds: {rounds}")
    print(f"xhtml2pdf bare render of the form HTML: median {bare_ms:6.1f} ms")
    print(f"GET /form.pdf (auth, queries, audit, QR, template, render): median {endpoint_ms:6.1f} ms")
    print(f"ratio endpoint / bare: {endpoint_ms / bare_ms:.2f} (target: at most 1.5)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
