"""Contact data: e-mail addresses, phone numbers, countries, postal codes and postal addresses.

Every ``check_*``/``normalize_*`` function takes the field path to report under and a
:class:`FieldErrors` collector, so that a caller can validate a whole form and report every bad
field at once. Each returns the normalised value, or ``None`` when the value is absent or bad.

Free text (names, address lines, cities) is kept exactly as given apart from stripping
surrounding whitespace: Chinese text is never converted between scripts or width forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import babel
import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_text

MAX_NAME_LENGTH = 200
MAX_LINE_LENGTH = 300
MAX_CITY_LENGTH = 200
MAX_REGION_LENGTH = 200


# --- e-mail -----------------------------------------------------------------------------------


def normalize_email(
    value: object, field: str, errors: FieldErrors, *, required: bool = True
) -> str | None:
    """Check an e-mail address's syntax (no DNS look-up) and return its normalised form.

    The domain is lower-cased (and IDNA-normalised); the local part keeps its case, as the
    standard makes it case-sensitive. Internationalised addresses (``用户@例子.广告``) are allowed.
    """
    text = _present(value, field, errors, required)
    if text is None:
        return None
    normalized, problem = _email(text)
    if problem is not None:
        errors.add(field, "invalid_email", reason=problem)
    return normalized


# Pure functions of their text, remembered: repeat customers send the same address and
# phone again and again, and parsing them was a visible share of an order's CPU. A few
# hundred bytes per entry: some MB per process for the most recent customers.
_REMEMBERED = 32768


@lru_cache(maxsize=_REMEMBERED)
def _email(text: str) -> tuple[str | None, str | None]:
    """The normalised address, or None and what email-validator says is wrong."""
    try:
        return validate_email(text, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        return None, str(exc)


# --- phone ------------------------------------------------------------------------------------

_PARSE_CODES = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "phone_country_code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not_a_phone_number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "phone_too_short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "phone_too_short",
    phonenumbers.NumberParseException.TOO_LONG: "phone_too_long",
}


def normalize_phone(
    value: object,
    field: str,
    errors: FieldErrors,
    default_region: str | None,
    *,
    required: bool = True,
) -> str | None:
    """Parse a phone number and return it in E.164 form (``+886912345678``).

    A number without ``+`` is read as a national number of ``default_region`` (normally the
    address country). The number must be a valid, assigned-range number for its country.
    Extensions are refused because E.164 cannot hold them and dropping one silently would
    leave a courier with a number that does not reach the person.
    """
    text = _present(value, field, errors, required)
    if text is None:
        return None
    region = default_region.strip().upper() if default_region else None
    e164, problem = _e164(text, region)
    if problem is not None:
        errors.add(field, problem)
    return e164


@lru_cache(maxsize=_REMEMBERED)
def _e164(text: str, region: str | None) -> tuple[str | None, str | None]:
    """The number in E.164 form, or None and the error code of what is wrong."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return None, _PARSE_CODES.get(exc.error_type, "not_a_phone_number")
    if number.extension:
        return None, "phone_extension"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid_phone"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


_DIALLED = re.compile(r"\+?[0-9(][0-9 \-().]{6,}")


def phone_as_stored(text: str) -> str | None:
    """A phone number as someone types it into a search (``0912-345-678``, ``+886 912 345
    678``, ``(02) 2345-6789``) turned into the part of the stored E.164 form it must be:
    separators dropped, a national trunk ``0`` dropped (``912345678`` is in
    ``+886912345678``), ``00`` read as ``+``. None when ``text`` is not such a number (at
    least eight digits and nothing but digits, blanks, ``-().`` and a leading ``+``). No
    country is assumed: the national number is matched in any country's numbers."""
    text = text.strip()
    if not _DIALLED.fullmatch(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) < 8:
        return None
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return digits[1:] if digits.startswith("0") else digits


# --- country ----------------------------------------------------------------------------------

_ALPHA2_RE = re.compile(r"[A-Z]{2}")


