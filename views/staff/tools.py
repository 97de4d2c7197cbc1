"""An office's tools for many students: hold lists, bulk clearing, and the counter.

reading.py reads the lists, clearance.bulk applies the rules; these views read the request, call
them, and render. A preview writes nothing; until its confirm an uploaded hold list waits on the
server (uploads.py: the page carries only its name and seal) and pasted IDs travel in the form;
the confirm reads everything again.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import Forbidden, NotFound

import clearance
import uploads
from clearance import bulk
from database import db, write_transaction
from localized import localized
from models import Office, Step
from reading import MAX_LIST_BYTES, ImportRefused, ids_from_file, read_list_file, read_table, student_numbers
from views.access import int_arg
from views.staff import bp, current_office, office_args, office_workers, scoped_student

ENCODINGS = ("utf-8", "gb18030")
HOLD_COLUMNS = ("student_id", "amount", "reason")
LIST_SUFFIXES = (".csv", ".txt")


def _chosen_step(office: Office) -> Step | None:
    """The office's active step named by ?step= (default: the first); another office's step is forbidden."""
    steps = clearance.active_steps(office)
    wanted = request.values.get("step", "")
    if not wanted:
        return steps[0] if steps else None
    step = next((s for s in steps if str(s.id) == wanted), None)
    if step is None:
        other = db.session.get(Step, int_arg(wanted)) if int_arg(wanted) else None
        abort(403 if other is not None and other.office_id != office.id else 404)
    return step


def _page(template: str, office: Office, **context):
    return render_template(template, office=office, office_args=office_args(office), **context)


# --- Hold lists ------------------------------------------------------------------------------------


@dataclass
class Upload:
    data: bytes
    encoding: str
    filename: str
    kept: uploads.Kept | None = None  # where the file waits for its confirm (uploads.py)

    @property
    def purpose(self) -> str:
        """What the kept file's seal is bound to besides its bytes: the encoding and name it is read with."""
        return f"hold-list:{self.encoding}:{self.filename}"


def _new_upload() -> Upload:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ImportRefused(_("Choose the CSV file to upload."))
    encoding = request.form.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        raise ImportRefused(_("Choose the encoding utf-8 or gb18030."))
    if not file.filename.lower().endswith(LIST_SUFFIXES):
        raise ImportRefused(
            _(
                "%(name)s is not a CSV file: save the list from Excel as CSV UTF-8 (comma delimited).",
                name=file.filename,
            )
        )
    return Upload(file.read(MAX_LIST_BYTES + 1), encoding, file.filename[:200])


def _kept_upload() -> Upload:
    """The upload a confirm names, read back from the server (and deleted there: a confirm uses it once)."""
    upload = Upload(b"", request.form.get("encoding", ""), request.form.get("filename", "")[:200])
    name = request.form.get("upload", "")
    try:
        upload.data = uploads.take(name, request.form.get("seal", ""), upload.purpose, current_user.id)
    except uploads.UploadRefused as refused:
        raise ImportRefused(str(refused)) from None
    uploads.discard(name)
    return upload


@bp.route("/holds/upload", methods=["GET", "POST"])
@office_workers
def holds_upload():
    office = current_office()
    if request.method == "GET":
        return _page("staff/holds_upload.html", office, plan=None, upload=None)
    confirming = request.form.get("stage") == "confirm"
    try:
        upload = _kept_upload() if confirming else _new_upload()
        if confirming:
            return _place_holds(office, upload)
        plan = _plan_holds(upload, office)
        if plan.ok and plan.rows:
            upload.kept = uploads.keep(upload.data, upload.purpose, current_user.id)
    except ImportRefused as refused:
        flash(_("The file was refused, nothing was placed: %(why)s", why=refused), "error")
        return _page("staff/holds_upload.html", office, plan=None, upload=None)
    return _page("staff/holds_upload.html", office, plan=plan, upload=upload)


def _plan_holds(upload: Upload, office: Office) -> bulk.HoldList:
    """Read the uploaded list and check it against the rules; writes nothing."""
    table = read_table(read_list_file(upload.data, upload.encoding), HOLD_COLUMNS, ignore_unknown=True)
    return bulk.plan_hold_list(table.rows, office, current_user, table.errors, table.ignored_columns)


