"""The shapes of the integrations context's commands in and views out (outgoing webhook
endpoints, their deliveries and attempts, the inbound log, SKU aliases), as TypedDicts:
plain dicts at run time, checked by mypy where they are built and read. What a channel
sends (a Shopify, WooCommerce or Standard Webhooks order) and an event's payload are open
JSON: ``Mapping[str, object]``, read only after a check (``channel_json``).
``web/api/integrations/schemas.py`` and ``inbound.py`` describe the same views for
clients."""

from __future__ import annotations

from typing import NotRequired, Required

from typing_extensions import TypedDict

# ---- outgoing webhooks -------------------------------------------------------------------


class EndpointView(TypedDict):
    id: str
    url: str
    events: list[str]
    description: str
    status: str  # active or disabled
    disabled_reason: str | None
    previous_secret_until: str | None
    created_at: str | None
    updated_at: str | None
    # Only in the answer that made it (a new endpoint, a rotation).
    secret: NotRequired[str]


class EndpointList(TypedDict):
    items: list[EndpointView]
    next_cursor: None


class DeliveryView(TypedDict):
    id: str
    event_type: str
    webhook_id: str
    status: str  # pending, delivered or dead
    attempts: int
    last_status_code: int | None
    order: str | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str | None
    delivered_at: str | None


class AttemptView(TypedDict):
    at: str | None
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str | None


class DeliveryDetail(DeliveryView):
    body: str  # the exact body every attempt sends
    attempt_log: list[AttemptView]


class NewEndpoint(TypedDict, total=False):
    url: str | None
    events: list[str] | None
    description: str | None


class EndpointChanges(NewEndpoint, total=False):
    """The fields of an endpoint to change (only those present change)."""

    status: str | None  # active (enable again) or disabled


# ---- inbound orders ----------------------------------------------------------------------


class HookAnswer(TypedDict, total=False):
    """What a channel's delivery is answered."""

    status: Required[str]  # accepted, duplicate, needs_attention, rejected or ping
    order: str | None
    reason: str


class InboundDeliveryView(TypedDict):
    id: int
    channel: str
    topic: str
    external_id: str | None
    status: str
    order: str | None
    reason: str | None
    received_at: str | None


class InboundList(TypedDict):
    items: list[InboundDeliveryView]
    next_cursor: None


class AliasView(TypedDict):
    channel: str
    channel_sku: str
    sku: str


class AddressView(TypedDict):
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


class AddressCommand(TypedDict, total=False):
    """The shipping address a retry of a delivery uses instead of the channel's."""

    name: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    phone: str | None


class InvoiceAsked(TypedDict, total=False):
    """The invoice a channel's order asks for, as the capture's ``invoice`` names it; not
    yet checked (``inbound_invoice.check``)."""

    type: Required[str]  # b2c or b2b
    buyer_ubn: str | None
    buyer_name: str | None
    donation_code: str | None
    carrier_type: str | None
    carrier_id: object  # a member carrier's: the buyer's email as the channel sent it
