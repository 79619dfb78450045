"""The order list's bulk printing: the packing slips, or the pick lists (one per location
holding units of the orders), of the orders selected, as ONE PDF for the selection, made by
the worker like every PDF (services/shared/documents.py). Each order is on it or listed
with why not (nothing left to pack; for picking also not open, not paid). Warehouse,
manager and admin (``fulfil``), as for one order's slip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, NotFound, ValidationFailed
from dingdan.services.catalog import photos
from dingdan.services.fulfilment import packing_slips, picking, shapes
from dingdan.services.orders import bulk, queries
from dingdan.services.shared import documents
from dingdan.web.pages.fulfilment.packing_slip import (
    BATCH_KIND,
    _document_html,
    _pdf_response,
    _with_codes,
)
from dingdan.web.pages.orders.bulk import back_to_list, outcome_rows, render_result, selection
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PICK_KIND = "pick_lists"
KINDS = (BATCH_KIND, PICK_KIND)
SUBJECT = re.compile(r"^selection-[0-9a-f]{24}$")


def subject_of(numbers: list[str]) -> str:
    """The PDF's subject: the same selection, the same document (whoever asks)."""
    digest = hashlib.sha256("\n".join(sorted(numbers)).encode()).hexdigest()[:24]
    return f"selection-{digest}"


def _urls(kind: str, subject: str) -> dict[str, str]:
    base = f"/bulk/documents/{quote(kind, safe='')}/{quote(subject, safe='')}"
    return {"state": f"{base}/state", "download": f"{base}.pdf"}


def _selected(page: Page, form: Mapping[str, Any]) -> list[str] | Response:
    try:
        return selection(page, form)
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(back_to_list(form))


def _answer(
    page: Page, form: Mapping[str, Any], kind: str, subject: str, title: str, rows: Any
) -> Response:
    db = page.request.app.state.db
    return render_result(
        page,
        form,
        title,
        rows,
        pdf={
            "urls": _urls(kind, subject),
            "state": documents.pdf_state(db, kind, subject),
        },
    )


@router.post("/bulk/orders/packing-slips")
def slips(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    db = request.app.state.db
    numbers = _selected(page, form)
    if isinstance(numbers, Response):
        return numbers
    on_pdf: list[shapes.SlipView] = []

    def act(number: str) -> int:
        data = packing_slips.order_slips(db, number)
        to_pack = [s for s in data["slips"] if s["shipment"] is None]
        if not to_pack:
            raise ValidationFailed.on("orders", "nothing_to_pack", number=number)
        on_pdf.extend(to_pack)
        return sum(s["units"] for s in to_pack)

    outcomes = bulk.run(numbers, act)
    subject = subject_of(numbers)
    if on_pdf:
        title = page.gettext("Packing slips · %(count)s orders", count=len(on_pdf))
        html = _document_html(
            page,
            "a4",
            title=title,
            slips=_with_codes(request, on_pdf),
            batch={"location": "", "orders": [o.number for o in outcomes if o.ok]},
        )
        documents.request_pdf(
            db,
            actor,
            BATCH_KIND,
            subject,
            f"packing-slips-{subject[-8:]}.pdf",
            html,
            [o.number for o in outcomes if o.ok],
        )
    rows = outcome_rows(
        page, outcomes, lambda units: page.gettext("On the PDF: %(units)s units", units=units)
    )
    return _answer(page, form, BATCH_KIND, subject, page.gettext("Print packing slips"), rows)


def _pickable_at(db: Any, number: str) -> list[str]:
    """The locations the order can be picked at; refused with why it cannot be picked."""
    order = queries.get_order(db, number)
    if order["status"] != "open":
        raise ValidationFailed.on("orders", "order_not_open", number=number, status=order["status"])
    if order["payment_method"] != "cod" and any(c in "123456789" for c in order["balance_due"]):
        raise ValidationFailed.on("orders", "order_not_paid", number=number)
    places = sorted({a["location"] for a in order["allocations"]})
    if not places:
        raise ValidationFailed.on("orders", "nothing_to_pack", number=number)
    return places


def _bodies(pages: list[str]) -> str:
    """Several pick lists as one document: the first one's head, each one's body on its own
    page."""
    if not pages:
        return ""
    head = pages[0].split("<body>", 1)[0]
    bodies = [p.split("<body>", 1)[1].rsplit("</body>", 1)[0] for p in pages]
    sheet = '<div style="page-break-before: always"></div>'
    return head + "<body>" + sheet.join(bodies) + "</body></html>"


def _photos(db: Any, data: shapes.PickListView) -> dict[str, str]:
    """Each line's product photo, inside the document (the worker's PDF fetches nothing)."""
    return photos.thumbnail_data(db, [ln["sku"] for ln in data["lines"]])


@router.post("/bulk/orders/pick-lists")
def pick_lists(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    db = request.app.state.db
    numbers = _selected(page, form)
    if isinstance(numbers, Response):
        return numbers
    by_location: dict[str, list[str]] = {}

    def act(number: str) -> list[str]:
        places = _pickable_at(db, number)
        for code in places:
            by_location.setdefault(code, []).append(number)
        return places

    outcomes = bulk.run(numbers, act)
    subject = subject_of(numbers)
    lists = []
    for code in sorted(by_location):
        chosen = by_location[code]
        for i in range(0, len(chosen), picking.MAX_ORDERS):
            lists.append(picking.pick_list(db, code, chosen[i : i + picking.MAX_ORDERS]))
    if lists:
        documents.request_pdf(
            db,
            actor,
            PICK_KIND,
            subject,
            f"pick-lists-{subject[-8:]}.pdf",
            _bodies([picking.pick_list_html(d, _photos(db, d)) for d in lists]),
            [o.number for o in outcomes if o.ok],
        )
    rows = outcome_rows(
        page,
        outcomes,
        lambda places: page.gettext(
            "On the pick list of %(locations)s", locations=", ".join(places)
        ),
    )
    return _answer(page, form, PICK_KIND, subject, page.gettext("Print pick lists"), rows)


def _checked_kind(kind: str, subject: str) -> None:
    if kind not in KINDS or not SUBJECT.match(subject):
        raise NotFound(detail="No such document.")


@router.get("/bulk/documents/{kind}/{subject}/state")
def state(request: Request, kind: str, subject: str, page: User) -> Response:
    page.require(Action.FULFIL)
    _checked_kind(kind, subject)
    return page.render(
        "orders/bulk_result.html",
        block="pdf_state",
        pdf={
            "urls": _urls(kind, subject),
            "state": documents.pdf_state(request.app.state.db, kind, subject),
        },
    )


@router.get("/bulk/documents/{kind}/{subject}.pdf")
def download(request: Request, kind: str, subject: str, page: User) -> Response:
    page.require(Action.FULFIL)
    _checked_kind(kind, subject)
    return _pdf_response(page, kind, subject)
