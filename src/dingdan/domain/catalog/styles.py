"""Styles and their variants (issue 21, part 9), the rules that need no database: option
names and values, the combinations a grid of values makes, and the SKUs suggested for them.

A style has 1 to ``MAX_OPTIONS`` option names (尺寸, 顏色); each variant gives one value
per option, in the style's order, and no two variants of a style give the same values.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Any

from dingdan.domain.catalog.products import SKU_RE
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_clean

MAX_OPTIONS = 3
MAX_VALUES = 50  # values of one option
MAX_VARIANTS = 200  # variants of one style
OPTION_LEN = 40
VALUE_LEN = 60
SEPARATOR = "\x1f"  # between the values of a combination's key
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def _text(
    value: Any, field: str, errors: FieldErrors, max_len: int, forbidden: str = ";"
) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.add(field, "required_text", max=max_len)
        return None
    value = unicodedata.normalize("NFC", value.strip())
    if len(value) > max_len:
        errors.add(field, "at_most_characters", max=max_len)
        return None
    if not check_clean(value, field, errors):
        return None
    if SEPARATOR in value:
        errors.add(field, "control_characters")
        return None
    if any(c in value for c in forbidden):  # a spreadsheet's cell writes 尺寸=M; 顏色=紅
        errors.add(field, "option_characters")
        return None
    return value


def check_option_names(names: Any, field: str, errors: FieldErrors) -> list[str]:
    """The option names, stripped: 1 to ``MAX_OPTIONS`` texts, none twice."""
    if not isinstance(names, list):
        errors.add(field, "not_a_list")
        return []
    if not 1 <= len(names) <= MAX_OPTIONS:
        errors.add(field, "out_of_range", min=1, max=MAX_OPTIONS)
        return []
    out: list[str] = []
    for i, name in enumerate(names):
        text = _text(name, f"{field}[{i}]", errors, OPTION_LEN, forbidden="=;")
        if text is not None and text.casefold() in {n.casefold() for n in out}:
            errors.add(f"{field}[{i}]", "duplicate_option")
        elif text is not None:
            out.append(text)
    return out if len(out) == len(names) else []


def check_values(
    options: list[str], given: Any, field: str, errors: FieldErrors
) -> list[str] | None:
    """A variant's values in the option order, from ``{"尺寸": "M", "顏色": "紅"}`` (or a
    list in order): one for every option, no option it does not have."""
    if isinstance(given, list):
        if len(given) != len(options):
            errors.add(field, "not_one_per_option", options=", ".join(options))
            return None
        given = dict(zip(options, given, strict=True))
    if not isinstance(given, dict):
        errors.add(field, "not_an_object")
        return None
    values: list[str] = []
    for name in given:
        if name not in options:
            errors.add(f"{field}.{name}", "unknown_option", options=", ".join(options))
    for name in options:
        text = _text(given.get(name), f"{field}.{name}", errors, VALUE_LEN)
        if text is not None:
            values.append(text)
    return values if len(values) == len(options) and len(given) == len(options) else None


def option_key(values: list[str]) -> str:
    """The combination as the database compares it: case and width folded (M and ｍ are one)."""
    return SEPARATOR.join(unicodedata.normalize("NFKC", v).casefold() for v in values)


def combinations(grid: list[list[str]]) -> list[list[str]]:
    """Every combination of the values of each option, the first option slowest."""
    return [list(c) for c in itertools.product(*grid)]


def suggested_sku(code: str, values: list[str], number: int) -> str:
    """``TEE-M-RED`` from the style's code and ASCII values; a value with no ASCII letter
    or digit (紅) makes it ``TEE-01`` (numbered); never longer than a SKU may be."""
    parts = [_SLUG.sub("", unicodedata.normalize("NFKC", v)).upper() for v in values]
    if all(parts):
        sku = "-".join([code, *parts])
        if SKU_RE.match(sku):
            return sku
    return f"{code[:56]}-{number:02d}"


def option_map(options: list[str], values: list[str] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return dict(zip(options, values, strict=False))


def parse_options_text(text: str) -> list[tuple[str, str]] | None:
    """``尺寸=M; 顏色=紅`` (a spreadsheet's cell) → [("尺寸", "M"), ("顏色", "紅")]; None when
    a part has no ``=``."""
    out: list[tuple[str, str]] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            return None
        out.append((name.strip(), value.strip()))
    return out


def options_text(options: dict[str, str] | None) -> str | None:
    """The inverse of ``parse_options_text``."""
    if not options:
        return None
    return "; ".join(f"{k}={v}" for k, v in options.items())
