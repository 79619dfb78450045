"""Customers: the list with search (shared/CONTRACT.md, "Routing, pickup, risk, personal
data": ``q`` as for orders, phones as people type them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.orders import customer_rights, customers
from dingdan.services.orders.shapes import CustomerExportView, CustomerView, ErasedView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["customers"])


class LifetimeValue(View):
    currency: str
    amount: Amount


class CustomerSummary(View):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    orders: int
    lifetime_value: list[LifetimeValue]
    created_at: Timestamp


class CustomerPage(View):
    items: list[CustomerSummary]
    next_cursor: Cursor


def _summary(c: CustomerView, masked: bool) -> dict[str, Any]:
    email, phone = c["email"], c["phone"]
    if masked:
        email, phone = mask_email(email), mask_phone(phone)
    return {
        "id": c["id"],
        "name": c["name"],
        "email": email,
        "phone": phone,
        "orders": c["orders"],
        "lifetime_value": c["lifetime_value"],
        "created_at": c["created_at"],
    }


@router.get("/customers", response_model=CustomerPage, responses=responses("forbidden"))
async def list_customers(
    request: Request,
    q: str | None = Query(
        None,
        max_length=200,
        description="Case-insensitive substring of the name, email or phone; a phone number "
        "as people write it (0912-345-678, 0912345678, +886 912 345 678) finds that number, "
        "as the orders search does.",
    ),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    """Newest first; warehouse and viewer see emails and phones masked."""
    page = await run_in_threadpool(
        lambda: customers.list_customers(db_of(request), q=q, limit=limit, cursor=cursor)
    )
    masked = sees_masked(actor.role)
    return {
        "items": [_summary(c, masked) for c in page.items],
        "next_cursor": page.next_cursor,
    }


# --- the customer's rights: a copy of their data, and erasure --------------------------------


class ExportedCustomer(View):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    addresses: list[dict[str, Any]]
    created_at: Timestamp


class ExportedChannel(View):
    channel: str
    line_user_id: str | None


class ExportedLine(View):
    sku: str
    name: str
    quantity: int
    unit_price: Amount


class ExportedCard(View):
    first6: str | None = Field(description="the card's first six digits (its issuer's BIN)")
    last4: str | None
    country: str | None = Field(description="the issuing country, as the provider told it")


class ExportedPayment(View):
    kind: str
    method: str
    status: str
    amount: Amount
    created_at: Timestamp
    card: ExportedCard | None = None


class ExportedOrder(View):
    number: str
    channel: str
    created_at: Timestamp
    status: str
    financial_status: str
    fulfillment_status: str
    currency: str
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any] | None = None
    client_ip: str | None = Field(default=None, description="where the order was placed from")
    payment_method: str
    total: Amount
    paid: Amount
    refunded: Amount
    lines: list[ExportedLine]
    payments: list[ExportedPayment]


class ExportedReturn(View):
    id: str
    order: str
    status: str
    note: str | None
    created_at: Timestamp


class ExportedMessage(View):
    order: str | None
    kind: str
    channel: str
    recipient: str
    subject: str
    status: str
    created_at: Timestamp


class ExportedRating(View):
    order: str
    rating: int
    comment: str | None
    created_at: Timestamp


class ConsentEntry(View):
    granted: bool = Field(description="true: consent given; false: withdrawn")
    at: Timestamp
    source: str = Field(description="how it was given or withdrawn, as recorded")
    actor: str = Field(description="who recorded it (staff or token), never the customer")


class CustomerExport(View):
    customer: ExportedCustomer
    message_channel: ExportedChannel
    orders: list[ExportedOrder]
    returns: list[ExportedReturn]
    messages: list[ExportedMessage]
    ratings: list[ExportedRating]
    consents: list[ConsentEntry] = Field(description="marketing consent, oldest first")
    exported_at: Timestamp


class Erased(View):
    id: str
    erased: bool
    orders: int
    events: int
    messages: int
    webhook_deliveries: int


@router.get(
    "/customers/{customer_id}/export",
    response_model=CustomerExport,
    responses=responses("forbidden", "not_found"),
)
async def export_customer(
    request: Request, customer_id: str, actor: Actor = can(Action.EXPORT_CUSTOMERS)
) -> CustomerExportView:
    """All the customer's personal data and orders, as JSON (the right of access); each
    export is in the audit trail."""
    return await run_in_threadpool(
        customer_rights.export_customer, db_of(request), actor, customer_id
    )


@router.post(
    "/customers/{customer_id}/erase",
    response_model=Erased,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def erase_customer(
    request: Request, customer_id: str, actor: Actor = can(Action.ERASE_CUSTOMERS)
) -> ErasedView:
    """Replace the customer's name, email, phone and addresses with placeholders on the
    customer, every order and every copy kept (messages, webhook bodies, documents...),
    keeping amounts; `409` while an order, return or dispute of theirs is open. Doing it
    again changes nothing more."""
    return await run_in_threadpool(
        customer_rights.erase_customer, db_of(request), actor, customer_id
    )
