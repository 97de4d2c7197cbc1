"""At most one current form version per student, enforced by a partial unique index.

Revision ID: 0003_one_current_form
Revises: 0002_student_search_key
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_one_current_form"
down_revision = "0002_student_search_key"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("uq_form_versions_current", "form_versions", ["student_id"], unique=True,
                    sqlite_where=sa.text("voided_at IS NULL"), postgresql_where=sa.text("voided_at IS NULL"))


def downgrade():
    op.drop_index("uq_form_versions_current", table_name="form_versions")
