"""Own delivery (自有配送): a day's run per driver, its stops in address order, proof of
delivery, and the cash a driver hands in against the COD orders delivered.

Pure rules: statuses, the area an address falls in (its 3-digit postal code, the
鄉鎮市區 in Taiwan), the order of stops on the road (postal code, then street, numbers
compared as numbers), suggested assignments, and the day's reconciliation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# The carrier code of the seller's own drivers (domain.fulfilment.carriers).
OWN_DELIVERY = "own_delivery"
DRIVER_ROLE = "driver"


class RunStatus(StrEnum):
    OPEN = "open"  # planned or on the road: stops may be added, removed, delivered
    CLOSED = "closed"  # finance reconciled the cash; nothing changes any more


class StopStatus(StrEnum):
    PENDING = "pending"  # on the driver's list
    DELIVERED = "delivered"  # handed over, with a photo and/or a signature
    FAILED = "failed"  # not handed over, with a reason; the shipment stays out


# Why a stop could not be delivered (the driver picks one on the phone).
FAIL_REASONS = ("not_home", "refused", "wrong_address", "unreachable", "damaged", "other")


@dataclass(frozen=True)
class Area:
    key: str  # what assignments group by: "TW:110"
    label: str  # "110 台北市"


def _text(value: Any) -> str:
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""


def postal_prefix(address: Mapping[str, Any]) -> str:
    """The part of the postal code that names an area: Taiwan's first three digits (the
    鄉鎮市區; 3+2 and 3+3 codes are finer), anywhere else the whole code."""
    code = re.sub(r"\s+", "", _text(address.get("postal_code"))).upper()
    if _text(address.get("country")).upper() in ("TW", "") and re.match(r"[0-9]{3}", code):
        return code[:3]
    return code


def area_of(address: Mapping[str, Any]) -> Area:
    country = _text(address.get("country")).upper() or "TW"
    prefix = postal_prefix(address)
    city = _text(address.get("city"))
    key = f"{country}:{prefix or city.casefold()}"
    return Area(key, " ".join(p for p in (prefix, city) if p) or country)


_NUMBER = re.compile(r"([0-9]+)")


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """``信義路五段7號`` before ``信義路五段12號``: digits compared as numbers."""
    parts = _NUMBER.split(_text(text).casefold())
    return tuple((1, int(p)) if p.isascii() and p.isdigit() else (0, p) for p in parts if p)


def stop_order(address: Mapping[str, Any], number: str) -> tuple[Any, ...]:
    """Where a stop goes on the sheet: by postal code (whole), then street, then the order."""
    code = re.sub(r"\s+", "", _text(address.get("postal_code")))
    return (natural(code), natural(_text(address.get("line1"))), natural(number))


def suggest(
    areas: Iterable[str], runs: Mapping[str, Iterable[str]], history: Mapping[str, str]
) -> dict[str, str | None]:
    """For each area key, the run to assign it to: the run that already goes there (the one
    with most stops there), else the run of the driver who went there last
    (``history``: area key → run id of that driver today), else none."""
    counts: dict[str, dict[str, int]] = {}
    for run_id, keys in runs.items():
        for key in keys:
            counts.setdefault(key, {}).setdefault(run_id, 0)
            counts[key][run_id] += 1
    out: dict[str, str | None] = {}
    for key in areas:
        there = counts.get(key)
        if there:
            out[key] = max(sorted(there), key=lambda r: there[r])
        else:
            out[key] = history.get(key)
    return out


@dataclass(frozen=True)
class Reconciled:
    lines: list[dict[str, int | str]]  # number, expected, collected, difference (minor)
    expected: int
    collected: int
    handed_in: int | None
    difference: int | None  # handed in less collected: negative is cash missing


def reconcile(stops: Iterable[Mapping[str, Any]], handed_in: int | None) -> Reconciled:
    """The day's cash: what each delivered COD stop was due and what the driver says was
    collected there, against the cash handed in."""
    lines: list[dict[str, int | str]] = []
    for s in stops:
        if s["status"] != StopStatus.DELIVERED or not (s["cod_due"] or s["cod_collected"]):
            continue
        due, got = int(s["cod_due"] or 0), int(s["cod_collected"] or 0)
        lines.append(
            {"number": s["number"], "expected": due, "collected": got, "difference": got - due}
        )
    expected = sum(int(ln["expected"]) for ln in lines)
    collected = sum(int(ln["collected"]) for ln in lines)
    difference = None if handed_in is None else handed_in - collected
    return Reconciled(lines, expected, collected, handed_in, difference)
