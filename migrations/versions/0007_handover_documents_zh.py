"""The documents handed over, in Chinese too, as they were named at the hand-over (a Chinese desk reads them).

Revision ID: 0007_handover_documents_zh
Revises: 0006_chinese_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_handover_documents_zh"
down_revision = "0006_chinese_fields"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("documents_zh", sa.String(length=300), nullable=False, server_default=""))
    # Hand-overs already recorded: the cohort's Chinese, where the English is still what was handed over.
    op.execute(
        """
        UPDATE handovers SET documents_zh = COALESCE((
            SELECT cohorts.documents_zh FROM students JOIN cohorts ON cohorts.id = students.cohort_id
            WHERE students.id = handovers.student_id AND cohorts.documents = handovers.documents
        ), '')
        """
    )


def downgrade():
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_column("documents_zh")
