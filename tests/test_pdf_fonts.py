"""The PDF names only the font it embeds, so an archived form looks the same in every viewer (issue 9, item 22).

`pdffonts` (poppler-utils, installed by `make test` and in CI) lists every font a PDF names; a font
not embedded is drawn by each viewer with whatever it has.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import clearance
import printing
from database import write_transaction
from models import Role
from tests.conftest import log_in, office

PROJECT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils (pdffonts) is not installed")


def fonts_of(path: Path) -> list[tuple[str, str]]:
    """(name, embedded yes/no) of every font the PDF names."""
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    # Columns from the right: emb sub uni object-number generation; a name may hold no spaces.
    return [(row[0], row[-5]) for row in rows]


@pytest.fixture
def latin_only(make_student, make_account):
    """A complete student with no Chinese name: the form's font was never loaded before the PDF was drawn."""
    student = make_student(must_change=False, name="Sushila Thapa", nationality="Nepal")
    admin = make_account("admin", role=Role.ADMIN, office_code=None)
    with write_transaction():
        clearance.refresh_students([student.id])
        for code in ("LIB", "DORM", "CARD", "INTL", "SCHOOL"):
            clearance.clear_step(student, office(code).steps[0], admin)
    return student


def test_the_form_of_a_student_without_a_chinese_name_embeds_every_font(client, latin_only, tmp_path):
    log_in(client, latin_only.account)
    path = tmp_path / "form.pdf"
    path.write_bytes(client.get("/form.pdf").data)
    fonts = fonts_of(path)
    assert fonts and all(embedded == "yes" for _name, embedded in fonts), fonts
    assert not any("Helvetica" in name for name, _embedded in fonts)


def test_the_form_embeds_every_font_whoever_imported_reportlab_first(app, latin_only, tmp_path):
    """In a fresh process that imported xhtml2pdf (and so reportlab) before the form's font: as gunicorn may."""
    with app.test_request_context("/form.pdf"):
        content = printing.form_content(latin_only, clearance.current_form(latin_only), for_pdf=True)
        (tmp_path / "form.html").write_text(printing.render_form_html(content, for_pdf=True), encoding="utf-8")
    script = (
        "import sys; from xhtml2pdf import pisa; import printing; "
        "html = open(sys.argv[1], encoding='utf-8').read(); "
        "open(sys.argv[2], 'wb').write(printing.render_pdf(html))"
    )
    out = tmp_path / "fresh.pdf"
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "form.html"), str(out)], cwd=PROJECT, check=True, timeout=60
    )
    fonts = fonts_of(out)
    assert fonts and all(embedded == "yes" for _name, embedded in fonts), fonts
