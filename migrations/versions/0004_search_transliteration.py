"""Students' search keys also hold their names' umlauts spelt out, so a search for "mueller" finds "Müller".

Revision ID: 0004_search_transliteration
Revises: 0003_one_current_form
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004_search_transliteration"
down_revision = "0003_one_current_form"
branch_labels = None
depends_on = None

# A copy of models.fold and models.student_search_key as they were when this migration was written:
# migrations must not change later.
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae",
                               "œ": "oe", "ı": "i", "ħ": "h"})
_TRANSLITERATED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _fold(text, transliterate=False):
    text = text.casefold()
    if transliterate:
        text = unicodedata.normalize("NFC", text).translate(_TRANSLITERATED)
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _key(name, name_zh):
    full = f"{name} {name_zh or ''}".strip()
    plain = _fold(full)
    spelt_out = [word for word in _fold(full, transliterate=True).split() if word not in plain.split()]
    return " ".join([plain, *spelt_out])[:320]


def _old_key(name, name_zh):
    """The key of 0002: folded, nothing spelt out."""
    return _fold(f"{name} {name_zh or ''}".strip())[:320]


def _rekey(make_key):
    students = sa.table("students", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("name_zh", sa.String), sa.column("search_key", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(students.c.id, students.c.name, students.c.name_zh, students.c.search_key))
    changed = [{"student": sid, "key": make_key(name, name_zh)} for sid, name, name_zh, key in rows
               if make_key(name, name_zh) != key]
    if changed:  # only names with umlauts change: one executemany
        connection.execute(students.update().where(students.c.id == sa.bindparam("student"))
                           .values(search_key=sa.bindparam("key")), changed)


def upgrade():
    _rekey(_key)


def downgrade():
    _rekey(_old_key)
