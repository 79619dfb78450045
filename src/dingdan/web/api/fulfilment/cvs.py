"""Convenience-store pickup through ECPay logistics: the store (map or typed), parcels and
their labels, ECPay's notices (``/hooks/ecpay/logistics/...``: no bearer token, the
``CheckMacValue`` is the authentication). The map's reply comes through the browser to a
page (``web/pages/fulfilment/cvs.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import ecpay_logistics, ecpay_notices, shapes
from dingdan.services.shared.common import Actor
from dingdan.web.api.fulfilment.cvs_schemas import (
    BrowserForm,
    CvsDelivery,
    CvsShipment,
    CvsShipmentIn,
    Parcels,
    StoreIn,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(tags=["convenience-store pickup"])
API = "/api/v1"
HOOKS = "/hooks/ecpay/logistics"
MAX_FORM_FIELDS = 60


async def client_of(request: Request) -> ecpay_logistics.Client:
    settings = request.app.state.settings
    return await run_in_threadpool(ecpay_logistics.Client.from_settings, settings, db_of(request))


@router.get(
    API + "/orders/{number}/cvs-map",
    response_model=BrowserForm,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def cvs_map(
    request: Request,
    number: str,
    brand: str | None = None,
    mobile: bool = False,
    actor: Actor = can(Action.MANAGE_ORDERS),
) -> shapes.BrowserForm:
    """What to post from the browser to open ECPay's store map for the order (``brand``: one
    of 7-ELEVEN, FamilyMart, Hi-Life, OK; default the order's). The choice comes back to the
    map hook and becomes the order's ``delivery``."""
    db = db_of(request)
    token = await run_in_threadpool(ecpay_logistics.token_of, db, number)
    client = await client_of(request)
    return await run_in_threadpool(
        lambda: ecpay_logistics.map_form(db, client, token, brand, staff=True, mobile=mobile)
    )


@router.post(
    API + "/orders/{number}/cvs-store",
    response_model=CvsDelivery,
    responses=responses("forbidden", "not_found", "invalid_transition", "conflict"),
)
async def set_store(
    request: Request, number: str, body: StoreIn, actor: Actor = can(Action.MANAGE_ORDERS)
) -> shapes.CvsDeliveryView:
    """The pickup store typed by staff: the order's ``delivery`` becomes ``{"type":
    "cvs_pickup", "brand", "store_id", "store_name", "address"}``. Refused (409) while a
    parcel is on its way to a store that has not closed."""
    return await run_in_threadpool(
        ecpay_logistics.set_store,
        db_of(request),
        actor,
        number,
        command(shapes.StoreCommand, body),
    )


@router.post(
    API + "/orders/{number}/cvs-shipments",
    response_model=CvsShipment,
    status_code=201,
    responses=responses(
        "forbidden",
        "not_found",
        "invalid_transition",
        "conflict",
        "payment_required",
        "provider_unavailable",
    ),
)
async def create_cvs_shipment(
    request: Request, number: str, body: CvsShipmentIn, actor: Actor = can(Action.FULFIL)
) -> shapes.CvsShipmentView:
    """A parcel made through ECPay logistics (``Express/Create``, B2C or C2C as the account
    is) to the order's store, recorded as the order's shipment with the brand's carrier and
    ECPay's shipment number. A COD order's balance is collected on pickup unless ``collect``
    is false. ECPay down: 503, nothing shipped; asked again, the same parcel is sent."""
    data = command(shapes.CvsShipmentCommand, body, exclude_none=True)
    return await run_in_threadpool(
        ecpay_logistics.ship, db_of(request), await client_of(request), actor, number, data
    )


@router.get(
    API + "/orders/{number}/cvs-parcels",
    response_model=Parcels,
    responses=responses("forbidden", "not_found"),
)
async def parcels(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> dict[str, object]:
    """The order's parcels at ECPay and every exchange with ECPay about them."""
    db = db_of(request)
    items = await run_in_threadpool(ecpay_logistics.parcels_of, db, number)
    exchanges = await run_in_threadpool(ecpay_logistics.exchanges_of, db, number)
    return {"items": items, "exchanges": exchanges}


@router.get(
    API + "/shipments/{shipment_id}/cvs-label",
    response_model=BrowserForm,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def cvs_label(
    request: Request, shipment_id: str, actor: Actor = can(Action.FULFIL)
) -> shapes.BrowserForm:
    """What to post from the browser to ECPay's label page for the shipment (signed)."""
    return await run_in_threadpool(
        ecpay_logistics.label_form, db_of(request), await client_of(request), shipment_id
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    return {k: v[:2000] for k, v in form.items() if isinstance(v, str)}


@router.post(
    HOOKS + "/status",
    response_class=PlainTextResponse,
    responses={200: {"description": "1|OK"}, 400: {"description": "0|CheckMacValue error"}},
)
async def status_notice(request: Request) -> Response:
    """ECPay's status notice (the ``ServerReplyURL`` of every parcel): a form signed with
    ``CheckMacValue`` (MD5). Answered ``1|OK``; a bad MAC ``0|...`` with 400, nothing
    changed."""
    form = await _form(request)
    status, text = await run_in_threadpool(
        ecpay_notices.receive_status, db_of(request), await client_of(request), form
    )
    return PlainTextResponse(text, status_code=status)


@router.post(
    HOOKS + "/store-change",
    response_class=PlainTextResponse,
    responses={200: {"description": "1|OK"}, 400: {"description": "0|CheckMacValue error"}},
)
async def store_change_notice(request: Request) -> Response:
    """ECPay's C2C store notice (``LogisticsC2CReplyURL``): the pickup store closed or its
    number changed."""
    form = await _form(request)
    status, text = await run_in_threadpool(
        ecpay_notices.receive_store_change, db_of(request), await client_of(request), form
    )
    return PlainTextResponse(text, status_code=status)
