"""Customers: the list with search (shared/CONTRACT.md, "Routing, pickup, risk, personal
data": ``q`` as for orders, phones as people type them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.orders import customers
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

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


def _summary(c: dict[str, Any], masked: bool) -> dict[str, Any]:
    keys = ("id", "name", "email", "phone", "orders", "lifetime_value", "created_at")
    out = {k: c[k] for k in keys}
    if masked:
        out["email"], out["phone"] = mask_email(c["email"]), mask_phone(c["phone"])
    return out


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
    limit: int = 50,
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
