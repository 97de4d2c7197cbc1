"""Admin: staff, desk and admin accounts; password resets for anyone, students included."""

from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

import accounts
from database import db, write_transaction
from models import Account, Office, Role, School
from views.admin import admin_only, bp
from views.admin.forms import AccountForm
from views.forms import EmptyForm

PAGE = 100


@bp.route("/accounts")
@admin_only
def accounts_list():
    search = request.args.get("q", "").strip()[:64]
    role = request.args.get("role", "")
    query = select(Account).order_by(Account.role, Account.username)
    if role in {r.value for r in Role}:
        query = query.where(Account.role == Role(role))
    elif not search:
        query = query.where(Account.role != Role.STUDENT)  # thousands of students: search for them
    if search:
        lowered = search.lower()  # lower() and autoescape: the same on SQLite and PostgreSQL
        query = query.where(
            or_(
                func.lower(Account.username).contains(lowered, autoescape=True),
                func.lower(Account.display_name).contains(lowered, autoescape=True),
            )
        )
    found = db.session.scalars(query.limit(PAGE + 1)).all()
    return render_template(
        "admin/accounts.html",
        accounts=found[:PAGE],
        more=len(found) > PAGE,
        search=search,
        role=role,
        button=EmptyForm(),
    )


def _account_form(existing: Account | None) -> AccountForm:
    form = AccountForm(obj=existing)
    form.office_id.choices = [SelectChoice(0, _("No office"))] + [
        SelectChoice(o.id, f"{o.code} — {o.name_en}") for o in db.session.scalars(select(Office).order_by(Office.id))
    ]
    form.school_id.choices = [SelectChoice(0, _("All schools"))] + [
        SelectChoice(s.id, s.name) for s in db.session.scalars(select(School).order_by(School.name))
    ]
    if existing is not None:
        del form.username, form.password  # a user name never changes; passwords change by reset
    if existing is not None and request.method == "GET":
        form.role.data = existing.role.value
        form.office_id.data = existing.office_id or 0
        form.school_id.data = existing.school_id or 0
    return form


@bp.route("/accounts/new", methods=["GET", "POST"])
@bp.route("/accounts/<int(max=999999999):account_id>", methods=["GET", "POST"])
@admin_only
def account(account_id: int | None = None):
    existing = db.session.get(Account, account_id) if account_id else None
    if account_id and (existing is None or existing.role == Role.STUDENT):
        abort(404)
    form = _account_form(existing)
    if form.validate_on_submit():
        try:
            with write_transaction():
                saved, one_time = _save(existing, form)
        except accounts.AccountError as error:
            flash(str(error), "error")
        else:
            if one_time:
                return _show_once(saved, one_time)
            flash(_("Account %(name)s saved.", name=saved.username), "success")
            return redirect(url_for("admin.accounts_list"))
    return render_template("admin/account_form.html", form=form, account=existing, button=EmptyForm())


def _save(existing: Account | None, form: AccountForm) -> tuple[Account, str | None]:
    """Create or change the account; a new one without a typed password gets a one-time password."""
    office = db.session.get(Office, form.office_id.data) if form.office_id.data else None
    school = db.session.get(School, form.school_id.data) if form.school_id.data else None
    role = Role(form.role.data)
    if existing is None:
        typed = form.password.data
        created = accounts.create_account(
            form.username.data,
            role,
            office,
            school,
            typed or secrets.token_urlsafe(24),
            form.display_name.data,
            actor=current_user,
            must_change=True,
        )
        return created, None if typed else accounts.reset_to_one_time_password(created, current_user)
    accounts.update_account(
        existing,
        {
            "role": role,
            "office": office,
            "school": school,
            "disabled": form.disabled.data,
            "display_name": form.display_name.data,
        },
        current_user,
    )
    return existing, None


def _show_once(account: Account, password: str):
    """The one-time password, on this response only: it is stored nowhere but as a hash."""
    return render_template(
        "admin/one_time_password.html",
        account=account,
        password=password,
        days=current_app.config["ONE_TIME_PASSWORD_DAYS"],
    )


@bp.route("/accounts/<int(max=999999999):account_id>/reset-password", methods=["POST"])
@admin_only
def reset_password(account_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = db.session.get(Account, account_id) or abort(404)
    if not request.form.get("confirm"):
        # The old password stops working at once: the first POST only asks, without JavaScript too.
        days = current_app.config["ONE_TIME_PASSWORD_DAYS"]
        return render_template("admin/one_time_password.html", account=target, password=None, days=days)
    with write_transaction():
        password = accounts.reset_to_one_time_password(target, current_user)
    return _show_once(target, password)
