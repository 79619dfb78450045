"""Languages of the back office: choosing one, translating, formatting per locale.

Catalogs are the Babel ``.po`` files under ``dingdan/translations``; they are compiled in
memory the first time a language is used, so a fresh clone needs no build step.
"""

from __future__ import annotations

import copy
import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import phonenumbers
from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)
from babel.support import Translations
from markupsafe import Markup, escape

import dingdan
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

LANGUAGES = ("zh_Hant", "zh_Hans", "en")
DEFAULT = "en"
LOCALES = {"zh_Hant": "zh_Hant_TW", "zh_Hans": "zh_Hans_CN", "en": "en"}
HTML_LANG = {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans", "en": "en"}
NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}
CATALOG_DIR = Path(dingdan.__file__).parent / "translations"
TIMEZONE = SELLER_TIMEZONE

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


def _shown_digits(value: Decimal, currency: str) -> int:
    """Decimals to show: the currency's cash digits in Babel's data (TWD: 0, as Taiwan
    writes NT$1,320) when the amount has no more, else its ISO digits (an exact stored
    NT$1,320.50 is never shown rounded)."""
    digits = get_currency_precision(currency)
    cash = get_global("currency_fractions").get(currency, (digits, 0, digits, 0))[2]
    if cash < digits and value == value.quantize(Decimal(1).scaleb(-cash)):
        return cash
    return digits


def _symbol(currency: str, locale: Locale) -> str:
    """The locale's symbol, unless it is a bare "$" or "¥" that names another currency
    to everyone outside (zh_Hant_TW's "$" for TWD): then the symbol that says which
    (NT$), as the other languages show it."""
    symbol = get_currency_symbol(currency, locale=locale)
    if symbol in ("$", "¥") and currency not in _BARE.get(locale.territory or "", ()):
        return get_currency_symbol(currency, locale="en")
    return symbol


# Currencies a bare "$" or "¥" means in a territory (as written there): ¥ is the yuan in
# China; "$" alone stays for the US dollar in English.
_BARE = {"CN": ("CNY",), "US": ("USD",), "": ("USD",), "JP": ("JPY",)}


@lru_cache(maxsize=64)
def _pattern(locale: Locale, digits: int) -> Any:
    pattern = copy.copy(parse_pattern(locale.currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    return pattern


def money_text(value: Decimal, currency: str, locale: Locale) -> str:
    """Money as people there write it: NT$1,320, HK$1,320.00, ¥1,320.00 in zh_Hans_CN."""
    digits = _shown_digits(value, currency)
    text = _pattern(locale, digits).apply(
        value, locale, currency=currency, currency_digits=False, decimal_quantization=True
    )
    own = get_currency_symbol(currency, locale=locale)
    wanted = _symbol(currency, locale)
    return str(text.replace(own, wanted, 1) if own != wanted else text)


# The seller's own country: a phone of it is shown in national format where no address
# says otherwise (the sellers are in Taiwan first; business days are Taipei's too).
HOME_COUNTRY = "TW"


def phone_text(value: str | None, country: str | None = None) -> str:
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    home = (country or HOME_COUNTRY).upper()
    kind = phonenumbers.PhoneNumberFormat
    own = phonenumbers.region_code_for_number(number) == home
    return str(phonenumbers.format_number(number, kind.NATIONAL if own else kind.INTERNATIONAL))


_ISO_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def _get(a: Any, key: str) -> str:
    value = a.get(key) if isinstance(a, dict) else getattr(a, key, None)
    return str(value).strip() if value else ""


def address_lines(a: Any) -> list[str]:
    """Taiwan and China write from the largest place down, in one run (郵遞區號、縣市、
    鄉鎮市區、地址; 省、市、区、地址 then the postal code); Hong Kong and Macau from the
    territory down; elsewhere the street first and the postal code after the city.
    ``region`` is shown unless it is an ISO 3166-2 code (TW-TPE: a code, not a name)."""
    if not a:
        return []
    country = _get(a, "country").upper()
    postal, city, line1, line2 = (_get(a, k) for k in ("postal_code", "city", "line1", "line2"))
    region = _get(a, "region")
    if _ISO_SUBDIVISION.match(region) or region == city:
        region = ""
    if country == "TW":
        place = "".join(p for p in (region, city, line1) if p)
        return [p for p in (" ".join(x for x in (postal, place) if x), line2) if p]
    if country == "CN":
        place = "".join(p for p in (region, city, line1) if p)
        return [p for p in (place, line2, postal) if p]
    if country in ("HK", "MO"):
        return [p for p in (" ".join(x for x in (city, region) if x), line1, line2) if p]
    last = " ".join(x for x in (city, region, postal) if x)
    return [p for p in (line1, line2, last) if p]


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
        return money_text(value, currency, self.locale)

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

    def phone(self, value: str | None, country: str | None = None) -> str:
        """A phone as people dial it where it is: national format (0912 345 678) when
        the number belongs to ``country`` (the address's; by default the seller's own,
        HOME_COUNTRY), international with spaces otherwise (+852 9123 4567); as stored when
        it cannot be read."""
        return phone_text(value, country)

    def address(self, a: Any) -> list[str]:
        """An address's lines in its country's order (without the name, phone, country)."""
        return address_lines(a)

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
