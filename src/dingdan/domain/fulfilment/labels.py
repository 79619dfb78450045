"""Label carriers: home-delivery carriers whose tracking numbers the seller takes from ranges
the carrier assigned beforehand, printed on the carrier's own label with a Code128 barcode.

No carrier service is called: T-cat (黑貓宅急便) and HCT (新竹物流) hand a contract seller
books of numbers (a first and a last number) and accept parcels whose label carries one of
them. A range is entered as its first and last number *as printed* by the carrier.

Check digits: a range's ``check_digit`` says how its numbers end.

* ``mod7``: the last digit is the rest of the number without it divided by 7 (the scheme of
  Yamato, whose system T-cat runs: ``12345678901`` + ``12345678901 % 7`` = ``123456789013``).
  Consecutive numbers of such a range differ in their serial (all digits but the last), so the
  range runs over serials and each number gets its digit appended.
* ``none``: the numbers are plain consecutive integers.

The carriers' published formats being incomplete (domain/fulfilment/carriers.py), the seller
says which applies when entering a range; T-cat's default is ``mod7``, HCT's ``none``. Every
number taken is still checked by the carrier's tracking-number check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dingdan.domain.shared.errors import FieldErrors

CHECK_DIGITS = ("mod7", "none")
_DIGITS = re.compile(r"[0-9]{6,20}", re.ASCII)


@dataclass(frozen=True)
class LabelFormat:
    """How one carrier's label is printed and numbered."""

    carrier: str
    width_mm: int
    height_mm: int
    digits: tuple[int, ...]  # lengths a number of this carrier may have
    default_check_digit: str


# Both carriers' thermal labels are 10 × 10 cm (100 × 100 mm), the size of the roll their
# contract printers take; the barcode is Code128 of the tracking number.
LABEL_FORMATS: dict[str, LabelFormat] = {
    "tcat": LabelFormat("tcat", 100, 100, (12,), "mod7"),
    "hct": LabelFormat("hct", 100, 100, tuple(range(8, 16)), "none"),
}


def label_format(carrier: str) -> LabelFormat | None:
    return LABEL_FORMATS.get(carrier)


def mod7_digit(serial: int) -> int:
    return serial % 7


def has_valid_mod7(number: str) -> bool:
    return len(number) >= 2 and int(number[:-1]) % 7 == int(number[-1])


@dataclass(frozen=True)
class RangeInput:
    """A range to store: serials ``start``..``end`` (the numbers without their check digit
    when ``check_digit`` is ``mod7``) and ``width`` digits per printed number."""

    carrier: str
    start: int
    end: int
    width: int
    check_digit: str

    @property
    def size(self) -> int:
        return self.end - self.start + 1


def number_of(serial: int, width: int, check_digit: str) -> str:
    """The printed number of ``serial`` in a range of ``width`` digits."""
    if check_digit == "mod7":
        return f"{serial:0{width - 1}d}{mod7_digit(serial)}"
    return f"{serial:0{width}d}"


def serial_of(number: str, check_digit: str) -> int:
    return int(number[:-1]) if check_digit == "mod7" else int(number)


def check_range(body: dict[str, Any]) -> RangeInput:
    """A range as the seller types it: ``carrier`` (tcat, hct), ``start`` and ``end`` (the
    first and last numbers as printed, digits of the same length, ``end`` not before
    ``start``) and ``check_digit`` (the carrier's default when left out)."""
    errors = FieldErrors()
    carrier = body.get("carrier")
    fmt = label_format(carrier) if isinstance(carrier, str) else None
    if fmt is None:
        errors.add("carrier", "not_one_of", choices=", ".join(LABEL_FORMATS))
        errors.raise_if_any()
    assert fmt is not None
    check = body.get("check_digit", fmt.default_check_digit)
    if check is None:
        check = fmt.default_check_digit
    if check not in CHECK_DIGITS:
        errors.add("check_digit", "not_one_of", choices=", ".join(CHECK_DIGITS))
    numbers: dict[str, str] = {}
    for key in ("start", "end"):
        value = body.get(key)
        text = value.strip() if isinstance(value, str) else ""
        if not _DIGITS.fullmatch(text) or len(text) not in fmt.digits:
            errors.add(key, "invalid_label_number", lengths=_lengths(fmt))
        elif check == "mod7" and not has_valid_mod7(text):
            errors.add(key, "label_check_digit")
        else:
            numbers[key] = text
    errors.raise_if_any()
    start, end = numbers["start"], numbers["end"]
    if len(start) != len(end):
        errors.add("end", "label_range_length")
    elif serial_of(end, check) < serial_of(start, check):
        errors.add("end", "track_end_before_start")
    errors.raise_if_any()
    first, last = serial_of(start, check), serial_of(end, check)
    return RangeInput(fmt.carrier, first, last, len(start), check)


def _lengths(fmt: LabelFormat) -> str:
    low, high = min(fmt.digits), max(fmt.digits)
    return str(low) if low == high else f"{low} to {high}"