def _place_holds(office: Office, upload: Upload):
    """Check the list again under the write lock and place all of it, or nothing."""
    try:
        with write_transaction():
            plan = _plan_holds(upload, office)
            placed = bulk.place_hold_list(plan, office, current_user, upload.filename) if plan.ok else 0
    except clearance.Refused as refused:
        flash(_("Nothing was placed: %(why)s", why=refused), "error")
        return redirect(url_for("staff.holds_upload", **office_args(office)))
    if not plan.ok:
        flash(_("Nothing was placed: the list has problems now (the students may have changed)."), "error")
        return _page("staff/holds_upload.html", office, plan=plan, upload=upload)
    flash(
        ngettext(
            "%(num)d hold placed from %(file)s.", "%(num)d holds placed from %(file)s.", placed, file=upload.filename
        ),
        "success",
    )
    return redirect(url_for("staff.holds_upload", **office_args(office)))


# --- Clearing many ---------------------------------------------------------------------------------


def _submitted_numbers() -> tuple[list[str], int]:
    text = request.form.get("ids", "")
    file = request.files.get("file")
    if file is not None and file.filename:
        if file.filename.lower().endswith((".xlsx", ".xls")):
            raise ImportRefused(_("This is an Excel workbook: save it as CSV, or copy the column and paste it."))
        text += "\n" + ids_from_file(file.read(MAX_LIST_BYTES + 1))
    return student_numbers(text)


@bp.route("/bulk-clear", methods=["GET", "POST"])
@office_workers
def bulk_clear():
    office = current_office()
    step = _chosen_step(office)
    page = {"steps": clearance.active_steps(office), "step": step, "plan": None, "result": None, "typed": ""}
    if request.method == "GET" or step is None:
        return _page("staff/bulk_clear.html", office, **page)
    page["typed"] = request.form.get("ids", "")[:MAX_LIST_BYTES]
    try:
        numbers, repeated = _submitted_numbers()
    except ImportRefused as refused:
        flash(str(refused), "error")
        return _page("staff/bulk_clear.html", office, **page)
    if not numbers:
        flash(_("Paste or upload at least one student ID."), "error")
        return _page("staff/bulk_clear.html", office, **page)
    if request.form.get("stage") == "confirm":
        repeated = int_arg(request.form.get("repeated")) or 0  # counted at the preview, before deduplication
        with write_transaction():  # judged again under the lock: the result says what was done
            page["result"] = bulk.clear_many(numbers, step, current_user, repeated)
    else:
        page["plan"] = bulk.plan_bulk_clear(numbers, step, current_user, repeated)
    return _page("staff/bulk_clear.html", office, **page)


# --- The counter -------------------------------------------------------------------------------------


def _counter_student(number: str):
    """The student at the counter, or None and what to tell the person (never a bare 403/404 page)."""
    try:
        return scoped_student(number), ""
    except Forbidden:
        return None, _("%(id)s is not a student of your school.", id=number)
    except NotFound:
        return None, _("No student has the ID %(id)s. Check the ID and scan again.", id=number)


@bp.route("/counter")
@office_workers
def counter():
    office = current_office()
    number = request.args.get("id", "").strip()[:64]
    student, problem = _counter_student(number) if number else (None, "")
    rows = bulk.office_step_views(student, office, current_user) if student else []
    clearable = next(((view, entry) for view, entry in rows if entry.outcome == bulk.Outcome.CLEARED), None)
    return _page(
        "staff/counter.html",
        office,
        number=number,
        student=student,
        problem=problem,
        rows=rows,
        clearable=clearable[1] if clearable else None,
        clearable_step=clearable[0].step if clearable else None,
    )


@bp.route("/counter", methods=["POST"])
@office_workers
def counter_clear():
    """A scanned ID opens that student; otherwise (Enter on the empty box, or Clear) clears the one shown."""
    office = current_office()
    scanned = request.form.get("scan", "").strip()[:64]
    if scanned and request.form.get("action") != "clear":
        return redirect(url_for("staff.counter", id=scanned, **office_args(office)))
    if not request.form.get("current"):
        return redirect(url_for("staff.counter", **office_args(office)))
    student = scoped_student(request.form.get("current", "")[:64])
    step = _chosen_step(office)
    if step is None:
        abort(404)
    who = f"{student.name} ({student.student_id})"
    try:
        with write_transaction():
            done = clearance.clear_step(student, step, current_user)
    except clearance.Refused as refused:
        flash(_("Not cleared: %(who)s. %(why)s", who=who, why=refused), "error")
    else:
        flash(
            _("Cleared: %(who)s, %(step)s.", who=who, step=localized(step, "title"))
            if done
            else _("Already cleared: %(who)s, %(step)s.", who=who, step=localized(step, "title")),
            "success" if done else "info",
        )
    return redirect(url_for("staff.counter", **office_args(office)))
