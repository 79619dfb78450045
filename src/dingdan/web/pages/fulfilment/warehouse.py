"""Warehouse: the pick list of a location, the pack screen with a scan field (a USB barcode
scanner types the code and Enter), and shipping what was packed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.catalog import photos
from dingdan.services.fulfilment import packing, picking, shapes, shipments
from dingdan.services.inventory import locations
from dingdan.services.orders import notes, queries, routing
from dingdan.web.pages.orders import order_actions
from dingdan.web.pages.orders.order_pages import shipment_body
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/warehouse")
def pick_list(request: Request, page: User, location: str | None = None) -> Response:
    page.require(Action.FULFIL)
    return _pick_page(page, location)


def _pick_page(page: Page, location: str | None, status: int = 200) -> Response:
    db = page.request.app.state.db
    locs = locations.list_locations(db, active=True, limit=200).items
    code = location or (locs[0]["code"] if locs else None)
    data, picked = None, {}
    if code:
        try:
            data = picking.pick_list(db, code, limit=100)
        except DomainError as exc:
            page.flash_error(exc)
        else:
            picked = picking.picked_orders(db, data["location"], data["orders"])
    return page.render(
        "fulfilment/warehouse.html",
        status=status,
        locations=locs,
        code=code,
        data=data,
        picked=picked,
        together=routing.ship_together_at(db, code) if data and code else [],
        thumbs=photos.thumbnails(db, [ln["sku"] for ln in data["lines"]]) if data else {},
    )


@router.post("/warehouse/{code}/picked")
def mark_picked(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    orders = form.get("orders") or []
    orders = orders if isinstance(orders, list) else [orders]
    return page.attempt(
        lambda: picking.mark_picked(request.app.state.db, actor, code, orders),
        done=lambda done: page.gettext(
            "%(count)s orders marked as picked.", count=len(done["orders"])
        ),
        back=f"/warehouse?location={quote(code, safe='')}",
        form_id="picked",
        typed={"orders": orders},
        again=lambda status: _pick_page(page, code, status),
    )


def _scans(form: dict[str, Any]) -> list[str]:
    scans = form.get("scans") or []
    scans = scans if isinstance(scans, list) else [scans]
    return [s.strip()[:100] for s in scans if isinstance(s, str) and s.strip()][:5000]


def _refusal(page: Page, result: shapes.PackCheckView) -> str | None:
    for d in result["differences"]:
        if d["kind"] == "unknown":
            return str(page.gettext("%(code)s is not an item of this order.", code=d["code"]))
        if d["kind"] == "wrong_item":
            return str(page.gettext("%(sku)s is not in this order.", sku=d["sku"]))
        if d["kind"] == "extra":
            return str(page.gettext("Every %(sku)s is already scanned.", sku=d["sku"]))
    return None


def _packed_here(db: Any, number: str, location: str) -> bool:
    records = packing.pack_records_of(db, number)["items"]
    return any(r["location"] == location and r["shipment_id"] is None for r in records)


def _pack_page(
    page: Page, number: str, location: str | None, scans: list[str], **extra: Any
) -> Response:
    db = page.request.app.state.db
    result = packing.check_pack(db, number, {"location": location, "scans": scans})
    block = "panel" if page.request.headers.get("hx-request") else None
    status = extra.pop("status", 200)
    return page.render(
        "fulfilment/pack.html",
        status=status,
        block=block,
        number=number,
        location=result["location"],
        result=result,
        scans=scans,
        packed=_packed_here(db, number, result["location"]),
        carriers=page.carriers(),
        notes=notes.notes_of(db, number),
        thumbs=photos.thumbnails(db, [ln["sku"] for ln in result["expected"]]),
        **{"refusal": None, "last": None, **extra},
    )


@router.get("/warehouse/pack/{number}")
def pack_screen(request: Request, number: str, page: User, location: str | None = None) -> Response:
    page.require(Action.FULFIL)
    order = queries.get_order(request.app.state.db, number)
    check = order_actions.can_ship(order)
    if not check["ok"]:
        # Not packable (unpaid, cancelled, nothing allocated): said here, not after the scans.
        return page.render(
            "fulfilment/pack.html",
            number=number,
            location=location or "",
            blocked=check,
            o=order,
            notes=notes.notes_of(request.app.state.db, number),
        )
    try:
        return _pack_page(page, number, location, [])
    except DomainError as exc:
        if exc.code == "not_found":
            raise
        page.flash_error(exc)
        return page.redirect(f"/orders/{quote(number, safe='')}")


@router.post("/warehouse/pack/{number}/ship")
def ship_packed(request: Request, number: str, page: User, form: Form) -> Response:
    """Ship what was packed here; a refused number comes back beside its field, as typed,
    and the packer stays on the pack screen."""
    page.require(Action.FULFIL)
    body = shipment_body(form)
    return page.attempt(
        lambda: shipments.create_shipment(request.app.state.db, page.actor, number, body),
        done=page.gettext("Shipment created."),
        back=f"/orders/{quote(number, safe='')}",
        form_id="ship",
        typed={**body, "tracking_number": form_text(form, "tracking_number", 1000) or ""},
        again=lambda status: _pack_page(page, number, body["location"], [], status=status),
        whole_form=True,  # the packer stays on the pack screen
    )


@router.post("/warehouse/pack/{number}/scan")
def scan(request: Request, number: str, page: User, form: Form) -> Response:
    page.require(Action.FULFIL)
    location = form_text(form, "location", 32)
    scans = _scans(form)
    code = form_text(form, "code", 100)
    if not code:
        return _pack_page(page, number, location, scans)
    trial = packing.check_pack(
        request.app.state.db, number, {"location": location, "scans": [*scans, code]}
    )
    refusal = _refusal(page, trial)
    if refusal:
        return _pack_page(page, number, location, scans, refusal=refusal)
    return _pack_page(page, number, location, [*scans, code], last=code)


@router.post("/warehouse/pack/{number}")
def pack(request: Request, number: str, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    location = form_text(form, "location", 32)
    scans = _scans(form)
    where = quote(location or "", safe="")
    return page.attempt(
        lambda: packing.pack_order(
            request.app.state.db, actor, number, {"location": location, "scans": scans}
        ),
        done=page.gettext("Packed. Hand the parcel to the carrier and ship it."),
        back=f"/warehouse/pack/{quote(number, safe='')}?location={where}",
        form_id="pack",
        typed={"location": location or "", "scans": scans},
        again=lambda status: _pack_page(page, number, location, scans, status=status),
    )
