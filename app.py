"""The application factory."""

from __future__ import annotations

from flask import Flask, abort, current_app, render_template, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect

import cli
import languages
import localized
import wording
from config import load_config
from database import configure_sqlite, db

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; `test_config` replaces the instance file and the environment."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    load_config(app, test_config)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["UNIVERSITY_TZ"])
    app.config["CATALOGUED_LANGUAGES"] = languages.catalogued()  # once, not on every request

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
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
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page itself says what to do
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_account(session_id: str):
        from models import Account

        account_id, _, generation = session_id.partition(":")
        if not account_id.isdigit() or not generation.isdigit():
            return None
        account = db.session.get(Account, int(account_id))
        # A bumped generation (logout, password change) voids every older cookie.
        if account is None or account.disabled or account.session_generation != int(generation):
            return None
        return account


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
}


def _init_errors(app: Flask) -> None:
    def page(code: int, kind: int | str | None = None):
        title, message = ERROR_PAGES[kind or code]
        return render_template("error.html", code=code, title=title, message=message), code

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda _error, code=code: page(code))
    app.register_error_handler(CSRFError, lambda _error: page(400, "csrf"))


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")  # no personal data from the back button after logout
    return response
