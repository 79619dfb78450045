"""Taiwan's 3-digit postal codes (郵遞區號) by 縣市 and 鄉鎮市區, as Chunghwa Post assigns them:
the order-entry form chooses both from lists and the code follows (tw_postal.json)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def cities() -> tuple[dict[str, Any], ...]:
    """The 22 counties and cities in postal order, each ``{"city", "iso", "districts":
    [[name, code], ...]}``."""
    text = resources.files(__package__).joinpath("tw_postal.json").read_text(encoding="utf-8")
    return tuple(json.loads(text)["cities"])


def _folded(name: str) -> str:
    return name.strip().replace("台", "臺")  # 台北市 and 臺北市 are one place


def city(name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    wanted = _folded(name)
    return next((c for c in cities() if c["city"] == wanted), None)


def postal_code(city_name: str | None, district: str | None) -> str | None:
    """The code of a district of a city, None when either is unknown."""
    c = city(city_name)
    if c is None or not district:
        return None
    wanted = _folded(district)
    return next((code for name, code in c["districts"] if name == wanted), None)


def split_line(city_name: str | None, line1: str | None) -> tuple[str, str]:
    """A Taiwanese address line as (鄉鎮市區, the rest) when it starts with a district of the
    city (``信義區信義路五段7號`` → ``信義區``, ``信義路五段7號``); else ("", the line)."""
    c = city(city_name)
    text = (line1 or "").strip()
    if c is None:
        return "", text
    for name, _code in sorted(c["districts"], key=lambda d: -len(d[0])):
        for spelled in {name, name.replace("臺", "台")}:
            if text.startswith(spelled):
                return name, text[len(spelled) :].strip()
    return "", text


def district_of(city_name: str | None, code: str | None) -> str:
    """The district a postal code names in a city, when only one there has it (all of
    新竹市 is 300, all of 嘉義市 600); else ""."""
    c = city(city_name)
    names = [name for name, dc in (c["districts"] if c else []) if dc == (code or "").strip()]
    return names[0] if len(names) == 1 else ""
