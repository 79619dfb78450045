"""After-sales rules that need no database: the return policy, return and dispute statuses,
returnable quantities, default refunds, and the kinds of evidence files we accept."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dingdan.domain.shared.errors import FieldErrors, InvalidTransition


class ReturnStatus(StrEnum):
    REQUESTED = "requested"  # asked for; nothing has moved
    APPROVED = "approved"  # the seller agreed; the goods may be sent back
    REJECTED = "rejected"  # refused; covers no units
    RECEIVED = "received"  # goods inspected, resellable units back on hand
    REFUNDED = "refunded"  # money (or store credit) returned
    EXCHANGED = "exchanged"  # settled by a replacement order instead of a refund


RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    ReturnStatus.REQUESTED: frozenset({ReturnStatus.APPROVED, ReturnStatus.REJECTED}),
    # An approved return whose goods never come can still be rejected.
    ReturnStatus.APPROVED: frozenset({ReturnStatus.RECEIVED, ReturnStatus.REJECTED}),
    ReturnStatus.RECEIVED: frozenset({ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED}),
    ReturnStatus.REJECTED: frozenset(),
    ReturnStatus.REFUNDED: frozenset(),
    ReturnStatus.EXCHANGED: frozenset(),
}


def sources(transitions: dict[Any, frozenset[Any]], target: Any) -> list[str]:
    """The statuses from which ``target`` may be reached (for conditional updates)."""
    return sorted(str(s) for s, targets in transitions.items() if target in targets)


def check_return_transition(current: str, target: ReturnStatus, return_id: str) -> None:
    if target not in RETURN_TRANSITIONS.get(ReturnStatus(current), frozenset()):
        raise InvalidTransition(
            detail=f"Return {return_id} is {current}; it cannot become {target.value}."
        )


class Condition(StrEnum):
    RESELLABLE = "resellable"  # back on hand at the receiving location
    DAMAGED = "damaged"  # quarantined, never on hand


class RefundTarget(StrEnum):
    ORIGINAL = "original"  # the order's payment method
    STORE_CREDIT = "store_credit"  # the customer's store credit; no money leaves


DEFAULT_REASONS = (
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "changed_mind",
    "size_fit",
    "late",
    "other",
)
# Taiwan's consumer protection law: 7 days to withdraw from a distance sale after receipt.
DEFAULT_WINDOW_DAYS = 7
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Policy:
    window_days: int = DEFAULT_WINDOW_DAYS
    non_returnable_skus: tuple[str, ...] = ()
    non_returnable_categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = DEFAULT_REASONS
    # How much of the order's shipping a return may refund: "proportional" (its share of the
    # goods' value) or "none".
    refund_shipping: str = "proportional"

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _strings(value: Any, name: str, errors: FieldErrors, max_len: int) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 1000:
        errors.add(name, "too_many_texts", max=1000)
        return ()
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v.strip() or len(v) > max_len:
            errors.add(f"{name}[{i}]", "text_length", max=max_len)
    return tuple(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))


def parse_policy(data: Mapping[str, object], base: Policy | None = None) -> Policy:
    """A policy from a (partial) body over ``base``; every bad field is reported."""
    base = base or Policy()
    errors = FieldErrors()
    unknown = set(data) - set(asdict(base))
    for name in sorted(unknown):
        errors.add(name, "not_a_field")
    days = data.get("window_days", base.window_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        errors.add("window_days", "invalid_days")
        days = base.window_days  # refused below
    skus = _strings(
        data.get("non_returnable_skus", list(base.non_returnable_skus)),
        "non_returnable_skus",
        errors,
        64,
    )
    cats = _strings(
        data.get("non_returnable_categories", list(base.non_returnable_categories)),
        "non_returnable_categories",
        errors,
        100,
    )
    reasons = _strings(data.get("reasons", list(base.reasons)), "reasons", errors, 40)
    for i, r in enumerate(reasons):
        if not _CODE.match(r):
            errors.add(f"reasons[{i}]", "invalid_reason_code")
    if not reasons:
        errors.add("reasons", "no_reasons")
    shipping = data.get("refund_shipping", base.refund_shipping)
    if shipping not in SHIPPING_SHARES:
        errors.add("refund_shipping", "not_one_of", choices=", ".join(SHIPPING_SHARES))
    errors.raise_if_any("The return policy has invalid fields.")
    return Policy(days, skus, cats, reasons, str(shipping))


def stored_policy(value: dict[str, Any] | None) -> Policy:
    """The policy kept in settings; a damaged or missing value falls back to the defaults."""
    try:
        return parse_policy(value or {})
    except Exception:  # noqa: BLE001 - a bad stored value must not block returns
        return Policy()


@dataclass(frozen=True)
class Breach:
    rule: str  # return_window | non_returnable_sku | non_returnable_category: the error code
    field: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class LineFacts:
    """What the policy needs to know about one requested line."""

    sku: str
    category: str | None
    # Delivery time of each shipment that carried the SKU (None: not delivered yet).
    deliveries: Sequence[datetime | None] = field(default_factory=tuple)


def window_closes(deliveries: Sequence[datetime | None], days: int) -> datetime | None:
    """When the return window of a line closes: ``days`` after its last delivery. None while
    a shipment carrying it is undelivered (the customer has not received everything)."""
    if not deliveries or any(d is None for d in deliveries):
        return None
    return max(d for d in deliveries if d is not None) + timedelta(days=days)


def breaches(policy: Policy, lines: Sequence[LineFacts], now: datetime) -> list[Breach]:
    out = []
    for i, ln in enumerate(lines):
        where = f"lines[{i}].sku"
        if ln.sku in policy.non_returnable_skus:
            out.append(Breach("non_returnable_sku", where, {"sku": ln.sku}))
        if ln.category and ln.category in policy.non_returnable_categories:
            out.append(
                Breach(
                    "non_returnable_category",
                    where,
                    {"category": ln.category},
                )
            )
        closes = window_closes(ln.deliveries, policy.window_days)
        if closes is not None and now > closes:
            out.append(
                Breach(
                    "return_window",
                    where,
                    {"days": policy.window_days, "date": closes.date().isoformat()},
                )
            )
    return out


def covered(status: str, quantity: int, received: int) -> int:
    """Units of a line an existing return accounts for: none when rejected, what arrived once
    received (the rest are not coming), else what it asked for."""
    if status == ReturnStatus.REJECTED:
        return 0
    if status in (ReturnStatus.RECEIVED, ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED):
        return received
    return quantity


def returnable(shipped: int, earlier: Iterable[int]) -> int:
    """Units of a line still open to a new return request."""
    return max(0, shipped - sum(earlier))


def default_refund(lines: Iterable[tuple[int, int]]) -> int:
    """Received units times their unit price, over ``(units, unit_price_minor)``."""
    return sum(units * price for units, price in lines)


SHIPPING_SHARES = ("proportional", "none")


@dataclass(frozen=True)
class ReturnedLine:
    """One order line of a return: units received back, and the line as the order charged
    it (units not cancelled, unit price, the line's tax)."""

    units: int
    unit_price: int
    charged_units: int
    tax: int


def _share(amount: int, part: int, whole: int) -> int:
    """``amount * part / whole``, rounded down (a cap never rounds up)."""
    return amount * part // whole if whole > 0 else 0


def refund_cap(
    lines: Sequence[ReturnedLine],
    *,
    prices_include_tax: bool,
    subtotal: int,
    shipping_charged: int,
    refund_shipping: str,
) -> int:
    """The most a return may refund: the received units at their unit price, with the tax the
    order added on top of its prices (none when prices include it), plus the share of the
    shipping charged (tax included) that the policy gives: ``proportional`` to the returned
    goods' part of the order's goods."""
    goods = sum(ln.units * ln.unit_price for ln in lines)
    tax = 0
    if not prices_include_tax:
        tax = sum(_share(ln.tax, ln.units, ln.charged_units) for ln in lines)
    shipping = 0
    if refund_shipping == "proportional":
        shipping = _share(shipping_charged, goods, subtotal)
    return goods + tax + shipping


class DisputeType(StrEnum):
    DAMAGED = "damaged"
    LOST = "lost"
    LATE = "late"
    QUALITY = "quality"
    WRONG_ITEM = "wrong_item"
    CHARGEBACK = "chargeback"  # the card issuer took the money back


class DisputeStatus(StrEnum):
    OPEN = "open"  # filed, nobody has looked yet
    INVESTIGATING = "investigating"  # the owner is gathering evidence
    RESOLVED = "resolved"  # decided: refund, reshipment or reject
    CLOSED = "closed"  # nothing more to do


DISPUTE_TRANSITIONS: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    DisputeStatus.OPEN: frozenset({DisputeStatus.INVESTIGATING, DisputeStatus.RESOLVED}),
    DisputeStatus.INVESTIGATING: frozenset({DisputeStatus.RESOLVED}),
    DisputeStatus.RESOLVED: frozenset({DisputeStatus.CLOSED}),
    DisputeStatus.CLOSED: frozenset(),
}


def check_dispute_transition(current: str, target: DisputeStatus, dispute_id: str) -> None:
    if target not in DISPUTE_TRANSITIONS.get(DisputeStatus(current), frozenset()):
        raise InvalidTransition(
            detail=f"Dispute {dispute_id} is {current}; it cannot become {target.value}."
        )


class Resolution(StrEnum):
    REFUND = "refund"  # money back on the order
    RESHIPMENT = "reshipment"  # a replacement order, paid by the seller
    REJECT = "reject"  # the claim is refused


class Direction(StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # to the customer
    NOTE = "note"  # internal


EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def sniff_type(head: bytes) -> str | None:
    """The content type of a file from its first bytes, when it is one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None