def check_country(value: object, field: str, errors: FieldErrors) -> str | None:
    """Return an assigned ISO 3166-1 alpha-2 code, upper-cased (``"tw"`` gives ``"TW"``).

    Reserved or user-assigned codes such as ``UK``, ``EU`` or ``XK`` are refused.
    """
    text = _present(value, field, errors, required=True)
    if text is None:
        return None
    code = text.upper()
    if not _ALPHA2_RE.fullmatch(code) or not _assigned(code):
        errors.add(field, "use_gb" if code == "UK" else "invalid_country")
        return None
    return code


@lru_cache(maxsize=512)
def _assigned(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=64)
def _locale(locale: str) -> babel.Locale:
    return babel.Locale.parse(locale.replace("-", "_"))


def country_name(code: str, locale: str) -> str:
    """The country's name in ``locale`` from CLDR: ``TW`` is 台灣 in zh_Hant_TW, Taiwan in en.

    Accepts ``zh_TW``/``zh-TW`` style locales; an unknown locale raises Babel's
    ``UnknownLocaleError``. A code CLDR does not name is returned unchanged.
    """
    return str(_locale(locale).territories.get(code.upper(), code))


# --- postal codes -----------------------------------------------------------------------------


def _joined(sep: str) -> Callable[[re.Match[str]], str]:
    return lambda m: sep.join(g for g in m.groups() if g)


def _whole(m: re.Match[str]) -> str:
    return m.group(0)


def _uk_format(m: re.Match[str]) -> str:
    compact = m.group(0).replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class _PostalRule:
    pattern: re.Pattern[str]
    code: str  # the field error's code, which says what is expected
    fmt: Callable[[re.Match[str]], str]
    example: str = ""


_CA_LETTER = "[ABCEGHJ-NPRSTV-Z]"
_POSTAL_RULES: dict[str, _PostalRule] = {
    # Taiwan: 3 digits (legacy), 3+2 (5 digits) or 3+3 (6 digits, since 2020); stored digits only.
    "TW": _PostalRule(
        re.compile(r"([0-9]{3})(?:[- ]?([0-9]{2,3}))?"),
        "postal_code_tw",
        _joined(""),
    ),
    "CN": _PostalRule(re.compile(r"[0-9]{6}"), "postal_code_six_digits", _whole, "100000"),
    "SG": _PostalRule(re.compile(r"[0-9]{6}"), "postal_code_six_digits", _whole, "018956"),
    "US": _PostalRule(
        re.compile(r"([0-9]{5})(?:[- ]?([0-9]{4}))?"),
        "postal_code_us",
        _joined("-"),
    ),
    "JP": _PostalRule(re.compile(r"([0-9]{3})[- ]?([0-9]{4})"), "postal_code_jp", _joined("-")),
    "GB": _PostalRule(
        re.compile(
            r"GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW])"
            r" ?[0-9][ABD-HJLNP-UW-Z]{2}"
        ),
        "postal_code_gb",
        _uk_format,
    ),
    "CA": _PostalRule(
        re.compile(rf"([ABCEGHJ-NPRSTVXY][0-9]{_CA_LETTER}) ?([0-9]{_CA_LETTER}[0-9])"),
        "postal_code_ca",
        _joined(" "),
    ),
}
_GENERIC_RULE = _PostalRule(
    re.compile(r"[A-Z0-9][A-Z0-9 -]{0,11}"),
    "postal_code",
    _whole,
)
_POSTAL_REQUIRED = frozenset(_POSTAL_RULES)
# Hong Kong and Macau have no postal codes. Some sites and carriers demand one anyway, so the
# usual placeholders are accepted, but they carry no information and are dropped (None).
_NO_POSTAL_CODES: dict[str, frozenset[str]] = {
    "HK": frozenset({"000000", "999077"}),
    "MO": frozenset({"000000", "999078"}),
}


def _clean_postal(text: str) -> str:
    # NFKC turns full-width digits and dashes typed with a CJK input method into ASCII.
    return " ".join(unicodedata.normalize("NFKC", text).upper().split())


