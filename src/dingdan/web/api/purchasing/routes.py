"""Suppliers, purchase orders, receiving against them, replenishment suggestions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.purchasing import purchase_orders, receiving, replenishment, suppliers
from dingdan.services.purchasing.shapes import (
    DraftsCommand,
    DraftsView,
    POReceiptView,
    PurchaseOrderCommand,
    PurchaseOrderView,
    ReceiveCommand,
    SupplierCommand,
    SupplierProductCommand,
    SupplierProductView,
    SupplierView,
)
from dingdan.services.purchasing.shapes import PurchaseOrderPatch as PurchaseOrderPatchCommand
from dingdan.services.purchasing.shapes import Suggestions as SuggestionsView
from dingdan.services.purchasing.shapes import SupplierPatch as SupplierPatchCommand
from dingdan.services.purchasing.shapes import SupplierProducts as SupplierProductsView
from dingdan.services.shared.common import Actor
from dingdan.web.api.purchasing.schemas import (
    Drafts,
    DraftsIn,
    POReceipt,
    POReceiptIn,
    POStatusName,
    PurchaseOrder,
    PurchaseOrderIn,
    PurchaseOrderPage,
    PurchaseOrderPatch,
    Suggestions,
    Supplier,
    SupplierIn,
    SupplierPage,
    SupplierPatch,
    SupplierProduct,
    SupplierProductIn,
    SupplierProducts,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["purchasing"])
BUY = Action.MANAGE_PURCHASING


# ---- suppliers -----------------------------------------------------------------------------


@router.post(
    "/suppliers",
    response_model=Supplier,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_supplier(
    request: Request, body: SupplierIn, actor: Actor = can(BUY)
) -> SupplierView:
    cmd = command(SupplierCommand, body, exclude_unset=True)
    return await run_in_threadpool(suppliers.create_supplier, db_of(request), actor, cmd)


@router.get("/suppliers", response_model=SupplierPage, responses=responses("forbidden"))
async def list_suppliers(
    request: Request,
    active: bool | None = None,
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: suppliers.list_suppliers(db_of(request), active=active, limit=limit, cursor=cursor)
    )
    return page.as_dict()


@router.get(
    "/suppliers/{code}", response_model=Supplier, responses=responses("forbidden", "not_found")
)
async def get_supplier(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> SupplierView:
    return await run_in_threadpool(suppliers.get_supplier, db_of(request), code)


@router.patch(
    "/suppliers/{code}", response_model=Supplier, responses=responses("forbidden", "not_found")
)
async def update_supplier(
    request: Request, code: str, body: SupplierPatch, actor: Actor = can(BUY)
) -> SupplierView:
    cmd = command(SupplierPatchCommand, body, exclude_unset=True)
    return await run_in_threadpool(suppliers.update_supplier, db_of(request), actor, code, cmd)


@router.get(
    "/suppliers/{code}/products",
    response_model=SupplierProducts,
    responses=responses("forbidden", "not_found"),
)
async def supplier_products(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> SupplierProductsView:
    return await run_in_threadpool(suppliers.supplier_products, db_of(request), code)


@router.put(
    "/suppliers/{code}/products/{sku}",
    response_model=SupplierProduct,
    responses=responses("forbidden", "not_found"),
)
async def put_supplier_product(
    request: Request, code: str, sku: str, body: SupplierProductIn, actor: Actor = can(BUY)
) -> SupplierProductView:
    cmd = command(SupplierProductCommand, body, exclude_unset=True)
    return await run_in_threadpool(
        suppliers.put_supplier_product, db_of(request), actor, code, sku, cmd
    )


# ---- purchase orders -----------------------------------------------------------------------


@router.post(
    "/purchase-orders",
    response_model=PurchaseOrder,
    status_code=201,
    responses=responses("forbidden"),
)
async def create_purchase_order(
    request: Request, body: PurchaseOrderIn, actor: Actor = can(BUY)
) -> PurchaseOrderView:
    cmd = command(PurchaseOrderCommand, body, exclude_unset=True)
    return await run_in_threadpool(
        purchase_orders.create_purchase_order, db_of(request), actor, cmd
    )


@router.get("/purchase-orders", response_model=PurchaseOrderPage, responses=responses("forbidden"))
async def list_purchase_orders(
    request: Request,
    status: POStatusName | None = None,
    supplier: str | None = Query(None, max_length=32),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: purchase_orders.list_purchase_orders(
            db_of(request), status=status, supplier=supplier, limit=limit, cursor=cursor
        )
    )
    return page.as_dict()


@router.get(
    "/purchase-orders/{po_id}",
    response_model=PurchaseOrder,
    responses=responses("forbidden", "not_found"),
)
async def get_purchase_order(
    request: Request, po_id: str, actor: Actor = can(Action.READ)
) -> PurchaseOrderView:
    return await run_in_threadpool(purchase_orders.get_purchase_order, db_of(request), po_id)


@router.patch(
    "/purchase-orders/{po_id}",
    response_model=PurchaseOrder,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def update_purchase_order(
    request: Request, po_id: str, body: PurchaseOrderPatch, actor: Actor = can(BUY)
) -> PurchaseOrderView:
    cmd = command(PurchaseOrderPatchCommand, body, exclude_unset=True)
    return await run_in_threadpool(
        purchase_orders.update_purchase_order, db_of(request), actor, po_id, cmd
    )


_CHANGES = {
    "send": purchase_orders.send,
    "cancel": purchase_orders.cancel,
    "close": purchase_orders.close,
}


def _change_route(name: str) -> None:
    change = _CHANGES[name]

    async def route(request: Request, po_id: str, actor: Actor = can(BUY)) -> PurchaseOrderView:
        return await run_in_threadpool(change, db_of(request), actor, po_id)

    route.__name__ = f"{name}_purchase_order"
    router.post(
        f"/purchase-orders/{{po_id}}/{name}",
        response_model=PurchaseOrder,
        responses=responses("forbidden", "not_found", "invalid_transition"),
        name=route.__name__,
    )(route)


for _name in _CHANGES:
    _change_route(_name)


@router.post(
    "/purchase-orders/{po_id}/receipts",
    response_model=POReceipt,
    status_code=201,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def receive_purchase_order(
    request: Request, po_id: str, body: POReceiptIn, actor: Actor = can(BUY)
) -> POReceiptView:
    cmd = command(ReceiveCommand, body, exclude_unset=True)
    return await run_in_threadpool(receiving.receive, db_of(request), actor, po_id, cmd)


# ---- replenishment -------------------------------------------------------------------------


@router.get("/replenishment", response_model=Suggestions, responses=responses("forbidden"))
async def suggestions(
    request: Request,
    location: str | None = Query(None, max_length=32),
    actor: Actor = can(Action.READ),
) -> SuggestionsView:
    return await run_in_threadpool(
        lambda: replenishment.suggestions(db_of(request), location=location)
    )


@router.post(
    "/replenishment/purchase-orders",
    response_model=Drafts,
    status_code=201,
    responses=responses("forbidden"),
)
async def draft_purchase_orders(
    request: Request, body: DraftsIn, actor: Actor = can(BUY)
) -> DraftsView:
    cmd = command(DraftsCommand, body, exclude_unset=True)
    return await run_in_threadpool(replenishment.create_drafts, db_of(request), actor, cmd)
