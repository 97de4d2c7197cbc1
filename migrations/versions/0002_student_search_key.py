"""Students' folded names, so a search for "nguyen" finds "Nguyễn".

Revision ID: 0002_student_search_key
Revises: f55922118c5c
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002_student_search_key"
down_revision = "f55922118c5c"
branch_labels = None
depends_on = None

# A copy of models.fold as it was when this migration was written: migrations must not change later.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae",
                               "œ": "oe", "ı": "i", "ħ": "h"})


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def upgrade():
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=320), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_students_search_key"), ["search_key"], unique=False)
    students = sa.table("students", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("name_zh", sa.String), sa.column("search_key", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(students.c.id, students.c.name, students.c.name_zh)).all()
    for student_id, name, name_zh in rows:
        key = _fold(f"{name} {name_zh or ''}".strip())[:320]
        connection.execute(students.update().where(students.c.id == student_id).values(search_key=key))


def downgrade():
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_search_key"))
        batch_op.drop_column("search_key")
