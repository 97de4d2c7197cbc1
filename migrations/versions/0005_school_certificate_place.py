"""Each school's certificate place (its office and room), printed on the form when the cohort names none.

Revision ID: 0005_school_certificate_place
Revises: 0004_search_transliteration
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_school_certificate_place"
down_revision = "0004_search_transliteration"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_place", sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("certificate_place")
