"""The Form for Leaving School as a page and as a PDF: its content, its QR code, and the PDF rendering.

The PDF embeds WenQuanYi Micro Hei (shipped in static/fonts), so Latin with every accent, Greek,
Cyrillic, Chinese, Japanese kana and Korean Hangul show the same in any viewer. reportlab has no
per-glyph fallback, so a name in a script the font lacks (Arabic, Thai, Devanagari…) is left out
and the passport's Latin spelling, which every student has, stands alone. The form has no lists:
xhtml2pdf draws bullets in Helvetica and Symbol, which it does not embed (tests/test_pdf_fonts.py).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import segno
from flask import current_app, render_template, request

from clearance import StepView, certificate_place, checklist, display_code, token_for
from clock import utcnow
from models import FormVersion, Student

FONT_FILE = Path(__file__).resolve().parent / "static" / "fonts" / "wqy-microhei.ttc"
FONT_NAME = "WQYMicroHei"
FORM_CSS = Path(__file__).resolve().parent / "static" / "css" / "form.css"
# xhtml2pdf warns on every render about the browser-only rules of form.css (shadows, cursors).
logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)


@cache
def _font():
    """Register the embedded font once per process and make it every default, so nothing falls back to Helvetica."""
    import xhtml2pdf.default
    from reportlab import rl_config
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus.tables import CellStyle

    font = TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0)
    pdfmetrics.registerFont(font)
    for name in list(xhtml2pdf.default.DEFAULT_FONT):
        xhtml2pdf.default.DEFAULT_FONT[name] = FONT_NAME
    xhtml2pdf.default.DEFAULT_FONT["form"] = FONT_NAME
    rl_config.canvas_basefontname = FONT_NAME  # the font every page's canvas starts with
    # reportlab copies that default when its modules are first imported: whoever imported them before
    # this ran (xhtml2pdf itself does) left Helvetica there. Every table cell sets its CellStyle's font
    # before drawing, so a PDF with a table named Helvetica, unembedded, beside the font it drew with.
    CellStyle.fontname = FONT_NAME
    ParagraphStyle.defaults.update(fontName=FONT_NAME, bulletFontName=FONT_NAME)
    return font


def printable(text: str) -> bool:
    """Whether the embedded font has a glyph for every character of the text."""
    glyphs = _font().face.charToGlyph
    return all(char.isspace() or ord(char) in glyphs for char in text)


def verify_url(form: FormVersion) -> str:
    """What the QR code holds: PUBLIC_BASE_URL + /verify/<token>, whatever Host the request named.

    Without PUBLIC_BASE_URL (debug, tests, the demo on 127.0.0.1; gunicorn refuses to serve other machines so)
    the request's host, which TRUSTED_HOSTS has checked (config.py): outside debug and testing only this
    machine's own names pass.
    """
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return f"{base.rstrip('/')}/verify/{token_for(form)}"


@dataclass
class FormContent:
    student: Student
    form: FormVersion
    rows: list[StepView]
    code: str
    url: str
    qr_image: str  # a data: URI, SVG for the page, PNG for the PDF (xhtml2pdf draws PNG)
    printed_at: datetime
    name_zh: str
    place: str  # where the certificates are collected: the cohort's place, else the school's
    place_zh: str  # the same in Chinese, where it is written (the form is bilingual)


def form_content(student: Student, form: FormVersion, for_pdf: bool = False) -> FormContent:
    """Everything printed on one form version."""
    url = verify_url(form)
    qr = segno.make(url, error="m")
    # Only the image this output needs: each costs several milliseconds.
    image = qr.png_data_uri(scale=4, border=2) if for_pdf else qr.svg_data_uri(scale=4, border=2)
    name_zh = student.name_zh if student.name_zh and printable(student.name_zh) else ""
    return FormContent(
        student=student,
        form=form,
        rows=checklist(student),
        code=display_code(form),
        url=url,
        qr_image=image,
        printed_at=utcnow(),
        name_zh=name_zh,
        place=certificate_place(student),
        place_zh=certificate_place(student, chinese=True),
    )


@cache
def _form_css() -> str:
    """The form's stylesheet, read once per process (the PDF needs it inline)."""
    return FORM_CSS.read_text(encoding="utf-8")


def render_form_html(content: FormContent, for_pdf: bool = False) -> str:
    """The form's HTML: the print page, or the input of the PDF (which gets the stylesheet inline)."""
    styles = _form_css() if for_pdf else None
    return render_template("form/form.html", c=content, for_pdf=for_pdf, pdf_styles=styles)


def render_pdf(html: str) -> bytes:
    """An A4 PDF of the form's HTML with the font embedded."""
    _font()
    from xhtml2pdf import pisa

    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"the PDF could not be rendered ({result.err} errors)")
    return out.getvalue()
