"""Customers as the seller sees them (issue 24, part 6): the list by value, orders, last
order or RFM segment, the segments' counts, and a customer's page (history, returns,
disputes, messages sent, ratings, value and segment) with the staff's tags and notes.

Warehouse and viewer see emails and phones masked, as in the API; every view of one
customer's page is in the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.domain.crm.rfm import SEGMENTS
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import audit_log
from dingdan.services.orders import customers as customer_records
from dingdan.services.orders.shapes import CustomerDetail
from dingdan.services.reports import clv, customer_pages, rfm
from dingdan.services.reports.shapes import CustomerClvView
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SEGMENT_NAMES = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "new": N_("New"),
    "at_risk": N_("At risk"),
    "hibernating": N_("Hibernating"),
    "lost": N_("Lost"),
}
SEGMENT_RULES = {
    "champions": N_("Bought lately and often (R ≥ 4, F ≥ 4)"),
    "loyal": N_("Buy regularly (R ≥ 3, F ≥ 3)"),
    "new": N_("Bought lately, not often yet (R ≥ 3, F ≤ 2)"),
    "at_risk": N_("Used to buy often, not lately (R ≤ 2, F ≥ 3)"),
    "hibernating": N_("Few orders, a while ago (R = 2, F ≤ 2)"),
    "lost": N_("Few orders, long ago (R = 1, F ≤ 2)"),
}
SORT_NAMES = {
    "value": N_("Lifetime value"),
    "orders": N_("Orders"),
    "last_order": N_("Last order"),
    "segment": N_("Segment"),
    "name": N_("Name"),
}


def _masked(page: Page, c: CustomerDetail) -> CustomerDetail:
    if sees_masked(page.actor.role):
        return {**c, "email": mask_email(c["email"]), "phone": mask_phone(c["phone"])}
    return c


def _words(page: Page) -> dict[str, Any]:
    return {
        "segment_names": {k: page.gettext(v) for k, v in SEGMENT_NAMES.items()},
        "segment_rules": {k: page.gettext(v) for k, v in SEGMENT_RULES.items()},
        "sort_names": {k: page.gettext(v) for k, v in SORT_NAMES.items()},
    }


@router.get("/reports/customers")
def customer_list(
    request: Request,
    page: User,
    segment: str | None = None,
    sort: str | None = None,
    cursor: str | None = None,
) -> Response:
    db = request.app.state.db
    segment = segment if segment in SEGMENT_NAMES else None
    sort = sort if sort in rfm.SORTS else "value"
    every, _ = rfm.scored(db)  # once for the page and the segments' counts
    try:
        result = rfm.customers(db, segment=segment, sort=sort, cursor=cursor, every=every)
    except DomainError as exc:
        page.flash_error(exc)
        result = rfm.customers(db, segment=segment, sort=sort, every=every)
    query = {k: v for k, v in (("segment", segment), ("sort", sort)) if v}
    return page.render(
        "reports/customers.html",
        items=[_masked(page, c) for c in result.items],
        result=result,
        counts=rfm.segment_counts(db, every=every),
        segments=[s.value for s in SEGMENTS],
        segment=segment,
        sort=sort,
        base="/reports/customers?" + urlencode(query),
        segment_base="/reports/customers?" + urlencode({"sort": sort}),
        tags=customer_pages.tag_counts(db),
        **_words(page),
    )


@router.get("/reports/customers/{customer_id}")
def customer_page(request: Request, customer_id: str, page: User) -> Response:
    return _customer_page(page, customer_id)


def _customer_page(page: Page, customer_id: str, status: int = 200) -> Response:
    db = page.request.app.state.db
    customer = customer_records.customer_detail(db, customer_id)
    audit_log.record_view(db, page.actor, "customer", customer["id"])
    extras = customer_pages.page_extras(db, customer["id"])
    try:
        value: CustomerClvView | None = clv.for_customer(db, customer["id"])
    except DomainError:
        value = None
    return page.render(
        "reports/customer_page.html",
        status=status,
        c=_masked(page, customer),
        x=extras,
        rfm=rfm.of_customer(db, int(customer["id"])),
        value=value,
        may_write=page.may(Action.MANAGE_ORDERS),
        **_words(page),
    )


def _act(page: Page, customer_id: str, work: Any, done: str, form_id: str, typed: dict) -> Response:
    page.require(Action.MANAGE_ORDERS)
    return page.attempt(
        work,
        done=done,
        back=f"/reports/customers/{quote(customer_id, safe='')}",
        form_id=form_id,
        typed=typed,
        again=lambda status: _customer_page(page, customer_id, status),
    )


@router.post("/reports/customers/{customer_id}/tags")
def add_tag(request: Request, customer_id: str, page: User, form: Form) -> Response:
    tag = form_text(form, "tag", 51)
    return _act(
        page,
        customer_id,
        lambda: customer_pages.add_tag(request.app.state.db, page.actor, customer_id, tag),
        page.gettext("Tag added."),
        "tag",
        {"tag": tag or ""},
    )


@router.post("/reports/customers/{customer_id}/tags/remove")
def remove_tag(request: Request, customer_id: str, page: User, form: Form) -> Response:
    tag = form_text(form, "tag", 51)
    return _act(
        page,
        customer_id,
        lambda: customer_pages.remove_tag(request.app.state.db, page.actor, customer_id, tag),
        page.gettext("Tag removed."),
        "untag",
        {},
    )


@router.post("/reports/customers/{customer_id}/notes")
def add_note(request: Request, customer_id: str, page: User, form: Form) -> Response:
    note = form_text(form, "note", 2001)
    return _act(
        page,
        customer_id,
        lambda: customer_pages.add_note(request.app.state.db, page.actor, customer_id, note),
        page.gettext("Note added."),
        "note",
        {"note": note or ""},
    )
