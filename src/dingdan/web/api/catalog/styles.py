"""The catalogue as channels and staff know it (issue 21, part 9): styles with their variants
(each variant a SKU of ``/products``), product photos, the categories and brands to choose
from, and channel listings (which variants a channel sells, with its own SKU for them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.services.catalog import listings, photos, styles
from dingdan.services.catalog import shapes as catalog
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query
from dingdan.web.api.shared.schemas import MoneyText, Strict

router = APIRouter(prefix="/api/v1", tags=["catalog"])
Limit = limit_query()
OPTIONS = Field(
    description='the value of each of the style\'s options, e.g. {"尺寸": "M", "顏色": "紅"}',
    max_length=3,
)


class VariantIn(Strict):
    """A SKU that exists is attached with its values; a new one is created (its price and
    currency default to the request's)."""

    sku: str = Field(min_length=1, max_length=64)
    options: dict[str, str] = OPTIONS
    name: str | None = Field(default=None, min_length=1, max_length=300)
    price: MoneyText | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0, le=MAX_INT)
    active: bool | None = None
    allow_backorder: bool | None = None


class StyleIn(Strict):
    code: str = Field(min_length=1, max_length=64, description="the style's own code")
    name: str = Field(min_length=1, max_length=300)
    options: list[str] = Field(min_length=1, max_length=3, description='e.g. ["尺寸", "顏色"]')
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    price: MoneyText | None = Field(default=None, description="of the new variants by default")
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    variants: list[VariantIn] = Field(default_factory=list, max_length=200)


class StylePatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)


class VariantsIn(Strict):
    variants: list[VariantIn] = Field(min_length=1, max_length=200)
    price: MoneyText | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class Variant(View):
    sku: str
    name: str
    options: dict[str, str] | None
    barcode: str | None
    price: Amount
    currency: str
    active: bool
    on_hand: int = Field(description="over the active locations")
    available: int = Field(description="on hand less reserved, over the active locations")
    locations: dict[str, int] = Field(description="available per active location")


class Style(View):
    code: str
    name: str
    options: list[str]
    category: str | None
    brand: str | None
    variants: list[Variant]
    created_at: Timestamp
    updated_at: Timestamp


class StyleItem(View):
    code: str
    name: str
    options: list[str]
    category: str | None
    brand: str | None
    variant_count: int
    updated_at: Timestamp


class StylePage(View):
    items: list[StyleItem]
    next_cursor: Cursor


class Photo(View):
    id: str
    key: str = Field(description="SHA-256 of the uploaded file")
    position: int
    urls: dict[str, str] = Field(description="thumb (96 px), medium (480 px), large (1200 px)")
    width: int | None
    height: int | None
    created_at: Timestamp


class Photos(View):
    items: list[Photo]


class Values(View):
    items: list[str]


class ListingIn(Strict):
    listed: bool = Field(description="whether the channel sells the SKU")
    channel_sku: str | None = Field(
        default=None, max_length=100, description="the channel's SKU for it (a SKU alias)"
    )


class Listing(View):
    channel: str
    sku: str
    listed: bool
    channel_skus: list[str]


class VariantListing(View):
    sku: str
    listed: bool
    channel_skus: list[str]


class ChannelListing(View):
    channel: str
    name: str
    every_sku: bool = Field(description="the channel's stock rule names no SKU subset")
    variants: list[VariantListing]


class StyleListings(View):
    style: str
    channels: list[ChannelListing]


class SkuListings(View):
    sku: str
    channels: list[ChannelListing]


CATALOG = Action.MANAGE_CATALOG


