"""Products and locations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.catalog import products
from dingdan.services.catalog.shapes import NewProduct, ProductFields
from dingdan.services.inventory import locations
from dingdan.services.inventory.shapes import LocationCommand, LocationView
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import ProductView
from dingdan.web.api.catalog.schemas import (
    Location,
    LocationIn,
    LocationPage,
    LocationPatch,
    Product,
    ProductIn,
    ProductPage,
    ProductPatch,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["catalog"])
Limit = limit_query()


@router.post(
    "/products",
    response_model=Product,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_product(
    request: Request, body: ProductIn, actor: Actor = can(Action.MANAGE_CATALOG)
) -> ProductView:
    return await run_in_threadpool(
        products.create_product, db_of(request), actor, command(NewProduct, body)
    )


@router.get("/products", response_model=ProductPage, responses=responses("forbidden"))
async def list_products(
    request: Request,
    q: str | None = Query(None, max_length=200),
    active: bool | None = None,
    category: str | None = Query(None, max_length=100),
    brand: str | None = Query(None, max_length=100),
    style: str | None = Query(None, max_length=64, description="the SKUs of one style"),
    limit: int = Limit,
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: products.list_products(
            db_of(request),
            q=q,
            active=active,
            category=category,
            brand=brand,
            style=style,
            limit=limit,
            cursor=cursor,
        )
    )
    return page.as_dict()


@router.get(
    "/products/{sku}", response_model=Product, responses=responses("forbidden", "not_found")
)
async def get_product(request: Request, sku: str, actor: Actor = can(Action.READ)) -> ProductView:
    return await run_in_threadpool(products.get_product, db_of(request), sku)


@router.patch(
    "/products/{sku}", response_model=Product, responses=responses("forbidden", "not_found")
)
async def update_product(
    request: Request, sku: str, body: ProductPatch, actor: Actor = can(Action.MANAGE_CATALOG)
) -> ProductView:
    patch = command(ProductFields, body, exclude_unset=True)
    return await run_in_threadpool(products.update_product, db_of(request), actor, sku, patch)


@router.post(
    "/products/{sku}/deactivate",
    response_model=Product,
    responses=responses("forbidden", "not_found"),
)
async def deactivate_product(
    request: Request, sku: str, actor: Actor = can(Action.MANAGE_CATALOG)
) -> ProductView:
    return await run_in_threadpool(
        products.update_product, db_of(request), actor, sku, {"active": False}
    )


@router.post(
    "/locations",
    response_model=Location,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_location(
    request: Request, body: LocationIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> LocationView:
    return await run_in_threadpool(
        locations.create_location, db_of(request), actor, command(LocationCommand, body)
    )


@router.get("/locations", response_model=LocationPage, responses=responses("forbidden"))
async def list_locations(
    request: Request,
    active: bool | None = None,
    limit: int = Limit,
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: locations.list_locations(db_of(request), active=active, limit=limit, cursor=cursor)
    )
    return page.as_dict()


@router.get(
    "/locations/{code}", response_model=Location, responses=responses("forbidden", "not_found")
)
async def get_location(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> LocationView:
    return await run_in_threadpool(locations.get_location, db_of(request), code)


@router.patch(
    "/locations/{code}", response_model=Location, responses=responses("forbidden", "not_found")
)
async def update_location(
    request: Request, code: str, body: LocationPatch, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> LocationView:
    patch = command(LocationCommand, body, exclude_unset=True)
    return await run_in_threadpool(locations.update_location, db_of(request), actor, code, patch)
