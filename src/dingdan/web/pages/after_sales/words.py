"""What the after-sales pages (disputes, the return-rate report) say for the disputes' own
codes (types, statuses, resolutions, message directions, timeline kinds), their fields and
the services' messages about them; anything else falls back to the shared words of
``messages``."""

from __future__ import annotations

import re
from typing import Any

from dingdan.domain.shared.errors import DomainError
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.messages import N_

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


def label(gettext: Any, value: Any) -> str:
    text = LABELS.get(str(value))
    return str(gettext(text)) if text else messages.label(gettext, value)


def _field(gettext: Any, name: str) -> str:
    base = re.sub(r"^.*\.", "", re.sub(r"\[\d+\]", "", name))
    text = FIELDS.get(base)
    return str(gettext(text)) if text else messages.field_label(gettext, name)


def describe(gettext: Any, exc: DomainError, language: str) -> dict[str, Any]:
    """As ``messages.describe``, with the disputes' fields and messages in words."""
    out = messages.describe(gettext, exc, language)
    out["fields"] = [
        (_field(gettext, e.field), messages.field_message(gettext, e)) for e in exc.errors
    ]
    return out
