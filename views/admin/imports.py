"""Admin: import the eligible students from an uploaded CSV — preview, confirm, all or nothing.

The same code as the CLI (importing.py). Between preview and confirm the file stays on the server
(uploads.py): the page carries only its random name and a seal, never the file and its passport
numbers. It is checked again, under the write lock, at confirm.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

import importing
import uploads
from database import write_transaction
from views.admin import admin_only, bp
from views.admin.forms import ImportForm
from views.forms import EmptyForm

PURPOSE = "student-import"


@bp.route("/import", methods=["GET", "POST"])
@admin_only
def import_students():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            data = upload.read()
        finally:
            upload.close()  # a large upload is spooled to a temporary file
        return _preview(data, form.encoding.data)
    for error in form.file.errors:
        flash(error, "error")
    return render_template("admin/import.html", form=form)


def _preview(data: bytes, encoding: str):
    try:
        plan = importing.plan_import(data, encoding)
    except importing.ImportRefused as refused:
        flash(_("The file was refused: %(why)s", why=str(refused)), "error")
        return render_template("admin/import.html", form=ImportForm()), 400
    kept = uploads.keep(data, f"{PURPOSE}:{encoding}", current_user.id) if plan.ok and plan.changes_anything else None
    return render_template("admin/import_preview.html", plan=plan, kept=kept, encoding=encoding, button=EmptyForm())


@bp.route("/import/confirm", methods=["POST"])
@admin_only
def import_confirm():
    if not EmptyForm().validate_on_submit():
        return render_template("admin/import.html", form=ImportForm()), 400
    encoding = request.form.get("encoding", "utf-8")
    name = request.form.get("upload", "")
    try:
        data = uploads.take(name, request.form.get("seal", ""), f"{PURPOSE}:{encoding}", current_user.id)
        uploads.discard(name)  # used once: a second confirm (double click, back button) imports nothing twice
        with write_transaction():
            plan = importing.plan_import(data, encoding)
            if not plan.ok:
                raise importing.ImportRefused(
                    ngettext(
                        "%(num)d line is now refused: check the preview again.",
                        "%(num)d lines are now refused: check the preview again.",
                        plan.refused_lines,
                    )
                )
            result = importing.apply_import(plan, current_user, "upload")
    except (uploads.UploadRefused, importing.ImportRefused) as refused:
        flash(_("Nothing was imported: %(why)s", why=str(refused)), "error")
        return render_template("admin/import.html", form=ImportForm()), 400
    return render_template("admin/import_done.html", result=result)
