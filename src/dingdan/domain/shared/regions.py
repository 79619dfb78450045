"""Regions a location serves and where an address lies, as ISO 3166 codes.

A location serves a list of codes: countries (ISO 3166-1 alpha-2, ``TW``, ``HK``) and
subdivisions (ISO 3166-2, ``TW-TPE``, ``CN-GD``); an empty list serves everywhere. An
address lies in its country and in the subdivisions its ``region`` names (the code itself,
or the subdivision's name); in Taiwan also in the 縣市 its ``region`` or ``city`` names as
the order forms write them (臺北市 and 台北市 alike) and the one its postal code lies in
(tw_postal.json: the 3-digit codes of each 縣市; a 5- or 6-digit code starts with them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from dingdan.domain.shared import tw_postal
from dingdan.domain.shared.errors import FieldErrors

MAX_REGIONS = 100


@lru_cache(maxsize=4096)
def is_region(code: str) -> bool:
    """An ISO 3166-1 alpha-2 country or an ISO 3166-2 subdivision code, upper case."""
    import pycountry

    if not code or code != code.upper() or not code.isascii():
        return False
    if len(code) == 2:
        return code.isalpha() and pycountry.countries.get(alpha_2=code) is not None
    return "-" in code and pycountry.subdivisions.get(code=code) is not None


def check_regions(value: Any, field: str, errors: FieldErrors) -> list[str]:
    """The codes of ``value`` (a list of texts), trimmed, upper-cased and without repeats in
    the order given; each bad one is a field error ``{field}[i]``."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(field, "not_a_list")
        return []
    if len(value) > MAX_REGIONS:
        errors.add(field, "too_many_items", max=MAX_REGIONS)
        return []
    out: list[str] = []
    for i, item in enumerate(value):
        code = item.strip().upper() if isinstance(item, str) else None
        if not code or not is_region(code):
            errors.add(f"{field}[{i}]", "invalid_region", value=str(item)[:20])
        elif code not in out:
            out.append(code)
    return out


@lru_cache(maxsize=1)
def _tw_by_prefix() -> dict[str, str]:
    """Taiwan's 3-digit postal codes -> the ISO 3166-2 code of their 縣市."""
    return {code: c["iso"] for c in tw_postal.cities() for _name, code in c["districts"]}


@lru_cache(maxsize=256)
def _subdivision_named(country: str, text: str) -> str | None:
    """The ISO 3166-2 code a region's text names in ``country``: the code itself, the part
    after the dash (``GD`` in CN), or the subdivision's name; in TW also a 縣市 name."""
    import pycountry

    if not text:
        return None
    upper = text.upper()
    for code in (upper, f"{country}-{upper}"):
        if code.startswith(f"{country}-") and is_region(code):
            return code
    if country == "TW":
        found = tw_postal.city(text)
        if found is not None:
            return str(found["iso"])
    folded = text.casefold()
    for sub in pycountry.subdivisions.get(country_code=country) or ():
        if sub.name.casefold() == folded:
            return str(sub.code)
    return None


def address_regions(address: Mapping[str, Any] | None) -> frozenset[str]:
    """The codes an address lies in: its country and the subdivisions found in it."""
    if not address:
        return frozenset()
    country = str(address.get("country") or "").strip().upper()
    if not country:
        return frozenset()
    found = {country}
    for key in ("region", "city") if country == "TW" else ("region",):
        value = address.get(key)
        if isinstance(value, str) and value.strip():
            code = _subdivision_named(country, value.strip())
            if code:
                found.add(code)
    postal = address.get("postal_code")
    if country == "TW" and isinstance(postal, str):
        digits = postal.strip().replace(" ", "").replace("-", "")
        code = _tw_by_prefix().get(digits[:3]) if digits[:3].isdigit() else None
        if code:
            found.add(code)
    return frozenset(found)


def matching(codes: Sequence[str] | None, where: Iterable[str]) -> list[str]:
    """The codes of ``codes`` (what a location serves) that hold an address in ``where``."""
    here = set(where)
    return [code for code in codes or () if code in here]


def serves(codes: Sequence[str] | None, where: frozenset[str]) -> bool:
    """Whether a location serving ``codes`` (empty: everywhere) serves an address lying in
    ``where`` (``address_regions``)."""
    return not codes or any(code in where for code in codes)
