"""Logging in and out, changing the password, the account page, and the checks on every request."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

import accounts
import clearance
import login_limits
import login_sessions
from database import write_transaction
from views.access import landing_endpoint, safe_next
from views.forms import EmptyForm

bp = Blueprint("auth", __name__)

# Endpoints a logged-in account may reach before it has changed a forced password.
OPEN_WHILE_PASSWORD_MUST_CHANGE = {"auth.change_password", "auth.logout", "static", "auth.choose_language"}


class LoginForm(FlaskForm):
    username = StringField(_l("Student ID or user name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )


@bp.before_app_request
def enforce_window_and_password_change():
    """Every request: a student outside their window is stopped; a forced change comes first."""
    if not current_user.is_authenticated:
        return None
    student = clearance.kept_out(current_user)
    if student is not None and request.endpoint != "static":
        logout_user()
        session.clear()
        return _window_page(student), 403
    if current_user.must_change_password and request.endpoint not in OPEN_WHILE_PASSWORD_MUST_CHANGE:
        return redirect(url_for("auth.change_password"))
    return None


def _window_page(student):
    return render_template(
        "auth/window.html",
        student=student,
        window=clearance.window_state(student),
        opens_on=clearance.window_opens_on(student),
        closes_on=clearance.window_closes_on(student),
    )


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(landing_endpoint(current_user)))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(landing_endpoint(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        address = client_address()
        # The slow hash runs here, outside any transaction: logins never hold the write lock while hashing.
        attempt = accounts.check_login(form.username.data, form.password.data, address)
        if attempt.retry_after:
            return _too_many_attempts(attempt.retry_after, _login_page, form)
        language = session.get("language")
        if language not in current_app.config["CATALOGUED_LANGUAGES"]:
            language = None
        with write_transaction():  # short: record the outcome, open the session
            account = accounts.record_login(attempt)
            window_closed = account is not None and clearance.kept_out(account) is not None
            if account is not None and not window_closed:
                login_sessions.start(account, address, request.user_agent.string)
                if language and account.language is None:
                    accounts.set_language(account, language)
        if account is None:
            flash(_("The student ID (or user name) or the password is not right. Check both and try again."), "error")
        elif window_closed:
            return _window_page(account.student), 403
        else:
            session.clear()  # a fresh session: nothing carried over from before login but the language
            login_user(account)
            if language:
                session["language"] = language
            return redirect(safe_next(request.args.get("next")) or url_for(landing_endpoint(account)))
    return _login_page(form)


def _login_page(form):
    return render_template(
        "auth/login.html",
        form=form,
        cohorts=clearance.current_cohorts(),
        lockout_attempts=current_app.config["LOCKOUT_ATTEMPTS"],
        lockout_minutes=current_app.config["LOCKOUT_MINUTES"],
        initial_password_days=current_app.config["INITIAL_PASSWORD_DAYS"],
    )


def client_address() -> str:
    """The client's address: the real one behind a configured proxy (TRUSTED_PROXIES and ProxyFix)."""
    return request.remote_addr or "unknown"


def _too_many_attempts(seconds: int, page, form):
    """HTTP 429 with Retry-After, on the page the attempt came from (the limits: login_limits.py)."""
    message = ngettext(
        "Too many failed attempts just now. Wait %(num)d second, then try again.",
        "Too many failed attempts just now. Wait %(num)d seconds, then try again.",
        seconds,
    )
    flash(message, "error")
    return page(form), 429, {"Retry-After": str(seconds)}


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End this browser's session only: others logged in to the same account stay logged in."""
    if EmptyForm().validate_on_submit():
        with write_transaction():
            login_sessions.end(current_user, current_user.session_token)
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device, this one too."""
    if EmptyForm().validate_on_submit():
        with write_transaction():
            login_sessions.log_out_everywhere(current_user)
        logout_user()
        session.clear()
        flash(_("You have logged out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        address = client_address()
        verdict = login_limits.check(current_user.username, address)
        if verdict.retry_after:
            return _too_many_attempts(verdict.retry_after, _password_page, form)
        problems = []
        if verdict.locked or not accounts.password_matches(current_user, form.current_password.data):
            with write_transaction():
                accounts.wrong_current_password(current_user, address, locked=verdict.locked)
            problems.append(_("The current password is not right."))
        else:
            problems.extend(str(p) for p in accounts.password_problems(current_user, form.new_password.data))
        if not problems:
            hashed = accounts.hash_password(form.new_password.data)  # the slow hash, before the write lock
            with write_transaction():
                accounts.change_password(
                    current_user, form.new_password.data, keep_session=current_user.session_token, hashed=hashed
                )
            flash(_("Your password has been changed."), "success")
            return redirect(url_for(landing_endpoint(current_user)))
        for problem in problems:
            flash(problem, "error")
    return _password_page(form)


def _password_page(form):
    return render_template("auth/password.html", form=form, forced=current_user.must_change_password)


@bp.route("/account")
@login_required
def account():
    """The account's own details: a student's identity, cohort and window; staff their office and school."""
    student = current_user.student
    window = (clearance.window_opens_on(student), clearance.window_closes_on(student)) if student else None
    return render_template(
        "auth/account.html", account=current_user, student=student, window=window, logout_form=EmptyForm()
    )


@bp.route("/language", methods=["POST"])
def choose_language():
    """The switch on every page: remembered in the session, and as the account's preference once logged in."""
    language = request.form.get("language", "")
    if not EmptyForm().validate_on_submit() or language not in current_app.config["CATALOGUED_LANGUAGES"]:
        abort(400)
    session["language"] = language
    if current_user.is_authenticated and current_user.language != language:
        with write_transaction():
            accounts.set_language(current_user, language)
    return redirect(safe_next(request.form.get("next")) or url_for("auth.index"))
