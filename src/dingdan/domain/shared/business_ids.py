"""Business registration numbers: Taiwan's 統一編號 and China's 统一社会信用代码.

The ``is_valid_*`` functions take the number exactly as stored (no spaces, upper case) and
answer yes or no. The ``check_*`` functions accept what a person typed (surrounding or inner
spaces, lower case, full-width characters), report a readable error on a field path, and
return the compact form to store.
"""

from __future__ import annotations

import re
import unicodedata

from dingdan.domain.shared.errors import FieldErrors

# --- Taiwan unified business number (統一編號) -------------------------------------------------

_TW_UBN_RE = re.compile(r"[0-9]{8}")
_TW_UBN_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)


def is_valid_tw_ubn(s: str) -> bool:
    """Taiwan unified business number: 8 digits with a weighted digit-sum check.

    Weights 1,2,1,2,1,2,4,1; the digits of every product are summed. Since 2023-04-01 the sum
    must be divisible by 5 (it was 10 before, so every old number stays valid). When the 7th
    digit is 7 its product 28 counts as either 10 or 1+0, so ``sum + 1`` divisible by 5 is
    accepted as well.
    """
    if not isinstance(s, str) or not _TW_UBN_RE.fullmatch(s):
        return False
    total = sum(_digit_sum(int(d) * w) for d, w in zip(s, _TW_UBN_WEIGHTS, strict=True))
    return total % 5 == 0 or (s[6] == "7" and (total + 1) % 5 == 0)


def _digit_sum(n: int) -> int:
    return sum(int(d) for d in str(n))


# --- China unified social credit code (统一社会信用代码, GB 32100-2015) --------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_VALUES = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
# 1: registration authority, 2: organisation type, 3-8: administrative division (GB/T 2260,
# always digits), 9-17: organisation code, 18: check character.
_CN_USCC_RE = re.compile(rf"[{_USCC_ALPHABET}]{{2}}[0-9]{{6}}[{_USCC_ALPHABET}]{{10}}")


def is_valid_cn_uscc(s: str) -> bool:
    """China unified social credit code: 18 characters and a mod-31 check character.

    The character set is 0-9 and A-Y without I, O, S, V and Z; characters 3-8 are the
    administrative division code and so digits. Characters 1-2 may be letters (GB 32100 lets
    the registration authority be A, N or Y), which python-stdnum wrongly refuses. Check:
    weights 3^i mod 31 over the first 17 values, check = alphabet[(31 - sum % 31) % 31].
    """
    if not isinstance(s, str) or not _CN_USCC_RE.fullmatch(s):
        return False
    total = sum(_USCC_VALUES[ch] * w for ch, w in zip(s[:17], _USCC_WEIGHTS, strict=True))
    return s[17] == _USCC_ALPHABET[(31 - total % 31) % 31]


# --- form-field checks ------------------------------------------------------------------------


def _compact(value: str) -> str:
    """Full-width to ASCII, drop spaces and dashes, upper case."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(text.split()).replace("-", "").upper()


def check_tw_ubn(value: object, field: str, errors: FieldErrors) -> str | None:
    """A typed 統一編號 in its stored form (8 digits), or ``None`` with an error added."""
    if not isinstance(value, str):
        errors.add(field, "not_text")
        return None
    number = _compact(value)
    if not is_valid_tw_ubn(number):
        errors.add(field, "invalid_ubn")
        return None
    return number


def check_cn_uscc(value: object, field: str, errors: FieldErrors) -> str | None:
    """A typed 统一社会信用代码 in its stored form (18 characters), or ``None`` with an error."""
    if not isinstance(value, str):
        errors.add(field, "not_text")
        return None
    code = _compact(value)
    if not is_valid_cn_uscc(code):
        errors.add(field, "invalid_uscc")
        return None
    return code
