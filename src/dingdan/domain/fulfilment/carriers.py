"""Shipping carriers a seller can pick, and the checks on their tracking numbers.

Where each tracking-number rule comes from:

* UPS, FedEx, DHL and the UPU S10 format: the regexes, check-digit algorithms and "exists"
  checks of jkeen/tracking_number_data (MIT), kept unchanged in ``tracking_data/`` and read with
  importlib.resources. The algorithms are in ``tracking_checksums``. A number is valid for one of
  these carriers when it fully matches any of the carrier's kinds, passes that kind's checksum and
  its ``validation.additional.exists`` lookups, as in the reference gem jkeen/tracking_number.
  One deliberate difference: S10's "Courier" lookup lists only some countries (not TW, for one),
  so any ISO 3166-1 alpha-2 code is accepted as the issuing country as well.
* Chunghwa Post (中華郵政): S10 only, for international items. Its domestic numbers are not
  described in the data and we do not know their format reliably, so they are refused.
* T-cat (黑貓宅急便): 12 digits, without a check digit (none is published). Not in the data:
  third-party logistics-API integration notes give T-cat's 託運單號 (and return numbers) as
  12 digits, and the T-cat numbers in public integrations are 12 digits.
* HCT, SF Express, 7-ELEVEN, FamilyMart, Hi-Life and OK mart store pickup, own delivery and
  "other": no format we could confirm, so only the permissive generic check (4 to 40 of A-Z,
  0-9 and "-", at least one letter or digit). SF Express is left generic on purpose: its
  older waybills are all digits.
* Tracking URLs: UPS, FedEx and DHL from the data (``%s`` becomes ``{number}``); T-cat's
  TraceDetail page is the one several independent integrations link to. Others have no link
  that takes the number, so ``None``.

Numbers are normalised before any check: NFKC (full-width ``１２３`` becomes ``123``), every
whitespace character removed, upper case.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from dingdan.domain.fulfilment.tracking_checksums import checksum_named
from dingdan.domain.shared.errors import ValidationFailed


@dataclass(frozen=True)
class Carrier:
    code: str
    name_en: str
    name_zh_hant: str
    name_zh_hans: str
    tracking_format: str | None  # a key of the format families below; None: generic check only
    tracking_url: str | None  # template with "{number}"
    store_pickup: bool


DEFAULT_CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "tcat",
        "T-cat",
        "黑貓宅急便",
        "黑猫宅急便",
        "tcat",
        "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID={number}",
        False,
    ),
    Carrier("hct", "Hsinchu Transport (HCT)", "新竹物流", "新竹物流", None, None, False),
    Carrier("chunghwa_post", "Chunghwa Post", "中華郵政", "中华邮政", "s10", None, False),
    Carrier(
        "seven_eleven",
        "7-ELEVEN store pickup",
        "7-ELEVEN 超商取貨",
        "7-ELEVEN 超商取货",
        None,
        None,
        True,
    ),
    Carrier(
        "family_mart",
        "FamilyMart store pickup",
        "全家便利商店取貨",
        "全家便利商店取货",
        None,
        None,
        True,
    ),
    Carrier(
        "hi_life",
        "Hi-Life store pickup",
        "萊爾富超商取貨",
        "莱尔富超商取货",
        None,
        None,
        True,
    ),
    Carrier("ok_mart", "OK mart store pickup", "OK超商取貨", "OK超商取货", None, None, True),
    Carrier("sf_express", "SF Express", "順豐速運", "顺丰速运", None, None, False),
    Carrier(
        "dhl",
        "DHL",
        "DHL",
        "DHL",
        "dhl",
        "http://www.dhl.com/en/express/tracking.html?brand=DHL&AWB={number}",
        False,
    ),
    Carrier(
        "fedex",
        "FedEx",
        "FedEx 聯邦快遞",
        "FedEx 联邦快递",
        "fedex",
        "https://www.fedex.com/apps/fedextrack/?tracknumbers={number}",
        False,
    ),
    Carrier(
        "ups",
        "UPS",
        "UPS",
        "UPS",
        "ups",
        "https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums={number}",
        False,
    ),
    # The seller's own drivers (自有配送): delivery runs, proof of delivery on the phone.
    Carrier("own_delivery", "Own delivery", "自有配送", "自有配送", None, None, False),
    Carrier("other", "Other carrier", "其他物流", "其他物流", None, None, False),
)

_BY_CODE: dict[str, Carrier] = {carrier.code: carrier for carrier in DEFAULT_CARRIERS}


def N_(message: str) -> str:  # noqa: N802 - the marker Babel extracts (pages translate these)
    return message


GENERIC_DESCRIPTION = N_("4 to 40 letters, digits or dashes")
_GENERIC = re.compile(r"(?=[A-Z0-9-]*[A-Z0-9])[A-Z0-9-]{4,40}")
_LOCAL_FORMATS: dict[str, re.Pattern[str]] = {"tcat": re.compile(r"[0-9]{12}")}
_DATA_PACKAGE = "dingdan.domain.fulfilment.tracking_data"
_DATA_FORMATS = frozenset({"dhl", "fedex", "ups", "s10"})  # each is the name of a JSON file
_FORMAT_DESCRIPTIONS: dict[str, str] = {
    "tcat": N_("12 digits"),
    "s10": N_("2 letters, 9 digits and a country code, such as RR123456785TW"),
    "ups": N_("1Z and 16 letters or digits, or a waybill such as K1506235620"),
    "fedex": N_("12, 15, 18, 22, 32 or 34 digits"),
    "dhl": N_("a waybill of 10 or 11 digits, 14 digits, a piece ID or an e-commerce number"),
}
_MAX_LENGTH = 64  # longer than any format; refused before any regex runs
_WHITESPACE = re.compile(r"\s+")
# Separators people and labels put between groups of digits (9012-3456-7890, 9012.3456.7890):
# no known format has them, so they are dropped before a known format is checked. Dashes
# stay for carriers checked only generically, whose numbers may hold them.
_SEPARATORS = re.compile(r"[-.\u2010-\u2015\u2212\u30fc\uff0d]")
_PCRE_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")

# ISO 3166-1 alpha-2, officially assigned codes (249, as in pycountry 26.2.16).
_ISO_COUNTRY_CODES_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRY_CODES: frozenset[str] = frozenset(_ISO_COUNTRY_CODES_TEXT.split())
# Values a data lookup accepts beyond those it lists: (format, lookup name) -> values.
_EXTRA_LOOKUP_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("s10", "Courier"): ISO_COUNTRY_CODES,
}


class _Outcome(enum.IntEnum):
    NO_MATCH = 0
    BAD_CHECK_DIGIT = 1
    VALID = 2


@dataclass(frozen=True)
class _Lookup:
    group: str
    entries: tuple[Mapping[str, Any], ...]
    extra_values: frozenset[str]


@dataclass(frozen=True)
class _Kind:
    """One tracking-number kind of a courier file, e.g. "UPS Waybill"."""

    name: str
    pattern: re.Pattern[str]
    checksum: Mapping[str, Any] | None
    exists: tuple[str, ...]
    lookups: Mapping[str, _Lookup]


def get_carrier(code: str) -> Carrier | None:
    return _BY_CODE.get(code)


def normalize_tracking_number(number: str) -> str:
    """NFKC, without any whitespace, upper case: ``" rr 123 456 785 tw"`` -> ``"RR123456785TW"``."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", number)).upper()


