"""Taiwan e-invoice rules that need no database: two-month periods, number ranges (字軌),
the random code, the void window, and the numbers of invoices without e-invoice.

Periods and dates are read in Asia/Taipei (domain/shared/time_zone.py): an invoice issued
at 23:30 UTC on 31 December belongs to the January-February period of the next year.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dingdan.domain.invoicing.documents import whole
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

PERIOD = re.compile(r"([0-9]{4})-(0[13579]|11)", re.ASCII)
PREFIX = re.compile(r"[A-Z]{2}", re.ASCII)
EIGHT_DIGITS = re.compile(r"[0-9]{8}", re.ASCII)
EINVOICE_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}", re.ASCII)
RANDOM_CODE = re.compile(r"[0-9]{4}", re.ASCII)
LOW_SHARE = Decimal("0.8")  # a range 80% used is told to staff
DEFAULT_VOID_CLOSING_DAY = 15  # the filing deadline: the 15th of the month after a period


def local(moment: datetime) -> datetime:
    return moment.astimezone(SELLER_TIMEZONE)


def period_of(moment: datetime) -> str:
    """The two-month period ("2026-11" for November and December) of an aware time."""
    d = local(moment)
    first = d.month if d.month % 2 else d.month - 1
    return f"{d.year:04d}-{first:02d}"


def period_end(period: str) -> date:
    """The last day of a period."""
    year, month = int(period[:4]), int(period[5:7]) + 1
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return after - timedelta(days=1)


def void_deadline(period: str, closing_day: int) -> datetime:
    """The last moment an invoice of ``period`` may be voided: the end of ``closing_day`` of
    the month after the period (Asia/Taipei); after it, a change is an allowance."""
    end = period_end(period)
    month = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    last = month.replace(day=min(max(closing_day, 1), 28))
    return datetime.combine(last + timedelta(days=1), time(), tzinfo=SELLER_TIMEZONE)


def may_void(period: str, now: datetime, closing_day: int) -> bool:
    return now < void_deadline(period, closing_day)


def random_code() -> str:
    """The invoice's four-digit random code (隨機碼)."""
    return f"{secrets.randbelow(10000):04d}"


def centre_key(order_number: str) -> str:
    """Our key of an invoice at a centre that assigns the numbers (ECPay's RelateNumber:
    letters and digits, at most 30): the order's number and a random part, so that an
    order's reissued invoice, or another database's order of the same number, never
    collides with it."""
    base = "".join(ch for ch in order_number if ch.isascii() and ch.isalnum())[:20]
    return f"{base}{secrets.token_hex(4).upper()}"


def einvoice_number(prefix: str, number: int) -> str:
    return f"{prefix}{number:08d}"


def series_number(series: str, year: int, value: int) -> str:
    """An invoice without e-invoice (``INV-2026-000001``) or an allowance's number."""
    return f"{series}-{year:04d}-{value:06d}"


def nt_dollars(minor: int) -> Decimal:
    """An amount in TWD minor units as whole NT$, half up."""
    return whole(Decimal(minor) / 100)


def low_threshold(start: int, end: int) -> int:
    """The number whose use makes the range 80% used (at least the first number)."""
    size = end - start + 1
    used = int((Decimal(size) * LOW_SHARE).to_integral_value(rounding="ROUND_CEILING"))
    return start + max(used, 1) - 1


@dataclass(frozen=True)
class TrackInput:
    period: str
    prefix: str
    start: int
    end: int


def check_track(body: dict[str, Any]) -> TrackInput:
    """A number range as the contract takes it: ``period`` an odd month, ``prefix`` two
    capital letters, ``start`` ending in 00 or 50 and ``end`` in 49 or 99 (numbers come in
    books of 50), ``end >= start``."""
    errors = FieldErrors()
    period, prefix = body.get("period"), body.get("prefix")
    if not isinstance(period, str) or PERIOD.fullmatch(period) is None:
        errors.add("period", "invalid_einvoice_period")
    if not isinstance(prefix, str) or PREFIX.fullmatch(prefix) is None:
        errors.add("prefix", "invalid_track_prefix")
    numbers = []
    for key, endings in (("start", ("00", "50")), ("end", ("49", "99"))):
        value = body.get(key)
        if (
            not isinstance(value, str)
            or not EIGHT_DIGITS.fullmatch(value)
            or value[-2:] not in endings
        ):
            errors.add(key, "invalid_track_number", endings=" or ".join(endings))
            numbers.append(0)
        else:
            numbers.append(int(value))
    if not errors and numbers[1] < numbers[0]:
        errors.add("end", "track_end_before_start")
    errors.raise_if_any()
    return TrackInput(str(period), str(prefix), numbers[0], numbers[1])