def check_postal_code(
    country: str | None, value: object, field: str, errors: FieldErrors
) -> str | None:
    """Check a postal code against the country's format and return it normalised.

    Required for TW, CN, US, JP, SG, CA and GB; optional elsewhere. Hong Kong and Macau have
    none: an empty value is accepted, and so are the placeholders 000000 and 999077 (HK) or
    999078 (MO), returned as ``None``; anything else is refused. Other countries (and an
    unknown ``country``) get a permissive check.
    """
    code = (country or "").upper()
    text = _present(value, field, errors, required=code in _POSTAL_REQUIRED)
    if text is None:
        return None
    cleaned = _clean_postal(text)
    if code in _NO_POSTAL_CODES:
        if cleaned not in _NO_POSTAL_CODES[code]:
            errors.add(field, "no_postal_codes", country=code)
        return None
    rule = _POSTAL_RULES.get(code, _GENERIC_RULE)
    match = rule.pattern.fullmatch(cleaned)
    if match is None:
        errors.add(field, rule.code, example=rule.example)
        return None
    return rule.fmt(match)


# --- addresses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None

    def as_dict(self) -> dict[str, str | None]:
        """The fields as a new dict, in their order: what ``dataclasses.asdict`` gives, at a
        thirtieth of its cost (it deep-copies each value; these are strings), three times
        per order captured."""
        return dict(self.__dict__)


# field -> (required, maximum length)
_ADDRESS_TEXT_FIELDS: dict[str, tuple[bool, int]] = {
    "name": (True, MAX_NAME_LENGTH),
    "line1": (True, MAX_LINE_LENGTH),
    "line2": (False, MAX_LINE_LENGTH),
    "city": (True, MAX_CITY_LENGTH),
    "region": (False, MAX_REGION_LENGTH),
}


def validate_address(
    data: Mapping[str, object], prefix: str, errors: FieldErrors, *, pickup: bool = False
) -> Address | None:
    """Validate one postal address, reporting each bad field as ``f"{prefix}.{field}"``.

    Required: name, line1, city, country, and postal_code where the country uses them.
    Optional: line2, region, phone (normalised to E.164 with the address country as the
    default region). ``pickup``: the parcel is collected (a store), so only name, phone and
    country are required; what else is given is checked. Keys other than the Address
    fields are ignored. Returns ``None`` when any field is bad; every problem is added to
    ``errors``.
    """
    if not isinstance(data, Mapping):
        errors.add(prefix or "address", "not_an_object")
        return None
    before = len(errors.items)
    text = {
        name: _check_text(
            data.get(name),
            _path(prefix, name),
            errors,
            required and name == "name" if pickup else required,
            limit,
        )
        for name, (required, limit) in _ADDRESS_TEXT_FIELDS.items()
    }
    country = check_country(data.get("country"), _path(prefix, "country"), errors)
    if pickup and data.get("postal_code") in (None, ""):
        postal_code = None
    else:
        postal_code = check_postal_code(
            country, data.get("postal_code"), _path(prefix, "postal_code"), errors
        )
    phone = normalize_phone(
        data.get("phone"), _path(prefix, "phone"), errors, country, required=pickup
    )
    if len(errors.items) > before or country is None:
        return None
    return Address(
        name=text["name"] or "",
        line1=text["line1"] or "",
        line2=text["line2"],
        city=text["city"] or "",
        region=text["region"],
        postal_code=postal_code,
        country=country,
        phone=phone,
    )


# --- helpers ----------------------------------------------------------------------------------


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _present(value: object, field: str, errors: FieldErrors, required: bool) -> str | None:
    """The stripped string, or ``None`` when absent/blank (reported if required) or not text."""
    if isinstance(value, str):
        text = value.strip()
    elif value is None:
        text = ""
    else:
        errors.add(field, "not_text")
        return None
    if not text:
        if required:
            errors.add(field, "required")
        return None
    return text


def _check_text(
    value: object, field: str, errors: FieldErrors, required: bool, max_length: int
) -> str | None:
    return check_text(value, field, errors, max_length=max_length, required=required)
