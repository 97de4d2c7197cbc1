"""The one rule for an amount of money owed, used by every form, list and import (docs/RULES.md, rule 3).

An amount is yuan written with a point for decimals, at most two decimals, greater than zero and at
most MAX_AMOUNT; a leading ¥ and spaces around it are allowed. Nothing else is guessed: "1,23" (a
decimal comma or a thousands separator?), "1e3" (Excel's scientific notation), "NaN", "-5" and "0"
are refused, everywhere with the same words.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from clearance.refused import Refused

MAX_AMOUNT = Decimal("99999999.99")
AMOUNT_TEXT = re.compile(r"[0-9]{1,8}(\.[0-9]{1,2})?")
CURRENCY_SIGNS = ("¥", "￥")


def amount_refusal(typed: object) -> Refused:
    """The one message for an amount that is not one."""
    return Refused(
        _l(
            "“%(typed)s” is not an amount owed: write yuan with a point for decimals and no thousands "
            "separator, greater than 0, at most 2 decimals and at most 99999999.99, e.g. 1234.50 (leave it "
            "empty when nothing is owed).",
            typed=typed,
        )
    )


def parse_amount(typed: str) -> Decimal | None:
    """The amount in what was typed (None when empty); `Refused` with the one message otherwise."""
    text = (typed or "").strip()
    for sign in CURRENCY_SIGNS:
        text = text.removeprefix(sign).strip()
    if not text:
        return None
    if not AMOUNT_TEXT.fullmatch(text):
        raise amount_refusal(typed)
    return check_amount(Decimal(text))


def check_amount(amount: Decimal | None) -> Decimal | None:
    """An amount given as a number (None: no amount), to two decimals; `Refused` when it breaks the rule."""
    if amount is None:
        return None
    scientific = amount.is_finite() and amount.as_tuple().exponent > 0  # Decimal("1E+3"): Excel's notation
    if not amount.is_finite() or scientific or amount <= 0 or amount > MAX_AMOUNT:
        raise amount_refusal(amount)
    if amount != amount.quantize(Decimal("0.01")):
        raise amount_refusal(amount)
    return amount.quantize(Decimal("0.01"))
