"""Carrier tracking events: what one says, how it is checked, and whether it moves a
shipment.

A shipment's status moves forward only: ``shipped`` → ``in_transit`` → ``out_for_delivery``
→ ``delivered``, with ``exception`` (a failed attempt, a refusal, a delay...) beside them.
Events may arrive late and out of order: each is stored and shown, but one older than the
last event that moved the shipment, or one that would move it back, leaves it as it is.
``delivered`` is final, and so are the exceptions ``lost`` and ``returned_to_sender`` (as
for staff marking a shipment delivered by hand).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dingdan.domain.fulfilment.carriers import normalize_tracking_number
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_clean
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

STATUSES = ("in_transit", "out_for_delivery", "delivered", "exception")
# What went wrong, for status "exception"; staff record the same kinds by hand.
EXCEPTION_KINDS = (
    "failed_attempt",
    "refused",
    "address_issue",
    "delayed",
    "damaged",
    "lost",
    "returned_to_sender",
    "other",
)
FINAL_EXCEPTIONS = ("lost", "returned_to_sender")
SOURCES = ("webhook", "csv", "api")
# A time written without an offset is the seller's (Taiwan first, as the rest of the system).
SELLER_TIME_ZONE = SELLER_TIMEZONE
_RANK = {"shipped": 0, "in_transit": 1, "out_for_delivery": 2, "delivered": 3}
TEXT_MAX = 200
ID_MAX = 100


@dataclass(frozen=True)
class TrackingEvent:
    tracking_number: str
    status: str
    occurred_at: datetime  # UTC
    exception: str | None = None
    location: str | None = None
    description: str | None = None
    external_id: str | None = None  # the carrier's own id of the event, when it sends one

    def key(self, carrier: str) -> str:
        """What makes two deliveries of this event the same event: the carrier's event id,
        or else everything the event says that matters."""
        if self.external_id:
            text = f"{carrier}\x1fid\x1f{self.external_id}"
        else:
            when = self.occurred_at.astimezone(UTC).isoformat()
            parts = (carrier, self.tracking_number, self.status, self.exception or "", when)
            text = "\x1f".join(parts)
        return hashlib.sha256(text.encode()).hexdigest()


def parse_time(value: Any, tz: ZoneInfo = SELLER_TIME_ZONE) -> datetime | None:
    """An ISO 8601 / RFC 3339 date and time (``T`` or a space between them; ``Z`` or an
    offset, or none: then in ``tz``) as UTC; None when it is not one."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and 10 < len(value.strip()) <= 40:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(UTC)


def _text(data: Mapping[str, Any], name: str, prefix: str, errors: FieldErrors) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    field = prefix + name
    if not isinstance(value, str):
        errors.add(field, "not_text")
        return None
    if len(value) > TEXT_MAX:
        errors.add(field, "too_long", max=TEXT_MAX)
        return None
    if not check_clean(value, field, errors):
        return None
    return value.strip()


def check_event(
    data: Any, prefix: str, errors: FieldErrors, tz: ZoneInfo = SELLER_TIME_ZONE
) -> TrackingEvent | None:
    """The event ``data`` describes (``tracking_number``, ``status``, ``occurred_at``, and
    optionally ``exception``, ``location``, ``description``, ``id``); each bad field is
    added to ``errors`` under ``prefix`` and None is returned."""
    if not isinstance(data, Mapping):
        errors.add(prefix.rstrip(".") or "body", "not_an_object")
        return None
    before = len(errors.items)
    number = data.get("tracking_number")
    tracking = None
    if not isinstance(number, str) or not number.strip():
        errors.add(prefix + "tracking_number", "required")
    elif len(number) > 60:
        errors.add(prefix + "tracking_number", "too_long", max=60)
    else:
        tracking = normalize_tracking_number(number)
    status = data.get("status")
    if status not in STATUSES:
        errors.add(prefix + "status", "not_one_of", choices=", ".join(STATUSES))
    exception = data.get("exception")
    if exception is not None and exception not in EXCEPTION_KINDS:
        errors.add(prefix + "exception", "not_one_of", choices=", ".join(EXCEPTION_KINDS))
    if data.get("occurred_at") is None:
        errors.add(prefix + "occurred_at", "required")
        when = None
    else:
        when = parse_time(data.get("occurred_at"), tz)
        if when is None:
            errors.add(prefix + "occurred_at", "not_a_time")
    location = _text(data, "location", prefix, errors)
    description = _text(data, "description", prefix, errors)
    external = data.get("id")
    if external is not None and not (
        isinstance(external, str | int) and 0 < len(str(external)) <= ID_MAX
    ):
        errors.add(prefix + "id", "text_length", max=ID_MAX)
    if len(errors.items) > before or tracking is None or when is None:
        return None
    if status == "exception" and exception is None:
        exception = "other"
    return TrackingEvent(
        tracking_number=tracking,
        status=str(status),
        occurred_at=when,
        exception=exception if status == "exception" else None,
        location=location,
        description=description,
        external_id=None if external is None else str(external),
    )


def moves(
    status: str, exception: str | None, last_applied: datetime | None, event: TrackingEvent
) -> bool:
    """Whether ``event`` changes a shipment now ``status`` (with ``exception``), whose last
    applied event happened at ``last_applied``."""
    if status == "delivered" or exception in FINAL_EXCEPTIONS:
        return False
    if event.status == "delivered":
        return True  # the carrier's last word, whenever it arrives
    if last_applied is not None and event.occurred_at < last_applied:
        return False
    if event.status == "exception":
        return True
    if status == "exception":
        return True  # back on its way after a failed attempt or a delay
    return _RANK[event.status] > _RANK.get(status, 0)
