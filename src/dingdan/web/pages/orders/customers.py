"""Customers: the list with search and one customer's details, orders and lifetime value.
Every view of a customer's details is written to the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.personal_data import masked_customer, sees_masked
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import audit_log
from dingdan.services.orders import consent, customers
from dingdan.services.shared.common import Page as ListPage
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/customers")
def customer_list(
    request: Request, page: User, q: str | None = None, cursor: str | None = None
) -> Response:
    db = request.app.state.db
    q = (q or "").strip()[:200]
    try:
        result = customers.list_customers(db, q=q or None, limit=50, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = customers.list_customers(db, q=q or None, limit=50)
    shown: ListPage[Mapping[str, Any]] = result
    if sees_masked(page.actor.role):
        role = page.actor.role
        shown = ListPage([masked_customer(c, role) for c in result.items], result.next_cursor)
    block = "results" if request.headers.get("hx-target") == "results" else None
    base = "/customers?" + urlencode({"q": q} if q else {})
    return page.render("orders/customers.html", block=block, result=shown, q=q, base=base)


@router.get("/customers/{customer_id}")
def customer_detail(request: Request, customer_id: str, page: User) -> Response:
    db = request.app.state.db
    customer = customers.customer_detail(db, customer_id)
    audit_log.record_view(db, page.actor, "customer", customer["id"])
    return page.render(
        "orders/customer.html",
        c=masked_customer(customer, page.actor.role),
        consent=consent.get_consent(db, customer["id"]),
    )
