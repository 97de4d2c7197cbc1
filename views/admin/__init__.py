"""The administrators' pages under /admin: one blueprint, one module a topic.

Every route is for admins only; each state change is audited in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for

import clearance
from database import write_transaction
from models import Role
from views.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = role_required(Role.ADMIN)


def edit_page(form, back_endpoint: str, back_label: str, heading: str, hint: str):
    """The one page that edits a cohort, a school or an office: the form, a hint, and the way back."""
    return render_template(
        "admin/edit_form.html",
        form=form,
        back_url=url_for(back_endpoint),
        back_label=back_label,
        heading=heading,
        hint=hint,
    )


def save_and_return(save: Callable, message: Callable[[object], str], endpoint: str):
    """Run one save in its write transaction: then say so and go back to the list; refused, say why (None)."""
    try:
        with write_transaction():
            saved = save()
    except clearance.Refused as refused:
        flash(str(refused), "error")
        return None
    flash(message(saved), "success")
    return redirect(url_for(endpoint))


# The topics' routes, on this blueprint.
from views.admin import accounts, cohorts, imports, offices, reports  # noqa: E402,F401
