"""Bulk actions of the order list: the orders ticked (or every order matching the list's
filter, at most 500) → record their payments, cancel them with a reason, tag them, export
them; the packing slips and pick lists of a selection are in web/pages/fulfilment/bulk.py.

Each order is the single action's use case in its own transaction, refused or done whole,
with the single action's permission; the answer lists every order with what was done or
why it was refused (services/orders/bulk.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.orders.rules import BUILTIN_CHANNELS, PaymentMethod
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, Status
from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import bulk
from dingdan.services.orders.shapes import OrderFilters
from dingdan.services.payments import transactions
from dingdan.services.payments.shapes import PaymentCommand
from dingdan.services.reports import export_files, exports
from dingdan.web import i18n
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FILTERS = ("status", "financial_status", "fulfillment_status", "channel")
RESULT = "orders/bulk_result.html"


# ---- the list's filter, from its query or from the bulk form's hidden fields --------------


def list_filters(values: Mapping[str, Any]) -> OrderFilters:
    """The filters of the order list as ``queries.list_orders`` takes them: the known values
    of its selects, ``q``, ``refund_due=1`` and ``placed=today``; anything else is ignored
    (as the list ignores it)."""
    allowed = {
        "status": {s.value for s in Status},
        "financial_status": {s.value for s in FinancialStatus},
        "fulfillment_status": {s.value for s in FulfillmentStatus},
        "channel": set(BUILTIN_CHANNELS),
    }

    def one(name: str) -> str | None:
        v = values.get(name)
        v = v[-1] if isinstance(v, list) and v else v
        return v.strip() if isinstance(v, str) else None

    status, financial, fulfilment, channel = (
        one(n) if one(n) in allowed[n] else None for n in FILTERS
    )
    out: OrderFilters = {}
    if status:
        out["status"] = status
    if financial:
        out["financial_status"] = financial
    if fulfilment:
        out["fulfillment_status"] = fulfilment
    if channel:
        out["channel"] = channel
    q = (one("q") or "")[:200]
    if q:
        out["q"] = q
    if one("refund_due") == "1":
        out["refund_due"] = True
    if one("placed") == "today":
        midnight = datetime.now(i18n.TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        out["created_from"] = midnight.astimezone(UTC)
    return out


def shown_filters(values: Mapping[str, Any]) -> dict[str, str]:
    """The same filters as the list's query string holds them (hidden fields, links back)."""
    f = list_filters(values)
    out = {n: v for n in FILTERS if isinstance(v := f.get(n), str)}
    if q := f.get("q"):
        out["q"] = q
    if f.get("refund_due"):
        out["refund_due"] = "1"
    if "created_from" in f:
        out["placed"] = "today"
    return out


def selection(page: Page, form: Mapping[str, Any]) -> list[str]:
    """The orders a bulk form names: every order matching its filter when ``all`` is ticked
    (at most ``bulk.MAX_ORDERS``, else refused), or those ticked."""
    db = page.request.app.state.db
    if form_text(dict(form), "all", 5) == "1":
        return bulk.matching(db, list_filters(form))
    return bulk.check_numbers(form.get("orders") or [])


def back_to_list(form: Mapping[str, Any]) -> str:
    shown = shown_filters(form)
    return "/orders" + ("?" + urlencode(shown) if shown else "")


def outcome_rows(
    page: Page, outcomes: list[bulk.Outcome], done: Callable[[Any], str]
) -> list[dict[str, Any]]:
    """Each order's line of the answer: what was done, or why it was refused, in the
    reader's language."""
    rows = []
    for o in outcomes:
        if o.error is None:
            rows.append({"number": o.number, "ok": True, "text": done(o.result)})
            continue
        d = page.error(o.error)
        parts = [d["message"]] + [f"{label}: {message}" for label, message in d["fields"]]
        if d["detail"] and not d["fields"]:
            parts.append(d["detail"])
        rows.append({"number": o.number, "ok": False, "text": " ".join(parts)})
    return rows


def render_result(
    page: Page,
    form: Mapping[str, Any],
    title: str,
    rows: list[dict[str, Any]],
    **extra: Any,
) -> HTMLResponse:
    return page.render(
        RESULT,
        title=title,
        rows=rows,
        done=sum(1 for r in rows if r["ok"]),
        refused=sum(1 for r in rows if not r["ok"]),
        back=back_to_list(form),
        **extra,
    )


def _select_or_back(page: Page, form: Mapping[str, Any]) -> list[str] | Response:
    try:
        return selection(page, form)
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(back_to_list(form))


