"""The application factory."""

from __future__ import annotations

import logging

import click
from flask import Flask, abort, current_app, render_template, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError

import accounts
import cli
import languages
import localized
import logs
import serving
import wording
from config import load_config
from database import check_ready, configure_sqlite, db, is_disk_full

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class LeavingSchool(Flask):
    def log_exception(self, exc_info) -> None:
        """Flask's own line names the path, which may hold a form's token: this one names the route."""
        logs.refused("error", 500, level=logging.ERROR, exc_info=exc_info)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; `test_config` replaces the instance file and the environment."""
    app = LeavingSchool(__name__, instance_relative_config=True, instance_path=instance_path)
    load_config(app, test_config)
    logs.configure(app)
    serving.init_app(app)  # before the database opens: its files are made private first
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["UNIVERSITY_TZ"])
    app.config["CATALOGUED_LANGUAGES"] = languages.catalogued()  # once, not on every request

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    if _serving(app):
        check_ready(app)  # a server on a missing, read-only or out-of-date database refuses to start
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=languages.select_locale)
    _init_login(app)

    from views import admin, auth, desk, staff, student

    for blueprint in (auth.bp, student.bp, staff.bp, desk.bp, admin.bp):
        app.register_blueprint(blueprint)
    cli.register(app)
    _init_templates(app)
    _init_errors(app)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    return app


def _refuse_nul_bytes():
    """No NUL byte reaches a query: PostgreSQL refuses them in text (SQLite does not), so refuse everywhere."""
    texts = [request.path]
    for fields in (request.args, request.form):
        for key, values in fields.lists():  # every value of a repeated field, and the names too
            texts += [key, *values]
    if any("\x00" in text for text in texts):
        abort(400)


def _init_login(app: Flask) -> None:
    """Flask-Login on server-side login sessions (login_sessions.py): the cookie holds only their token."""
    from flask import flash, g, session
    from flask_babel import gettext
    from flask_login import logout_user

    import login_sessions
    from database import write_transaction

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page itself says what to do
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_account(token: str):
        account, record, expired = login_sessions.load(token)
        g.login_session = record
        g.session_expired = expired
        return account

    @app.before_request
    def keep_session_alive():
        """Write "last seen" at most once a minute; an expired session logs out with a message."""
        if current_user.is_authenticated:
            record = g.login_session
            if login_sessions.needs_touch(record):
                record_id = record.id  # read before the write transaction expires what was loaded
                with write_transaction():
                    login_sessions.touch(record_id)
        elif g.get("session_expired"):
            language = session.get("language")
            logout_user()
            session.clear()
            if language:
                session["language"] = language
            if g.session_expired == login_sessions.ENDED:
                flash(
                    gettext("You were logged out here: your account logged out everywhere, or its password changed."),
                    "info",
                )
            else:
                flash(gettext("Your session has expired: log in again."), "info")


def _init_templates(app: Flask) -> None:
    app.jinja_env.filters["when"] = lambda moment: format_datetime(moment, languages.moment_pattern()) if moment else ""
    # The printed form is the same for every reader, both languages side by side: one way to write a moment.
    app.jinja_env.filters["stamp"] = lambda moment: format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else ""
    app.jinja_env.filters["day"] = lambda d: format_date(d, "long") if d else ""
    from clearance import certificate_place, in_words, office_title, office_twins
    from clearance.permissions import administers, is_student, role_label, shown_name
    from clearance.status import mode_label
    from views.access import navigation

    app.jinja_env.globals.update(
        office_title=office_title,
        office_twins=office_twins,
        navigation=navigation,
        shown_name=shown_name,
        mode_label=mode_label,
        role_label=role_label,
        is_student=is_student,
        administers=administers,
        is_locked=accounts.is_locked,
        certificate_place=certificate_place,
    )
    app.jinja_env.filters["in_words"] = in_words  # history tables: subjects in words, not step:3 / hold:7
    localized.register(app.jinja_env)  # offices, steps, cohorts in the reader's language
    wording.register(app.jinja_env)  # what the system wrote (a hold's reason, a voided form's): `|said`

    @app.context_processor
    def university():
        keys = ("UNIVERSITY_NAME_EN", "UNIVERSITY_NAME_ZH", "SCHOOL_NAME_EN", "SCHOOL_NAME_ZH")  # help: below
        return {
            "site": {key.lower(): app.config[key] for key in keys},
            "page_language": languages.html_lang(get_locale()),
            "help": languages.help_contact(app.config),
            "language_choices": languages.choices(),
            "current_language": str(get_locale()),
        }


ERROR_PAGES = {
    "csrf": (
        _l("Please try again"),
        _l("The form expired or came from elsewhere. Nothing was changed; reload the page and send it again."),
    ),
    400: (_l("Not understood"), _l("The request held something this site does not accept. Nothing was changed.")),
    403: (_l("Not allowed"), _l("This page is not open to your account.")),
    404: (_l("Not found"), _l("There is no such page.")),
    405: (_l("Not allowed"), _l("That is not something this page can do.")),
    413: (_l("File too large"), _l("The file is larger than this page accepts. Nothing was changed.")),
    429: (_l("Too many attempts"), _l("Wait a minute, then try again. Nothing was changed.")),
    500: (
        _l("Something went wrong"),
        _l("The server could not finish this request. If it happens again, tell the help desk the reference below."),
    ),
    503: (_l("Could not save"), _l("The server could not save this; nothing was changed. Please try again later.")),
}


def _serving(app: Flask) -> bool:
    """Whether this app will answer requests: not under test, nor for a command (init-db builds the schema)."""
    if app.testing:
        return False
    command = click.get_current_context(silent=True)
    return command is None or command.command.name == "run"


def _page(code: int, kind: int | str | None = None):
    title, message = ERROR_PAGES[kind or code]
    reference = logs.request_id() if code >= 500 else None  # the log line's id, for the help desk
    return render_template("error.html", code=code, title=title, message=message, reference=reference), code


def _server_error(_error):
    """The app's own page with the reference; plain text if even that fails (the database may be the cause)."""
    db.session.rollback()
    try:
        return _page(500)
    except Exception:
        logs.refused("error-page-failed", 500, level=logging.ERROR, exc_info=True)
        return f"Internal Server Error. Reference: {logs.request_id()}", 500, {"Content-Type": "text/plain"}


def _database_error(error: OperationalError | OSError):
    """A full disk answers 503 "nothing was changed" (the write transaction rolled back); other errors are 500s."""
    db.session.rollback()
    if not is_disk_full(error):
        raise error
    logs.refused("disk-full", 503, level=logging.ERROR, error=getattr(error, "orig", error))
    return _page(503)


def _init_errors(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 429):  # 403 and 429 are logged with every such answer (logs.py)
        app.register_error_handler(code, lambda _error, code=code: _page(code))
    app.register_error_handler(500, _server_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(OSError, _database_error)  # a full disk while keeping an upload: the same 503
    app.register_error_handler(CSRFError, lambda _error: _page(400, "csrf"))


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:  # HTTPS, also behind a trusted proxy
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")  # no personal data from the back button after logout
    return response
