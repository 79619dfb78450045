"""Check-digit algorithms named by the tracking-number data in ``tracking_data/``.

The data (jkeen/tracking_number_data, MIT) names an algorithm in ``validation.checksum.name``
and gives its parameters beside it. These functions follow the reference implementation of that
data (``ChecksumValidations`` in jkeen/tracking_number and the data's CHECKSUM_ALGORITHMS.md):

* ``sequence`` is the ``SerialNumber`` group of the match, ``check_digit`` the ``CheckDigit``
  group, both without whitespace;
* ``mod10`` gives a letter the value ``(ord(letter) - 3) % 10`` and multiplies the characters at
  even (0-based) positions by ``evens_multiplier`` and those at odd positions by
  ``odds_multiplier``;
* the weighted algorithms pair each character with one weighting; unlike Ruby's ``zip`` we refuse
  a sequence whose length differs from the weightings instead of padding or failing, which never
  happens with the data's regexes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Checksum = Callable[[str, str, Mapping[str, Any]], bool]

_S10_WEIGHTINGS = (8, 6, 4, 2, 3, 5, 9, 7)


def _is_digits(text: str) -> bool:
    return bool(text) and all("0" <= char <= "9" for char in text)


def _mod10_value(char: str) -> int:
    return int(char) if "0" <= char <= "9" else (ord(char) - 3) % 10


def _weighted_sum(sequence: str, weightings: Sequence[int]) -> int | None:
    if not _is_digits(sequence) or len(sequence) != len(weightings):
        return None
    return sum(int(char) * int(weight) for char, weight in zip(sequence, weightings, strict=True))


def mod10(sequence: str, check_digit: str, params: Mapping[str, Any]) -> bool:
    if not _is_digits(check_digit) or not sequence.isalnum() or not sequence.isascii():
        return False
    chars = sequence[::-1] if params.get("reverse") else sequence
    odds, evens = params.get("odds_multiplier"), params.get("evens_multiplier")
    total = 0
    for index, char in enumerate(chars):
        value = _mod10_value(char)
        if odds is not None and index % 2 == 1:
            value *= int(odds)
        elif evens is not None and index % 2 == 0:
            value *= int(evens)
        total += value
    modulo = int(params.get("modulo", 10))
    check = total % modulo
    return (modulo - check if check else 0) == int(check_digit)


def mod7(sequence: str, check_digit: str, params: Mapping[str, Any]) -> bool:
    if not _is_digits(sequence) or not _is_digits(check_digit):
        return False
    return int(sequence) % int(params.get("modulo", 7)) == int(check_digit)


def s10(sequence: str, check_digit: str, params: Mapping[str, Any]) -> bool:
    """UPU S10: weights 8 6 4 2 3 5 9 7, modulo 11; a remainder of 1 gives 0 and of 0 gives 5."""
    total = _weighted_sum(sequence, params.get("weightings", _S10_WEIGHTINGS))
    if total is None or not _is_digits(check_digit):
        return False
    modulo = int(params.get("modulo", 11))
    remainder = total % modulo
    check = {1: 0, 0: 5}.get(remainder, modulo - remainder)
    return check == int(check_digit)


def sum_product_with_weightings_and_modulo(
    sequence: str, check_digit: str, params: Mapping[str, Any]
) -> bool:
    total = _weighted_sum(sequence, params.get("weightings", ()))
    if total is None or not _is_digits(check_digit):
        return False
    return total % int(params["modulo1"]) % int(params["modulo2"]) == int(check_digit)


def luhn(sequence: str, check_digit: str, params: Mapping[str, Any]) -> bool:
    if not _is_digits(sequence) or not _is_digits(check_digit):
        return False
    total = 0
    for index, char in enumerate(reversed(sequence)):
        value = int(char) * 2 if index % 2 == 0 else int(char)
        total += value - 9 if value > 9 else value
    check = total % 10
    return (10 - check if check else 0) == int(check_digit)


CHECKSUMS: dict[str, Checksum] = {
    "mod10": mod10,
    "mod7": mod7,
    "s10": s10,
    "sum_product_with_weightings_and_modulo": sum_product_with_weightings_and_modulo,
    "luhn": luhn,
}


def checksum_named(name: str) -> Checksum:
    """The algorithm the data calls ``name``; ``KeyError`` for one this module does not know."""
    try:
        return CHECKSUMS[name]
    except KeyError:
        raise KeyError(f"unknown tracking-number checksum {name!r}") from None