def _checked(page: Page, form: Mapping[str, Any], check: Callable[[], Any]) -> Response | None:
    """A refusal of the whole form (a missing reason, an unknown method): back to the list
    with the message, nothing done."""
    try:
        check()
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(back_to_list(form))
    return None


# ---- the count of "all matching" -----------------------------------------------------------


@router.get("/bulk/orders/count")
def count(request: Request, page: User) -> Response:
    """How many orders the list's filter selects (up to 501: "more than 500")."""
    n = bulk.count_matching(request.app.state.db, list_filters(request.query_params))
    if n > bulk.MAX_ORDERS:
        text = page.gettext("more than %(max)s orders: narrow the filter", max=bulk.MAX_ORDERS)
    else:
        text = page.gettext("%(count)s orders", count=n)
    return HTMLResponse(Markup('<span id="bulk-count">%s</span>') % text)


# ---- payments, cancellations, tags ---------------------------------------------------------


@router.post("/bulk/orders/payments")
def pay(request: Request, page: User, form: Form) -> Response:
    """Each order's whole balance due, paid by the method chosen."""
    actor = page.require(Action.RECORD_PAYMENTS)
    db = request.app.state.db
    method = form_text(form, "method", 20)

    def check() -> None:
        if method not in {m.value for m in PaymentMethod}:
            raise ValidationFailed.on("method", "unknown_payment_method")

    refused = _checked(page, form, check)
    if refused is not None:
        return refused
    numbers = _select_or_back(page, form)
    if isinstance(numbers, Response):
        return numbers

    def act(number: str) -> str:
        order, due = bulk.payment_due(db, number)
        body: PaymentCommand = {"amount": due, "method": method}
        transactions.record_payment(db, actor, number, body)
        return page.fmt.money(due, order["currency"])

    outcomes = bulk.run(numbers, act)
    rows = outcome_rows(page, outcomes, lambda paid: page.gettext("Paid %(amount)s", amount=paid))
    return render_result(page, form, page.gettext("Record payments"), rows)


@router.post("/bulk/orders/cancel")
def cancel(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    reason = form_text(form, "reason", 1000)

    def check() -> None:
        if not reason or len(reason) > 500:
            raise ValidationFailed.on("reason", "required_text", max=500)

    refused = _checked(page, form, check)
    if refused is not None:
        return refused
    numbers = _select_or_back(page, form)
    if isinstance(numbers, Response):
        return numbers
    outcomes = bulk.run(numbers, lambda n: shipments.cancel_order(db, actor, n, reason))
    rows = outcome_rows(page, outcomes, lambda _: page.gettext("Cancelled"))
    return render_result(page, form, page.gettext("Cancel orders"), rows)


@router.post("/bulk/orders/tag")
def tag(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    word = form_text(form, "tag", 1000)
    checked: list[str] = []
    refused = _checked(page, form, lambda: checked.append(bulk.check_tag(word)))
    if refused is not None:
        return refused
    numbers = _select_or_back(page, form)
    if isinstance(numbers, Response):
        return numbers
    outcomes = bulk.run(numbers, lambda n: bulk.add_tag(db, actor, n, checked[0]))
    rows = outcome_rows(
        page,
        outcomes,
        lambda new: page.gettext("Tagged") if new else page.gettext("Had the tag already"),
    )
    return render_result(
        page, form, page.gettext("Tag orders: %(tag)s", tag=checked[0]), rows, tag=checked[0]
    )


# ---- export --------------------------------------------------------------------------------


@router.post("/bulk/orders/export")
async def export(request: Request, page: User, form: Form) -> Response:
    """The selected orders as the orders export writes them (CSV or XLSX), in list order."""
    fmt = form_text(form, "format", 10) or "csv"
    if fmt not in exports.FORMATS:
        fmt = "csv"
    numbers = await run_in_threadpool(_select_or_back, page, form)
    if isinstance(numbers, Response):
        return numbers
    db = request.app.state.db
    views = await run_in_threadpool(bulk.views_of, db, numbers)
    kind = exports.KINDS["orders"]
    to_rows = kind.rows(page.actor)
    rows = (row for v in views for row in to_rows(dict(v)))
    chunks = (
        export_files.csv_chunks(kind.header, rows)
        if fmt == "csv"
        else export_files.xlsx_chunks(kind.header, rows, "orders")
    )
    name = exports.filename("orders-selection", fmt)
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(chunks, media_type=export_files.MEDIA_TYPES[fmt], headers=headers)
