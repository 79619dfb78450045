"""Numbers as people type them, and the bounds every stored number keeps.

One reader for the whole numbers and the amounts of forms (pages, imports): full-width
characters are read after NFKC, so digits typed with a CJK input method (``１２``) are the
digits they look like, and then only ASCII digits count: ``²``, ``³`` or ``½`` are not whole
numbers (``str.isdigit`` says they are and ``int`` then fails; NFKC would make ``²`` a 2, a
digit the person did not mean), and neither are ``inf`` or ``nan``.
Money may carry thousands separators as people type it and spreadsheets write it (``1,320``).

The bounds are the database's: PostgreSQL's ``integer`` columns hold up to 2,147,483,647 and
SQLite's integers 2**63 - 1; a number beyond a bound is refused with ``too_large`` before any
statement runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from dingdan.domain.shared.errors import FieldErrors

# The largest value of an ``integer`` column (PostgreSQL's int4): priorities, thresholds, sizes.
MAX_INT = 2_147_483_647
# The most units of one SKU in one line, receipt, adjustment or count.
MAX_QUANTITY = 1_000_000_000
# The largest amount in minor units that any total (a line, an order, a sum of payments) may
# reach: 10**15 major units of a two-decimal currency, and well inside a BIGINT (9.2e18), so
# that sums of a few thousand such amounts still fit.
MAX_MINOR = 10**17

_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", re.ASCII)
# Room for a sign and a few leading zeros; anything longer is not a number a person typed.
_MAX_DIGITS = 40


def ascii_text(text: str) -> str:
    """``text`` with its full-width characters read after NFKC (``－１，３２０．５`` is
    ``-1,320.5``) and the surrounding whitespace removed. Only the width is folded: other
    compatibility forms (``²``, ``①``) stay as typed, so that a superscript is refused
    rather than read as a digit it only resembles."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if unicodedata.east_asian_width(ch) == "F" else ch
        for ch in text
    ).strip()


def read_whole(
    text: str | None,
    field: str,
    errors: FieldErrors,
    *,
    minimum: int = 0,
    maximum: int = MAX_INT,
    blank: int | None = None,
) -> int | None:
    """A whole number typed into a form field, or ``None`` (with the field's error added).

    Blank gives ``blank`` (an error ``required`` when ``blank`` is None). Below ``minimum``
    is ``too_small``; above ``maximum`` is ``too_large``; anything else that is not a whole
    number of ASCII digits after NFKC is ``not_a_whole_number``.
    """
    cleaned = ascii_text(text) if isinstance(text, str) else ""
    if not cleaned:
        if blank is None:
            errors.add(field, "required")
        return blank
    if len(cleaned) > _MAX_DIGITS or not _WHOLE.fullmatch(cleaned):
        errors.add(field, "not_a_whole_number")
        return None
    value = int(cleaned)
    if value < minimum:
        errors.add(field, "too_small", min=minimum)
        return None
    if value > maximum:
        errors.add(field, "too_large")
        return None
    return value


def whole_or_none(text: object, *, maximum: int = 2**63 - 1) -> int | None:
    """The number in a path segment or a query parameter (``/payments/17``), or ``None``
    when it is not one: only ASCII digits (after NFKC), at most ``maximum``. A caller looks
    ``None`` up as nothing and answers 404."""
    if not isinstance(text, str) or len(text) > _MAX_DIGITS:
        return None
    cleaned = ascii_text(text)
    if not cleaned.isascii() or not cleaned.isdigit():
        return None
    value = int(cleaned)
    return value if value <= maximum else None


def plain_decimal(text: str | None) -> str | None:
    """A typed amount as the decimal string the services read: NFKC, surrounding blanks
    dropped, and thousands separators dropped when they group the digits by three
    (``1,320`` and ``12,345.50``; ``1,32`` stays as typed, to be refused as not a number).
    ``None`` or blank gives ``None``."""
    if text is None:
        return None
    cleaned = ascii_text(text)
    if not cleaned:
        return None
    if _GROUPED.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    return cleaned


def row_id(text: object) -> int:
    """The id in a path (``/payments/17``) to look a row up by: -1, which names no row, when
    the text is not a whole number (``³``, ``1e3``) or too large for an id."""
    value = whole_or_none(text)
    return -1 if value is None else value


def check_amounts(amounts: Sequence[tuple[str, int]], total_field: str) -> None:
    """Refuse (``too_large``, before any statement) amounts in minor units beyond MAX_MINOR:
    each ``(field, amount)`` on its own field (an order line's quantity times its unit
    price), then their sum on ``total_field``."""
    errors = FieldErrors()
    for field in dict.fromkeys(f for f, minor in amounts if abs(minor) > MAX_MINOR):
        errors.add(field, "too_large")
    if not errors and abs(sum(minor for _, minor in amounts)) > MAX_MINOR:
        errors.add(total_field, "too_large")
    errors.raise_if_any()