def validate_tracking_number(carrier_code: str, number: str) -> str:
    """The normalised number if ``carrier_code``'s formats accept it; otherwise ValidationFailed.

    An unknown carrier code fails on the field ``carrier``, a bad number on ``tracking_number``.
    """
    carrier = get_carrier(carrier_code) if isinstance(carrier_code, str) else None
    if carrier is None:
        raise ValidationFailed.on("carrier", "unknown_carrier", carrier=carrier_code)
    if not isinstance(number, str):
        raise ValidationFailed.on(
            "tracking_number",
            "tracking_not_text",
            carrier=carrier.name_en,
            carrier_code=carrier.code,
        )
    normalized = normalize_tracking_number(number)
    if carrier.tracking_format is not None:
        normalized = _SEPARATORS.sub("", normalized)
    if not normalized:
        raise ValidationFailed.on(
            "tracking_number",
            "tracking_required",
            carrier=carrier.name_en,
            carrier_code=carrier.code,
        )
    outcome = _format_outcome(carrier.tracking_format, normalized)
    if outcome is not _Outcome.VALID:
        raise _refused(carrier, outcome)
    return normalized


def detect_carriers(number: str) -> list[str]:
    """Codes of the default carriers with a known format that accepts ``number``, in order.

    Carriers checked only generically (HCT, store pickup, "other", ...) are never listed.
    """
    normalized = normalize_tracking_number(number) if isinstance(number, str) else ""
    normalized = _SEPARATORS.sub("", normalized)
    if not normalized:
        return []
    return [
        carrier.code
        for carrier in DEFAULT_CARRIERS
        if carrier.tracking_format is not None
        and _format_outcome(carrier.tracking_format, normalized) is _Outcome.VALID
    ]


