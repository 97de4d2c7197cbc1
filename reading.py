"""Reading what people upload or paste: CSV files and lists of student IDs, one reader for every upload.

Decoding (UTF-8 with or without BOM, or GB18030 — what Excel writes on a Chinese system — with
advice when the bytes are neither), line-numbered rows under a checked header, IDs that Excel
turned into scientific notation, and amount cells (by the one amount rule in clearance.amounts).
And the one rule for hidden characters in text (bidirectional overrides, zero-width and control
characters): a CSV cell holding one is refused with its line; a form field drops them (views.forms).
The rules receive the parsed rows: nothing in clearance/ reads a file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from clearance.amounts import parse_amount
from clearance.refused import Refused, RowError

ENCODINGS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}
SCIENTIFIC = re.compile(r"[0-9.,]+[eE][+-]?[0-9]+")  # what Excel makes of a long number: 1.23E+11
MAX_LIST_BYTES = 300_000  # a hold list or an ID list; pasted IDs ride back in a form field under Werkzeug's limit
MAX_IDS = 5_000  # a screenful to check in the preview; clearing them takes well under a second
SEPARATORS = re.compile(r"[\s,;，；、]+")  # Excel columns, CSV, and the Chinese comma and semicolon
HEADER_WORDS = {"student_id", "studentid", "id", "学号"}
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (zip) and .xls (OLE)
# What text may not hold: control and format characters (Unicode Cc, Cf, Cs) and line or paragraph
# separators — among them the bidirectional overrides (U+202A–U+202E, U+2066–U+2069, U+200E/F,
# U+061C) that show a name backwards on the printed form, and the zero-width ones that make two
# names look the same. The joiners stay: Persian and Indic names, and emoji, are spelled with them.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
JOINERS = {"\u200c", "\u200d"}
LINE_BREAKS = {"\t", "\n", "\r"}  # kept where a field has several lines


def is_hidden(char: str, multiline: bool = False) -> bool:
    """Whether a character is one that text may not hold (HIDDEN_CATEGORIES); tab and line breaks in multi-line text."""
    if char in JOINERS or (multiline and char in LINE_BREAKS):
        return False
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def hidden_characters(text: str, multiline: bool = False) -> list[str]:
    """The hidden characters in text, each once, as U+202E."""
    return list(dict.fromkeys(f"U+{ord(char):04X}" for char in text if is_hidden(char, multiline)))


def without_hidden(text, multiline: bool = False):
    """Text as typed in a form, without hidden characters: a line break in a one-line field becomes a space."""
    if not isinstance(text, str):
        return text
    return "".join(char if not is_hidden(char, multiline) else " " if char.isspace() else "" for char in text)


class ImportRefused(Exception):
    """The whole file is refused before any row is read (encoding, size, header)."""


@dataclass
class Table:
    """A CSV file's rows as (line number, {column: stripped cell}), and what could not be read."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def decode(data: bytes, encoding: str = "utf-8") -> str:
    """The file's text, or ImportRefused with advice when the bytes are not in that encoding."""
    if encoding not in ENCODINGS:
        raise ImportRefused(_l("unknown encoding “%(encoding)s”: use utf-8 or gb18030", encoding=encoding))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(_l("the file is UTF-16 (“Unicode text”); save it as “CSV UTF-8 (comma delimited)”"))
    try:
        text = data.decode(ENCODINGS[encoding])
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        if encoding == "utf-8":
            refusal = _l(
                "line %(line)d: the file is not valid utf-8 text: save it from Excel as “CSV UTF-8 (comma delimited)”,"
                " or import it with the encoding gb18030 if it was saved on a Chinese system",
                line=line,
            )
        else:
            refusal = _l(
                "line %(line)d: the file is not valid %(encoding)s text: "
                "save it from Excel as “CSV UTF-8 (comma delimited)”",
                line=line,
                encoding=encoding,
            )
        raise ImportRefused(refusal) from None
    if "\x00" in text:
        raise ImportRefused(_l("the file is not CSV text"))
    return text


