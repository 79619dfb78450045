"""Languages of the back office: choosing one, translating, formatting per locale.

Catalogs are the Babel ``.po`` files under ``dingdan/translations``; they are compiled in
memory the first time a language is used, so a fresh clone needs no build step.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from markupsafe import Markup, escape

import dingdan

LANGUAGES = ("zh_Hant", "zh_Hans", "en")
DEFAULT = "en"
LOCALES = {"zh_Hant": "zh_Hant_TW", "zh_Hans": "zh_Hans_CN", "en": "en"}
HTML_LANG = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}
CATALOG_DIR = Path(dingdan.__file__).parent / "translations"
TIMEZONE = ZoneInfo("Asia/Taipei")

_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}
_SIMPLIFIED_REGIONS = {"cn", "sg"}


def language_of_tag(tag: str) -> str | None:
    """The contract's rule for one language tag: zh, zh-TW, zh-HK, zh-MO, zh-Hant →
    Traditional; zh-CN, zh-SG, zh-Hans → Simplified; en → English; else None."""
    parts = tag.strip().lower().replace("_", "-").split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = parts[1:]
    if "hant" in rest:
        return "zh_Hant"
    if "hans" in rest:
        return "zh_Hans"
    if not rest or rest[0] in _TRADITIONAL_REGIONS:
        return "zh_Hant"
    if rest[0] in _SIMPLIFIED_REGIONS:
        return "zh_Hans"
    return None


def from_accept_language(header: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header; English otherwise."""
    choices: list[tuple[float, int, str]] = []
    for i, item in enumerate((header or "")[:1000].split(",")):
        tag, _, params = item.partition(";")
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                q = 0.0
        if tag.strip() and q > 0:
            choices.append((-q, i, tag))
    for _, _, tag in sorted(choices):
        found = language_of_tag(tag)
        if found:
            return found
    return DEFAULT


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    path = catalog_path(language)
    if language == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


class Formatter:
    """Numbers, money and dates in one language's conventions."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(LOCALES[language])

    def number(self, value: Any) -> str:
        return str(format_decimal(value or 0, locale=self.locale))

    def money(self, amount: Any, currency: str | None) -> str:
        if amount is None or not currency:
            return ""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return str(amount)
        return str(format_currency(value, currency, locale=self.locale))

    def _dt(self, value: Any) -> datetime | None:
        if not value:
            return None
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None

    def datetime(self, value: Any, fmt: str = "short") -> str:
        dt = self._dt(value)
        if dt is None:
            return ""
        return str(format_datetime(dt, fmt, tzinfo=TIMEZONE, locale=self.locale))

    def date(self, value: Any, fmt: str = "medium") -> str:
        dt = self._dt(value)
        if dt is None:
            return ""
        return str(format_date(dt.astimezone(TIMEZONE), fmt, locale=self.locale))

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return str(self.locale.territories.get(code.upper(), code))


def gettext_for(language: str) -> Any:
    """``_`` for templates and pages: translates, then fills ``%(name)s`` placeholders
    with escaped values (a translation is trusted text; what fills it is not)."""
    t = translations(language)

    def _(message: str, **values: Any) -> Markup:
        text = Markup(t.gettext(message))
        return text % {k: escape(v) for k, v in values.items()} if values else text

    return _


def text_for(language: str) -> Any:
    """``_`` for Python code: plain text (flash messages, errors); templates escape it when
    they show it, so it must not be escaped here too."""
    t = translations(language)

    def text(message: str, **values: Any) -> str:
        translated = str(t.gettext(message))
        return translated % values if values else translated

    return text


def ngettext_for(language: str) -> Any:
    t = translations(language)

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> Markup:
        text = Markup(t.ngettext(singular, plural, n))
        return text % {"num": n, **{k: escape(v) for k, v in values.items()}}

    return ngettext