def _refused(carrier: Carrier, outcome: _Outcome) -> ValidationFailed:
    if outcome is _Outcome.BAD_CHECK_DIGIT:
        return ValidationFailed.on(
            "tracking_number", "bad_check_digit", carrier=carrier.name_en, carrier_code=carrier.code
        )
    fmt = carrier.tracking_format
    expected = GENERIC_DESCRIPTION if fmt is None else _FORMAT_DESCRIPTIONS[fmt]
    return ValidationFailed.on(
        "tracking_number",
        "invalid_tracking_number",
        carrier=carrier.name_en,
        carrier_code=carrier.code,
        expected=expected,
    )


def _format_outcome(tracking_format: str | None, number: str) -> _Outcome:
    if len(number) > _MAX_LENGTH:
        return _Outcome.NO_MATCH
    if tracking_format is None:
        return _Outcome.VALID if _GENERIC.fullmatch(number) else _Outcome.NO_MATCH
    local = _LOCAL_FORMATS.get(tracking_format)
    if local is not None:
        return _Outcome.VALID if local.fullmatch(number) else _Outcome.NO_MATCH
    return _best(_kind_outcome(kind, number) for kind in _data_kinds(tracking_format))


def _best(outcomes: Iterable[_Outcome]) -> _Outcome:
    return max(outcomes, default=_Outcome.NO_MATCH)


def _kind_outcome(kind: _Kind, number: str) -> _Outcome:
    match = kind.pattern.fullmatch(number)
    if match is None or not all(_lookup_found(kind, name, match) for name in kind.exists):
        return _Outcome.NO_MATCH
    if not _checksum_passes(kind, match):
        return _Outcome.BAD_CHECK_DIGIT
    return _Outcome.VALID


def _group(match: re.Match[str], name: str) -> str | None:
    if name not in match.re.groupindex:
        return None
    value = match.group(name)
    return None if value is None else _WHITESPACE.sub("", value)


def _checksum_passes(kind: _Kind, match: re.Match[str]) -> bool:
    if kind.checksum is None:
        return True
    serial, check_digit = _group(match, "SerialNumber"), _group(match, "CheckDigit")
    if serial is None or check_digit is None:
        return False
    return checksum_named(kind.checksum["name"])(serial, check_digit, kind.checksum)


def _lookup_found(kind: _Kind, name: str, match: re.Match[str]) -> bool:
    lookup = kind.lookups.get(name)
    value = None if lookup is None else _group(match, lookup.group)
    if lookup is None or value is None:
        return False
    return value in lookup.extra_values or any(
        _entry_matches(entry, value) for entry in lookup.entries
    )


def _entry_matches(entry: Mapping[str, Any], value: str) -> bool:
    if entry.get("matches") is not None:
        return bool(value == entry["matches"])
    if entry.get("matches_regex") is not None:
        return re.search(entry["matches_regex"], value) is not None
    return False


@functools.cache
def _data_kinds(tracking_format: str) -> tuple[_Kind, ...]:
    """The kinds of ``tracking_data/<tracking_format>.json``, read once."""
    if tracking_format not in _DATA_FORMATS:
        raise KeyError(f"unknown tracking format {tracking_format!r}")
    text = resources.files(_DATA_PACKAGE).joinpath(f"{tracking_format}.json").read_text("utf-8")
    data = json.loads(text)
    return tuple(_load_kind(tracking_format, info) for info in data["tracking_numbers"])


def _load_kind(tracking_format: str, info: Mapping[str, Any]) -> _Kind:
    validation = info.get("validation") or {}
    checksum = validation.get("checksum")
    if checksum is not None:
        checksum_named(checksum["name"])  # an algorithm we lack fails here, not on a number
    lookups = {
        section["name"]: _Lookup(
            group=section["regex_group_name"],
            entries=tuple(section["lookup"]),
            extra_values=_EXTRA_LOOKUP_VALUES.get((tracking_format, section["name"]), frozenset()),
        )
        for section in info.get("additional") or ()
    }
    return _Kind(
        name=info["name"],
        pattern=_python_regex(info["regex"]),
        checksum=checksum,
        exists=tuple((validation.get("additional") or {}).get("exists") or ()),
        lookups=lookups,
    )


def _python_regex(regex: str | list[str]) -> re.Pattern[str]:
    """The data's Ruby regex (a string, or a list to join) with ``(?<Name>`` as ``(?P<Name>``."""
    text = "".join(regex) if isinstance(regex, list) else regex
    return re.compile(_PCRE_NAMED_GROUP.sub("(?P<", text))
