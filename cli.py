"""Command-line tasks: flask --app app init-db | create-cohort | import-students | create-user.

They answer in the terminal's language (LANGUAGE, LC_ALL, LC_MESSAGES or LANG: `LANG=zh_CN.UTF-8` reads
Chinese); click's own words (Usage, Error) and the option help stay English.
"""

from __future__ import annotations

import csv
import functools
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_migrate import upgrade
from sqlalchemy import select

import accounts
import backup
import importing
import seeding
from clearance import parse_amount
from clearance.setup import CohortRefused, save_cohort
from clock import today
from database import db, write_transaction
from languages import terminal_language
from models import CohortKind, Office, Role, School

PROJECT = Path(__file__).resolve().parent
SEED_FILE = PROJECT / "seed_data.csv"


def register(app: Flask) -> None:
    for command in (init_db, create_cohort, import_students, create_user, backup.backup, backup.restore):
        app.cli.add_command(command)


def in_terminal_language(command):
    """Run the command with its messages in the terminal's language."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with force_locale(terminal_language()):
            return command(*args, **kwargs)

    return run


@click.command("init-db")
@click.option("--demo", is_flag=True, help="Also add demo cohorts, accounts and the students of seed_data.csv.")
@in_terminal_language
def init_db(demo: bool) -> None:
    """Create or upgrade the schema and add the six standard offices. Safe to run twice."""
    upgrade(directory=str(PROJECT / "migrations"))
    with write_transaction():
        added = seeding.ensure_standard_offices()
    click.echo(_("Database ready. Added: %(offices)s.", offices=", ".join(added)) if added else _("Database ready."))
    if demo:
        _add_demo()


def _add_demo() -> None:
    with write_transaction():
        seeding.ensure_demo_cohorts(today())
        plan = importing.plan_import(SEED_FILE.read_bytes())
        _stop_on_errors(plan)
        result = importing.apply_import(plan, None, "demo")
        seeding.ensure_demo_schools()
        logins = seeding.ensure_demo_accounts(lambda *args: accounts.create_account(*args, actor=None))
    click.echo(_("Demo: %(added)d students added, %(updated)d updated.", added=result.added, updated=result.updated))
    click.echo("\n" + _("Demo logins (user name / password):"))
    for username, password, what in logins:
        click.echo(f"  {username:<15} {password:<22} {what}")
    click.echo(_("Demo students (student ID / initial password = last 6 passport digits):"))
    for row in _sample_students():
        about = _("%(cohort)s, owes library fees", cohort=row["cohort"]) if _owes(row) else row["cohort"]
        click.echo(
            f"  {row['student_id']:<15} {accounts.initial_password(row['passport_no']):<22} {row['name']} ({about})"
        )


def _sample_students() -> list[dict]:
    with SEED_FILE.open(encoding="utf-8-sig", newline="") as seed:
        rows = list(csv.DictReader(seed))
    owing = [r for r in rows if _owes(r)]
    return [r for r in rows if not _owes(r)][:3] + owing[:2]


def _owes(row: dict) -> bool:
    return parse_amount(row["library_fees_owed"]) is not None


def _stop_on_errors(plan: importing.ImportPlan) -> None:
    if plan.errors:
        for error in plan.errors:
            click.echo(f"  {error}", err=True)
        count = len(plan.errors)
        raise click.ClickException(
            ngettext(
                "the file was refused: %(num)d error; nothing was imported",
                "the file was refused: %(num)d errors; nothing was imported",
                count,
            )
        )


def _parse_day(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(_("“%(value)s” is not a date in the form YYYY-MM-DD", value=value)) from None


@click.command("create-cohort")
@click.argument("code")
@click.option("--name-en", required=True, help="English name, e.g. '2011 undergraduates'.")
@click.option("--name-zh", required=True, help="Chinese name, e.g. '2011级本科生'.")
@click.option("--kind", type=click.Choice([k.value for k in CohortKind]), required=True)
@click.option("--opens", required=True, callback=_parse_day, help="First day of the window, YYYY-MM-DD.")
@click.option("--closes", required=True, callback=_parse_day, help="Last day of the window (inclusive).")
@click.option("--certificate-day", callback=_parse_day, help="Day the certificates are handed over.")
@click.option("--certificate-hours", default="", help="e.g. 08:30-16:00")
@click.option(
    "--certificate-place",
    default="",
    help="Where the certificates are handed over; left out: each student's school's office and room.",
)
@click.option("--documents", help="Documents handed over (default from the kind).")
@in_terminal_language
def create_cohort(
    code, name_en, name_zh, kind, opens, closes, certificate_day, certificate_hours, certificate_place, documents
) -> None:
    """Create a cohort of eligible students (its window and certificate day)."""
    values = {
        "code": code,
        "name_en": name_en,
        "name_zh": name_zh,
        "kind": CohortKind(kind),
        "opens_on": opens,
        "closes_on": closes,
        "certificate_day": certificate_day,
        "certificate_hours": certificate_hours,
        "certificate_place": certificate_place,
        "documents": documents or seeding.documents_for(CohortKind(kind)),
    }
    try:
        with write_transaction():
            save_cohort(None, values, None, actor_label="cli")
    except CohortRefused as refused:
        for problem in refused.problems.values():  # every problem at once, as the admin page shows them
            click.echo(f"  {problem}", err=True)
        count = len(refused.problems)
        raise click.ClickException(
            ngettext(
                "the cohort was not created: %(num)d problem", "the cohort was not created: %(num)d problems", count
            )
        ) from None
    click.echo(_("Cohort %(code)s created: window %(opens)s to %(closes)s.", code=code, opens=opens, closes=closes))


@click.command("import-students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would be added, updated and refused; write nothing.")
@click.option("--encoding", type=click.Choice(list(importing.ENCODINGS)), default="utf-8", show_default=True)
@in_terminal_language
def import_students(file: Path, dry_run: bool, encoding: str) -> None:
    """Import eligible students from a CSV file: all rows or none."""
    try:
        plan = importing.plan_import(file.read_bytes(), encoding)
    except importing.ImportRefused as refused:
        raise click.ClickException(_("the file was refused: %(why)s", why=refused)) from None
    click.echo(_plan_summary(plan))
    for row in plan.holds_not_replaced:
        click.echo(
            "  "
            + _(
                "line %(line)d: library hold for %(id)s was released by staff; not placed again",
                line=row.line,
                id=row.values["student_id"],
            )
        )
    _stop_on_errors(plan)
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    with write_transaction():
        plan = importing.plan_import(file.read_bytes(), encoding)  # again, under the write lock
        _stop_on_errors(plan)
        result = importing.apply_import(plan, None, "cli")
    click.echo(
        ngettext(
            "Imported: %(added)d added, %(updated)d updated, %(num)d hold placed.",
            "Imported: %(added)d added, %(updated)d updated, %(num)d holds placed.",
            result.holds_placed,
            added=result.added,
            updated=result.updated,
        )
    )


def _plan_summary(plan: importing.ImportPlan) -> str:
    """What an import would do, on one line."""
    counts = _(
        "%(add)d to add, %(update)d to update, %(same)d unchanged",
        add=len(plan.to_add),
        update=len(plan.to_update),
        same=plan.unchanged,
    )
    refused = ngettext("%(num)d line refused", "%(num)d lines refused", plan.refused_lines)
    holds = ngettext("%(num)d library hold to place", "%(num)d library holds to place", len(plan.holds_to_place))
    summary = f"{counts}, {refused}; {holds}"
    if plan.new_schools:
        summary += "; " + _("new schools: %(schools)s", schools=", ".join(plan.new_schools))
    return summary


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([Role.STAFF.value, Role.DESK.value, Role.ADMIN.value]), required=True)
@click.option("--office", "office_code", help="Office code (LIB, DORM, FIN, CARD, INTL, SCHOOL); required for staff.")
@click.option("--school", "school_name", help="Limit the account to one school (its name as in the student CSV).")
@click.option("--name", "display_name", default="", help="The person's or the counter's name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@in_terminal_language
def create_user(username, role, office_code, school_name, display_name, password) -> None:
    """Create a staff, desk or admin account."""
    with write_transaction():
        office = school = None
        if office_code:
            office = db.session.scalar(select(Office).where(Office.code == office_code.upper()))
            if office is None:
                raise click.BadParameter(_("no office “%(code)s”", code=office_code), param_hint="--office")
        if school_name:
            school = db.session.scalar(select(School).where(School.name == school_name))
            if school is None:
                school = School(name=school_name)
                db.session.add(school)
        try:
            accounts.create_account(username, Role(role), office, school, password, display_name)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
    click.echo(_("Account %(name)s (%(role)s) created.", name=username, role=role))
