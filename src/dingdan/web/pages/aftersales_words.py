"""What the after-sales pages (disputes, the return-rate report) say for the disputes' own
codes (types, statuses, resolutions, message directions, timeline kinds), their fields and
the services' messages about them; anything else falls back to the shared words of
``messages``."""

from __future__ import annotations

import re
from typing import Any

from dingdan.domain.errors import DomainError
from dingdan.web.pages import messages
from dingdan.web.pages.messages import N_

LABELS: dict[str, str] = {
    # types
    "damaged": N_("Damaged"),
    "lost": N_("Lost"),
    "late": N_("Arrived late"),
    "quality": N_("Quality problem"),
    "wrong_item": N_("Wrong item"),
    "chargeback": N_("Chargeback"),
    # statuses
    "open": N_("Open"),
    "investigating": N_("Investigating"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    # resolutions
    "refund": N_("Refund"),
    "reshipment": N_("Reshipment"),
    "reject": N_("Rejected"),
    # message directions
    "inbound": N_("From the customer"),
    "outbound": N_("To the customer"),
    "note": N_("Internal note"),
    # timeline
    "dispute_opened": N_("Dispute opened"),
    "dispute_message": N_("Dispute message"),
    "dispute_evidence": N_("Dispute evidence"),
    "dispute_investigating": N_("Investigation started"),
    "dispute_resolved": N_("Dispute resolved"),
    "dispute_closed": N_("Dispute closed"),
}

FIELDS: dict[str, str] = {
    "type": N_("Type"),
    "owner": N_("Owner"),
    "due_date": N_("Due date"),
    "summary": N_("Summary"),
    "direction": N_("Direction"),
    "body": N_("Message"),
    "file": N_("File"),
    "note": N_("Note"),
    "resolution": N_("Resolution"),
    "order": N_("Order"),
    "from": N_("From"),
    "to": N_("To"),
}

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^must be a date such as "), N_("must be a date such as 2026-12-31")),
    (re.compile(r"^must be inbound, outbound or note$"), N_("is not one of the choices")),
    (re.compile(r"^is required to resolve"), N_("choose refund, reshipment or reject")),
    (re.compile(r"^is required for a refund$"), N_("is required for a refund")),
    (re.compile(r"^is empty$"), N_("is empty")),
    (re.compile(r"^is larger than (?P<n>\d+) bytes$"), N_("is larger than %(n)s bytes")),
    (re.compile(r"^must be a .* file$"), N_("must be a JPEG, PNG, WebP or PDF file")),
    (re.compile(r"^needs a file name"), N_("needs a file name of at most 255 characters")),
    (
        re.compile(r"^are required: nothing of the order has shipped$"),
        N_("are required: nothing of the order has shipped"),
    ),
    (re.compile(r"^choose at least one unit$"), N_("choose at least one unit")),
    (re.compile(r"^is not a known dispute "), N_("is not one of the choices")),
    (re.compile(r"^no order with this number$"), N_("no order with this number")),
    (re.compile(r"^must not be before from$"), N_("must not be before the start date")),
]


def label(gettext: Any, value: Any) -> str:
    text = LABELS.get(str(value))
    return str(gettext(text)) if text else messages.label(gettext, value)


def _field(gettext: Any, name: str) -> str:
    base = re.sub(r"^.*\.", "", re.sub(r"\[\d+\]", "", name))
    text = FIELDS.get(base)
    return str(gettext(text)) if text else messages.field_label(gettext, name)


def _message(gettext: Any, message: str) -> str:
    for pattern, msgid in PATTERNS:
        match = pattern.search(message)
        if match:
            return str(gettext(msgid, **match.groupdict()))
    return messages.field_message(gettext, message)


def describe(gettext: Any, exc: DomainError, language: str) -> dict[str, Any]:
    """As ``messages.describe``, with the disputes' fields and messages in words."""
    out = messages.describe(gettext, exc, language)
    out["fields"] = [(_field(gettext, e.field), _message(gettext, e.message)) for e in exc.errors]
    return out