def read_table(
    text: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    ignore_unknown: bool = False,
    id_column: str = "student_id",
    multiline: Sequence[str] = (),
) -> Table:
    """Check the header (line 1), then read every non-empty row with its line number.

    A row whose ID Excel turned into scientific notation, or with a cell holding hidden characters (a
    bidirectional override that shows a name reversed; a line break or tab outside the `multiline`
    columns), is an error, with the advice to fix it.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = [name.strip().lower() for name in next(reader)]
    except (StopIteration, csv.Error):
        raise ImportRefused(
            _l("the file is empty: it needs the header row %(header)s", header=",".join(required))
        ) from None
    unknown = [name or "(empty)" for name in columns if name not in (*required, *optional)]
    _check_header(columns, required, optional, [] if ignore_unknown else unknown)
    table = Table(ignored_columns=unknown if ignore_unknown else [])
    line = reader.line_num + 1
    try:
        for record in reader:
            if len(record) > len(columns):
                table.errors.append(RowError(line, _too_many_fields(len(record), len(columns))))
            elif any(cell.strip() for cell in record):
                values = dict.fromkeys(optional, "")
                values.update({name: cell.strip() for name, cell in zip(columns, record, strict=False)})
                problems = _cell_problems(values, (*required, *optional), id_column, multiline)
                table.errors.extend(RowError(line, problem) for problem in problems)
                if not problems:
                    table.rows.append((line, values))
            line = reader.line_num + 1
    except csv.Error as error:
        table.errors.append(RowError(line, _l("not readable as CSV (%(error)s)", error=str(error))))
    return table


def _cell_problems(values: dict[str, str], read: Sequence[str], id_column: str, multiline: Sequence[str]) -> list[str]:
    """Cells of the columns read that hold hidden characters (refused, never cleaned: the file should be
    fixed where it came from), and an ID in scientific notation."""
    problems = [
        _l(
            "%(column)s holds control characters (%(characters)s), which can show text reversed, hide part "
            "of it or break its line: remove them",
            column=name,
            characters=", ".join(found),
        )
        for name, cell in values.items()
        if name in read and (found := hidden_characters(cell, multiline=name in multiline))
    ]
    mangled = scientific_problem(values.get(id_column, ""))
    return [*problems, mangled] if mangled else problems


def _check_header(columns: list[str], required: Sequence[str], optional: Sequence[str], unknown: list[str]) -> None:
    missing = [name for name in required if name not in columns]
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    problems = []
    if missing:
        problems.append(_("missing required column(s): %(columns)s", columns=", ".join(missing)))
    if unknown:
        problems.append(_("unknown column(s): %(columns)s", columns=", ".join(unknown)))
    if repeated:
        problems.append(_("column(s) named twice: %(columns)s", columns=", ".join(repeated)))
    if problems:
        expected = ", ".join(required)
        if optional:
            expected = _("%(required)s (optional: %(optional)s)", required=expected, optional=", ".join(optional))
        raise ImportRefused(
            _("line 1: %(problems)s. Expected columns: %(expected)s", problems="; ".join(problems), expected=expected)
        )


def _too_many_fields(fields: int, columns: int) -> str:
    return _l("%(fields)d fields but the header has %(columns)d", fields=fields, columns=columns)


def scientific_problem(number: str) -> str:
    """Advice when Excel turned an ID into scientific notation, else empty."""
    if SCIENTIFIC.fullmatch(number):
        return _l(
            "student_id %(id)s is in scientific notation: format the column as Text in Excel and copy the IDs again",
            id=number,
        )
    return ""


def amount_cell(text: str, column: str = "amount") -> tuple[Decimal | None, str]:
    """An amount cell by the one amount rule: (the amount or None, the problem or "")."""
    try:
        return parse_amount(text), ""
    except Refused as refused:
        return None, _("%(column)s: %(problem)s", column=column, problem=str(refused))


# --- Lists of student IDs ---------------------------------------------------------------------------


def read_list_file(data: bytes, encoding: str = "utf-8") -> str:
    """An uploaded list as text; ImportRefused with advice for empty, oversized, Excel or binary files."""
    if not data.strip():
        raise ImportRefused(_l("The file is empty."))
    if len(data) > MAX_LIST_BYTES:
        raise ImportRefused(
            _l("The file is larger than %(kb)d kB: split it into smaller lists.", kb=MAX_LIST_BYTES // 1000)
        )
    if data.startswith(WORKBOOK_MAGIC):
        raise ImportRefused(
            _l(
                "This is an Excel workbook, not a CSV file: in Excel choose Save as → "
                "CSV UTF-8 (comma delimited), then upload that file."
            )
        )
    return decode(data, encoding)


def ids_from_file(data: bytes) -> str:
    """The IDs in an uploaded file: the student_id column of a CSV with that header, else every word in it."""
    try:
        text = read_list_file(data, "utf-8")
    except ImportRefused:
        text = read_list_file(data, "gb18030")  # saved as plain "CSV" on a Chinese system
    first, _newline, rest = text.partition("\n")
    header = [cell.strip().lower() for cell in first.strip().split(",")]
    if "student_id" not in header or len(header) < 2:
        return text
    column = header.index("student_id")
    try:
        return "\n".join(row[column] for row in csv.reader(io.StringIO(rest, newline="")) if len(row) > column)
    except csv.Error:
        return text


def student_numbers(text: str) -> tuple[list[str], int]:
    """The IDs in pasted text (any whitespace, comma or semicolon between), each once in order; and the repeats."""
    tokens = [token.strip("\"'") for token in SEPARATORS.split(without_hidden(text, multiline=True))]
    tokens = [token for token in tokens if token and token.lower() not in HEADER_WORDS]
    mangled = [token for token in tokens if SCIENTIFIC.fullmatch(token)]
    if mangled:  # Excel rounded the whole column: a rounded ID may even match another student
        raise ImportRefused(
            _l(
                "%(id)s is in scientific notation: Excel changed the IDs. Format the column as Text, "
                "type or copy the IDs again, then paste them.",
                id=mangled[0],
            )
        )
    numbers = list(dict.fromkeys(tokens))
    if len(numbers) > MAX_IDS:
        raise ImportRefused(_l("At most %(n)d IDs at a time: split the list.", n=MAX_IDS))
    return numbers, len(tokens) - len(numbers)