@router.post(
    "/styles",
    response_model=Style,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def create_style(
    request: Request, body: StyleIn, actor: Actor = can(CATALOG)
) -> catalog.StyleView:
    """A style and its variants, all or nothing: each variant a SKU (new ones are created,
    existing ones attached) with one value per option, no two with the same values."""
    data = command(catalog.StyleCommand, body, exclude_none=True)
    return await run_in_threadpool(styles.create_style, db_of(request), actor, data)


@router.get("/styles", response_model=StylePage, responses=responses("forbidden"))
async def list_styles(
    request: Request,
    q: str | None = Query(None, max_length=200),
    limit: int = Limit,
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: styles.list_styles(db_of(request), q=q, limit=limit, cursor=cursor)
    )
    return page.as_dict()


@router.get("/styles/{code}", response_model=Style, responses=responses("forbidden", "not_found"))
async def get_style(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> catalog.StyleView:
    """The style with its variants and their stock."""
    return await run_in_threadpool(styles.get_style, db_of(request), code)


@router.patch("/styles/{code}", response_model=Style, responses=responses("forbidden", "not_found"))
async def update_style(
    request: Request, code: str, body: StylePatch, actor: Actor = can(CATALOG)
) -> catalog.StyleView:
    """Its name; its category and brand are written onto every variant too."""
    data = command(catalog.StyleChanges, body, exclude_unset=True)
    return await run_in_threadpool(styles.update_style, db_of(request), actor, code, data)


@router.post(
    "/styles/{code}/variants",
    response_model=Style,
    responses=responses("forbidden", "not_found", "conflict"),
)
async def add_variants(
    request: Request, code: str, body: VariantsIn, actor: Actor = can(CATALOG)
) -> catalog.StyleView:
    """More variants (or new values for variants it has), all or none."""
    data = command(catalog.VariantsCommand, body, exclude_none=True)
    return await run_in_threadpool(styles.add_variants, db_of(request), actor, code, data)


@router.delete(
    "/styles/{code}/variants/{sku}",
    response_model=Style,
    responses=responses("forbidden", "not_found"),
)
async def remove_variant(
    request: Request, code: str, sku: str, actor: Actor = can(CATALOG)
) -> catalog.StyleView:
    """The SKU leaves the style and stays a product of its own."""
    return await run_in_threadpool(styles.remove_variant, db_of(request), actor, code, sku)


@router.get(
    "/styles/{code}/listings",
    response_model=StyleListings,
    responses=responses("forbidden", "not_found"),
)
async def style_listings(
    request: Request, code: str, actor: Actor = can(Action.READ)
) -> catalog.StyleListingsView:
    """Per active channel, which variants it sells (its stock rule's SKU subset) and its
    own SKUs for them (SKU aliases)."""
    return await run_in_threadpool(listings.style_listings, db_of(request), code)


@router.get(
    "/products/{sku}/listings",
    response_model=SkuListings,
    responses=responses("forbidden", "not_found"),
)
async def product_listings(
    request: Request, sku: str, actor: Actor = can(Action.READ)
) -> catalog.SkuListingsView:
    """Per active channel, whether it sells this SKU (its stock rule's SKU subset) and its
    own SKUs for it (SKU aliases); ``PUT /channels/{channel}/listings/{sku}`` changes them."""
    return await run_in_threadpool(listings.product_listings, db_of(request), sku)


@router.put(
    "/channels/{channel}/listings/{sku}",
    response_model=Listing,
    responses=responses("forbidden", "not_found"),
)
async def set_listing(
    request: Request,
    channel: str,
    sku: str,
    body: ListingIn,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> catalog.ListingView:
    """Whether the channel sells the SKU (``GET /channels/{code}/stock`` follows), and the
    channel's SKU for it (added as a SKU alias; earlier ones stay)."""
    return await run_in_threadpool(
        listings.set_listing,
        db_of(request),
        actor,
        channel,
        sku,
        command(catalog.ListingCommand, body),
    )


@router.get("/categories", response_model=Values, responses=responses("forbidden"))
async def categories(request: Request, actor: Actor = can(Action.READ)) -> dict[str, Any]:
    """The categories products have (at most 500), to choose from."""
    return {"items": (await run_in_threadpool(styles.facets, db_of(request)))["categories"]}


@router.get("/brands", response_model=Values, responses=responses("forbidden"))
async def brands(request: Request, actor: Actor = can(Action.READ)) -> dict[str, Any]:
    """The brands products have (at most 500), to choose from."""
    return {"items": (await run_in_threadpool(styles.facets, db_of(request)))["brands"]}


# ---- photos ------------------------------------------------------------------------------

PHOTO_FILE = File(..., description="JPEG, PNG or WebP, at most the upload limit")


async def _photos_of(request: Request, **owner: str) -> dict[str, Any]:
    """The photos of a SKU (``sku=``) or a style (``style=``), as every photo route answers."""
    items = await run_in_threadpool(lambda: photos.photos_of(db_of(request), **owner))
    return {"items": items}


async def _add_photo(
    request: Request, file: UploadFile, actor: Actor, **owner: str
) -> dict[str, Any]:
    """The upload read (one byte past the limit, to refuse it) and added to its SKU or
    style; their photos afterwards."""
    data = await file.read(uploads.max_upload_bytes() + 1)
    items = await run_in_threadpool(
        lambda: photos.add_photo(db_of(request), actor, file.filename, data, **owner)
    )
    return {"items": items}


@router.get(
    "/products/{sku}/photos", response_model=Photos, responses=responses("forbidden", "not_found")
)
async def product_photos(request: Request, sku: str, actor: Actor = can(Action.READ)) -> Any:
    return await _photos_of(request, sku=sku)


@router.post(
    "/products/{sku}/photos",
    response_model=Photos,
    status_code=201,
    responses=responses("forbidden", "not_found"),
)
async def add_product_photo(
    request: Request, sku: str, file: UploadFile = PHOTO_FILE, actor: Actor = can(CATALOG)
) -> Any:
    """Resized to 96, 480 and 1200 pixels a side, upright by its EXIF orientation; the
    product's photos, the new one last."""
    return await _add_photo(request, file, actor, sku=sku)


@router.get(
    "/styles/{code}/photos", response_model=Photos, responses=responses("forbidden", "not_found")
)
async def style_photos(request: Request, code: str, actor: Actor = can(Action.READ)) -> Any:
    return await _photos_of(request, style=code)


@router.post(
    "/styles/{code}/photos",
    response_model=Photos,
    status_code=201,
    responses=responses("forbidden", "not_found"),
)
async def add_style_photo(
    request: Request, code: str, file: UploadFile = PHOTO_FILE, actor: Actor = can(CATALOG)
) -> Any:
    """A photo of the style, shown for its variants that have none of their own."""
    return await _add_photo(request, file, actor, style=code)


@router.delete(
    "/product-photos/{photo_id}",
    response_model=Photos,
    responses=responses("forbidden", "not_found"),
)
async def delete_photo(request: Request, photo_id: str, actor: Actor = can(CATALOG)) -> Any:
    """Its SKU's or style's photos afterwards."""
    items = await run_in_threadpool(photos.delete_photo, db_of(request), actor, photo_id)
    return {"items": items}


@router.post(
    "/product-photos/{photo_id}/first",
    response_model=Photos,
    responses=responses("forbidden", "not_found"),
)
async def first_photo(request: Request, photo_id: str, actor: Actor = can(CATALOG)) -> Any:
    """The photo shown first (order entry, pick lists, the pack screen)."""
    items = await run_in_threadpool(photos.make_first, db_of(request), actor, photo_id)
    return {"items": items}
