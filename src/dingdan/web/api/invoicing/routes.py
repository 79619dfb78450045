"""Invoices and Taiwan e-invoices (shared/CONTRACT.md, "Invoices and Taiwan e-invoices").

Settings, number ranges and voids need ``manage_payments`` (the contract's finance,
manager and admin); reading invoices needs ``read``. Every read of an invoice is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.invoicing import allowances, fapiao_requests, issuing, pdf, queries, shapes
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.shared.common import Actor
from dingdan.web.api.invoicing.schemas import (
    AllowanceDetail,
    AllowanceIn,
    AllowanceList,
    BlankNumbers,
    FapiaoIn,
    FapiaoOut,
    InvoiceDetail,
    InvoiceList,
    InvoicingSettings,
    InvoicingSettingsIn,
    Track,
    TrackImportIn,
    TrackIn,
    TrackList,
    VoidIn,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["invoicing"])
MANAGE = Action.MANAGE_PAYMENTS  # finance, manager, admin


@router.get(
    "/settings/invoicing", response_model=InvoicingSettings, responses=responses("forbidden")
)
async def get_settings(request: Request, actor: Actor = can(MANAGE)) -> shapes.SettingsView:
    return await run_in_threadpool(invoicing_settings.get, db_of(request))


@router.put(
    "/settings/invoicing", response_model=InvoicingSettings, responses=responses("forbidden")
)
async def put_settings(
    request: Request, body: InvoicingSettingsIn, actor: Actor = can(MANAGE)
) -> shapes.SettingsView:
    """The seller's name and business number (checked with the 2023 rule), e-invoice on or
    off, and when invoices are issued (payment in full, or shipment)."""
    cmd = command(shapes.SettingsCommand, body)
    return await run_in_threadpool(invoicing_settings.put, db_of(request), actor, cmd)


@router.post(
    "/einvoice/tracks",
    response_model=Track,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def add_track(
    request: Request, body: TrackIn, actor: Actor = can(MANAGE)
) -> shapes.TrackView:
    """A number range (字軌) of a two-month period; one overlapping another range of the same
    prefix and period is 409. Invoices waiting for numbers are issued from it."""
    cmd = command(shapes.TrackCommand, body)
    return await run_in_threadpool(invoicing_settings.add_track, db_of(request), actor, cmd)


@router.post(
    "/einvoice/tracks/import",
    response_model=TrackList,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def import_tracks(
    request: Request, body: TrackImportIn, actor: Actor = can(MANAGE)
) -> shapes.TrackList:
    """Every range of the tax platform's file, all or none; a bad row is refused on its row
    (``rows[2].start``), an overlap is 409 as for one range."""
    return await run_in_threadpool(
        invoicing_settings.import_tracks, db_of(request), actor, body.csv
    )


@router.get(
    "/einvoice/blanks",
    response_model=BlankNumbers,
    responses=responses("forbidden"),
)
async def blank_numbers(
    request: Request,
    period: str = Query(..., max_length=7, description="the period's first month, YYYY-MM"),
    actor: Actor = can(MANAGE),
) -> shapes.BlankNumbers:
    """The numbers of the period's ranges never issued, per prefix: what the seller reports
    as blank (空白未使用字軌) once the period has closed."""
    return await run_in_threadpool(invoicing_settings.blank_numbers, db_of(request), period)


@router.get(
    "/einvoice/blanks/{prefix}/mig",
    response_class=Response,
    responses={
        **responses("forbidden"),
        200: {
            "description": "The MIG 4.0 E0402 message of the prefix's blank numbers",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        },
    },
)
async def blank_numbers_mig(
    request: Request,
    prefix: str,
    period: str = Query(..., max_length=7, description="the period's first month, YYYY-MM"),
    actor: Actor = can(MANAGE),
) -> Response:
    xml = await run_in_threadpool(
        invoicing_settings.blank_numbers_mig, db_of(request), period, prefix
    )
    return Response(content=xml, media_type="application/xml")


@router.get("/einvoice/tracks", response_model=TrackList, responses=responses("forbidden"))
async def list_tracks(
    request: Request, period: str | None = None, actor: Actor = can(MANAGE)
) -> shapes.TrackList:
    return await run_in_threadpool(invoicing_settings.list_tracks, db_of(request), period)


@router.get(
    "/orders/{number}/invoices",
    response_model=InvoiceList,
    responses=responses("forbidden", "not_found"),
)
async def order_invoices(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> shapes.InvoiceList:
    return await run_in_threadpool(queries.order_invoices, db_of(request), actor, number)


@router.get(
    "/invoices/{number}",
    response_model=InvoiceDetail,
    responses=responses("forbidden", "not_found"),
)
async def get_invoice(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> shapes.InvoiceDetailView:
    return await run_in_threadpool(queries.get_invoice, db_of(request), actor, number)


@router.get(
    "/invoices/{number}/allowances",
    response_model=AllowanceList,
    responses=responses("forbidden", "not_found"),
)
async def list_allowances(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> shapes.AllowanceList:
    return await run_in_threadpool(queries.allowances, db_of(request), actor, number)


@router.get(
    "/invoices/{number}/mig",
    response_class=Response,
    responses={
        **responses("forbidden", "not_found"),
        200: {
            "description": "The MIG 4.0 F0401 message",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        },
    },
)
async def get_mig(request: Request, number: str, actor: Actor = can(Action.READ)) -> Response:
    xml = await run_in_threadpool(queries.mig_xml, db_of(request), actor, number)
    return Response(
        content=xml.encode(),
        media_type="application/xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/invoices/{number}/pdf",
    response_class=Response,
    responses={
        **responses("forbidden", "not_found"),
        200: {
            "description": "The A4 invoice (404 until the worker has rendered it)",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def get_pdf(request: Request, number: str, actor: Actor = can(Action.READ)) -> Response:
    data, filename = await run_in_threadpool(pdf.download, db_of(request), actor, number)
    safe = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-"))
    headers = {
        "Content-Disposition": f'attachment; filename="{safe or "invoice.pdf"}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type="application/pdf", headers=headers)


@router.post(
    "/invoices/{number}/void",
    response_model=InvoiceDetail,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def void_invoice(
    request: Request, number: str, body: VoidIn, actor: Actor = can(MANAGE)
) -> shapes.InvoiceDetailView:
    """Void an issued invoice (F0501) within the void window; its number is never used
    again. After the window: 409 with ``void_window_closed``."""
    return await run_in_threadpool(issuing.void, db_of(request), actor, number, body.reason)


@router.post(
    "/invoices/{number}/allowances",
    response_model=AllowanceDetail,
    status_code=201,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def give_allowance(
    request: Request, number: str, body: AllowanceIn, actor: Actor = can(MANAGE)
) -> shapes.AllowanceDetailView:
    """An allowance (折讓, G0401) given by hand, such as the right one after voiding one made
    in error: ``amount`` tax included (whole NT$ on an e-invoice), at most what the invoice
    has left (422 ``allowance_beyond_invoice``); an invoice not issued is 409."""
    return await run_in_threadpool(
        allowances.give, db_of(request), actor, number, body.amount, body.reason
    )


@router.post(
    "/invoices/{number}/allowances/{allowance_number}/void",
    response_model=AllowanceDetail,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def void_allowance(
    request: Request,
    number: str,
    allowance_number: str,
    body: VoidIn,
    actor: Actor = can(MANAGE),
) -> shapes.AllowanceDetailView:
    """Void an issued allowance (G0501), such as one made in error: it stays listed,
    ``void``, with its reason, and no longer counts against the invoice (a new allowance
    may take its place); the refund it came from stays recorded. The centre hears of it
    from the worker. An allowance already void is 409 ``allowance_not_voidable``."""
    return await run_in_threadpool(
        allowances.void_allowance, db_of(request), actor, number, allowance_number, body.reason
    )


@router.put(
    "/orders/{number}/fapiao",
    response_model=FapiaoOut,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def put_fapiao(
    request: Request, number: str, body: FapiaoIn, actor: Actor = can(Action.MANAGE_ORDERS)
) -> shapes.FapiaoView:
    """A mainland China order's fapiao request, kept for the seller's tax system (422 for an
    order not shipped to CN, or a USCC failing its check character)."""
    cmd = command(shapes.FapiaoCommand, body, exclude_none=True)
    return await run_in_threadpool(fapiao_requests.set_request, db_of(request), actor, number, cmd)


@router.get(
    "/fapiao/requests",
    response_class=Response,
    responses={
        **responses("forbidden"),
        200: {
            "description": "The fapiao requests of the orders placed in the range",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        },
    },
)
async def export_fapiao(
    request: Request,
    format: str = Query("csv", max_length=10, description="csv (UTF-8 with a BOM) or xlsx"),
    date_from: str | None = Query(None, alias="from", max_length=10, description="YYYY-MM-DD"),
    date_to: str | None = Query(None, alias="to", max_length=10, description="YYYY-MM-DD"),
    actor: Actor = can(MANAGE),
) -> Response:
    """The orders' fapiao requests (title, tax ID, email) placed from ``from`` to ``to``
    (the seller's days, default the last 31), for the seller to upload to their
    tax-control system; cancelled orders are left out."""
    data, media, name = await run_in_threadpool(
        fapiao_requests.export, db_of(request), actor, date_from, date_to, format
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type=media, headers=headers)
