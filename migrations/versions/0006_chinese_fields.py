"""Chinese twins of what a student reads: offices' place, hours and instructions; steps' instructions and what to
bring; cohorts' and schools' certificate place, and the documents handed over.

Revision ID: 0006_chinese_fields
Revises: 0005_school_certificate_place
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_chinese_fields"
down_revision = "0005_school_certificate_place"
branch_labels = None
depends_on = None

# table: [(column, type)], each added with server_default "" so the rows already there read as "no Chinese yet"
COLUMNS = {
    "offices": [
        ("location_zh", sa.String(length=300)),
        ("hours_zh", sa.String(length=200)),
        ("instructions_zh", sa.Text()),
    ],
    "steps": [("instructions_zh", sa.Text()), ("what_to_bring_zh", sa.Text())],
    "cohorts": [("certificate_place_zh", sa.String(length=200)), ("documents_zh", sa.String(length=300))],
    "schools": [("certificate_place_zh", sa.String(length=200))],
}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in columns:
                batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _kind in reversed(columns):
                batch_op.drop_column(name)
