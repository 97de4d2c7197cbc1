"""The administrators' pages under /admin: one blueprint, one module a topic.

Every route is for admins only; each state change is audited in its own transaction.
"""

from __future__ import annotations

from flask import Blueprint

from models import Role
from views.access import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = role_required(Role.ADMIN)

# The topics' routes, on this blueprint.
from views.admin import accounts, cohorts, imports, offices, reports  # noqa: E402,F401
