"""Convenience-store pickup in the pages: the customer's way to ECPay's store map from the
tracking page, and the order's store pickup page for staff (the store from the map or
typed, the parcel made through ECPay, its label, every exchange with ECPay)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.fulfilment import ecpay_logistics, shapes
from dingdan.web.error_status import status_of
from dingdan.web.pages.orders.tracking import limiter_of
from dingdan.web.pages.shared.core import (
    Anon,
    Form,
    Page,
    PageRoute,
    User,
    client_address,
    form_text,
)
from dingdan.web.pages.shared.security import hand_off

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _client(request: Request) -> ecpay_logistics.Client:
    return ecpay_logistics.Client.from_settings(request.app.state.settings, request.app.state.db)


def _to_ecpay(page: Page, form: shapes.BrowserForm, title: str) -> Response:
    """A page that posts ``form`` on to ECPay (at once, with a button without scripts)."""
    response = page.render("fulfilment/cvs_post.html", form=form, title=title)
    return hand_off(response, form["url"])


@router.get("/track/{token}/cvs-map")
def customer_map(request: Request, token: str, page: Anon, brand: str | None = None) -> Response:
    if not limiter_of(request).allow(client_address(request)):
        return HTMLResponse(
            str(page.gettext("Too many requests. Try again in a minute.")),
            status_code=429,
            headers={"Retry-After": "60"},
        )
    db = request.app.state.db
    mobile = "Mobile" in request.headers.get("user-agent", "")
    try:
        form = ecpay_logistics.map_form(
            db, _client(request), token, brand, staff=False, mobile=mobile
        )
    except NotFound:
        return page.render("orders/track.html", status=404, t=None, shop={})
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(f"/track/{token}")
    return _to_ecpay(page, form, str(page.gettext("Choose a store")))


def _page(page: Page, number: str, status: int = 200) -> Response:
    view = ecpay_logistics.staff_view(page.request.app.state.db, number)
    return page.render("fulfilment/cvs.html", status=status, c=view)


@router.get("/orders/{number}/cvs")
def cvs_page(page: User, number: str) -> Response:
    page.require(Action.READ)
    return _page(page, number)


@router.get("/orders/{number}/cvs/map")
def staff_map(request: Request, page: User, number: str, brand: str | None = None) -> Response:
    page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    try:
        token = ecpay_logistics.token_of(db, number)
        form = ecpay_logistics.map_form(db, _client(request), token, brand, staff=True)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        page.flash_error(exc)
        return page.redirect(f"/orders/{number}/cvs")
    return _to_ecpay(page, form, str(page.gettext("Choose a store")))


@router.post("/orders/{number}/cvs/store")
def typed_store(request: Request, page: User, form: Form, number: str) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    body: shapes.StoreCommand = {
        "brand": form_text(form, "brand", 20),
        "store_id": form_text(form, "store_id", 20),
        "store_name": form_text(form, "store_name", 100),
        "address": form_text(form, "address", 300),
    }
    return page.attempt(
        lambda: ecpay_logistics.set_store(request.app.state.db, actor, number, body),
        done=str(page.gettext("The pickup store is saved.")),
        back=f"/orders/{number}/cvs",
        form_id="cvs-store",
        typed=form,
        again=lambda status: _page(page, number, status),
    )


@router.post("/orders/{number}/cvs/ship")
def ship(request: Request, page: User, form: Form, number: str) -> Response:
    actor = page.require(Action.FULFIL)
    body: shapes.CvsShipmentCommand = {"collect": form.get("collect") != "0"}
    db = request.app.state.db
    try:
        ecpay_logistics.ship(db, _client(request), actor, number, body)
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(f"/orders/{number}/cvs")
    page.flash(str(page.gettext("The parcel is made at ECPay; print its label.")))
    return page.redirect(f"/orders/{number}/cvs")


@router.get("/shipments/{shipment_id}/cvs-label")
def label(request: Request, page: User, shipment_id: str) -> Response:
    page.require(Action.FULFIL)
    try:
        form = ecpay_logistics.label_form(request.app.state.db, _client(request), shipment_id)
    except DomainError as exc:
        return page.render("error.html", status=status_of(exc), title="not_found", error=None)
    return _to_ecpay(page, form, str(page.gettext("Print the label")))


@router.post("/hooks/ecpay/logistics/map/{token}")
async def map_reply(request: Request, token: str, page: Anon) -> Response:
    """The store chosen on ECPay's map, posted back through the browser from ECPay's page
    (``CVSStoreID``, ``CVSStoreName``, ``CVSAddress``, ``LogisticsSubType``): a cross-site
    form without our CSRF token, bound to the order by its tracking token instead. The
    store becomes the order's delivery; the browser goes back to the tracking page (or the
    store pickup page when staff asked)."""
    raw = await request.form(max_fields=60, max_files=0)
    form = {k: v[:2000] for k, v in raw.items() if isinstance(v, str)}
    db = request.app.state.db
    try:
        number, staff = await run_in_threadpool(ecpay_logistics.store_from_map, db, token, form)
    except NotFound:
        return page.render("orders/track.html", status=404, t=None, shop={})
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(f"/track/{token}")
    return page.redirect(f"/orders/{number}/cvs" if staff else f"/track/{token}")
