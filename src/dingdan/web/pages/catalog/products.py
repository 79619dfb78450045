"""Products: list with search, create, edit, and import from a CSV or XLSX file (upload,
preview of every row, then confirm: all rows or none)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.catalog.products import TAX_CLASSES
from dingdan.domain.orders.rules import BUILTIN_CHANNELS
from dingdan.domain.shared.errors import DomainError, FieldErrors, ValidationFailed
from dingdan.services.catalog import import_uploads, imports, listings, photos, products, styles
from dingdan.services.catalog.shapes import ChannelListingItem, NewProduct, ProductFields
from dingdan.services.inventory import stock as inventory
from dingdan.services.purchasing import abc
from dingdan.services.shared import uploads
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import MAX_INT, form_amount, form_whole
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CURRENCIES = ("TWD", "HKD", "CNY", "USD", "JPY", "SGD", "MOP")
INTS = ("weight_grams", "low_stock_threshold", "reorder_point")


@router.get("/products")
def product_list(
    request: Request,
    page: User,
    q: str | None = None,
    cursor: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    style: str | None = None,
) -> Response:
    db = request.app.state.db
    q = (q or "").strip()[:200]
    # Filters of the list: a category, a brand (chosen from those products have), a style.
    filters = {
        k: v.strip()[:100]
        for k, v in (("category", category), ("brand", brand), ("style", style))
        if v and v.strip()
    }

    def listed(after: str | None) -> Any:
        return products.list_products(
            db,
            q=q or None,
            category=filters.get("category"),
            brand=filters.get("brand"),
            style=filters.get("style"),
            limit=50,
            cursor=after,
        )

    try:
        result = listed(cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = listed(None)
    block = "results" if request.headers.get("hx-target") == "results" else None
    base = "/products?" + urlencode({**({"q": q} if q else {}), **filters})
    thumbs = photos.thumbnails(db, [p["sku"] for p in result.items])
    return page.render(
        "catalog/products.html",
        block=block,
        result=result,
        q=q,
        base=base,
        filters=filters,
        facets=styles.facets(db),
        thumbs=thumbs,
    )


def _data(form: dict[str, Any]) -> ProductFields:
    """Form fields → the service's product fields (empty optional fields become None)."""
    errors = FieldErrors()
    whole = {
        name: None
        if form_text(form, name) is None
        else form_whole(form, name, errors, maximum=MAX_INT)
        for name in INTS
    }
    errors.raise_if_any()
    low_stock = whole["low_stock_threshold"]
    active = form.get("active", "1")
    data: ProductFields = {
        "name": form_text(form, "name", 300),
        "barcode": form_text(form, "barcode", 64),
        "category": form_text(form, "category", 100),
        "brand": form_text(form, "brand", 100),
        "price": form_amount(form, "price"),
        "currency": form_text(form, "currency", 3),
        "weight_grams": whole["weight_grams"],
        "low_stock_threshold": 0 if low_stock is None else low_stock,
        "reorder_point": whole["reorder_point"],
        "tax_class": form_text(form, "tax_class", 50) or "standard",
        "allow_backorder": form.get("allow_backorder") == "1",
        "active": active == "1" or (isinstance(active, list) and "1" in active),
    }
    if "supplier" in form:  # the preferred supplier's code, on an existing product's form
        data["supplier"] = form_text(form, "supplier", 32)
    return data


def _new(form: dict[str, Any], sku: str | None) -> NewProduct:
    new: NewProduct = {**_data(form), "sku": sku}
    return new


def _form_page(page: Page, product: Mapping[str, Any] | None, values: Mapping[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    db = page.request.app.state.db
    return page.render(
        "catalog/product_form.html",
        product=product,
        v=values,
        currencies=CURRENCIES,
        tax_classes=TAX_CLASSES,
        facets=styles.facets(db),
        photos=photos.photos_of(db, sku=product["sku"]) if product else [],
        # A variant's listings are on its style's page; a simple product's, here.
        listing=listings.sku_listings(db, product["sku"])
        if product and not product.get("style")
        else [],
        builtin_channels=BUILTIN_CHANNELS,
        **{"error": None, "stock": None, "abc_class": None, **kw},
    )


# --- import: declared before /products/{sku}, which would match "import" ----------------

PENDING = "product_import"  # session key: the staged file awaiting confirmation
PREVIEW_ROWS = 300  # good rows listed in a preview; rows with errors are always listed
TEMPLATE_HEADER = ",".join(imports.PRODUCT_COLUMNS)

IMPORT_LABELS = {
    "file": N_("File"),
    "brand": N_("Brand"),
    "tax_class": N_("Tax class"),
    "length_mm": N_("Length (mm)"),
    "width_mm": N_("Width (mm)"),
    "height_mm": N_("Height (mm)"),
    "active": N_("Active"),
    "allow_backorder": N_("Allow backorder"),
}


def import_label(page: Page, field: str) -> str:
    text = IMPORT_LABELS.get(field)
    return str(page.gettext(text)) if text else messages.field_label(page.gettext, field)


def _import_error(page: Page, exc: DomainError) -> dict[str, Any]:
    d = page.error(exc)
    d["fields"] = [
        (import_label(page, e.field), messages.field_message(page.gettext, e)) for e in exc.errors
    ]
    return d


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{n // mb} MB" if n >= mb and n % mb == 0 else f"{max(1, n // 1024)} KB"


def _import_page(page: Page, status: int = 200, **values: Any) -> Response:
    defaults: dict[str, Any] = {"error": None, "preview": None, "token": None, "filename": None}
    return page.render(
        "catalog/products_import.html",
        status=status,
        required=imports.PRODUCT_REQUIRED,
        optional=[c for c in imports.PRODUCT_COLUMNS if c not in imports.PRODUCT_REQUIRED],
        max_size=_size(uploads.max_upload_bytes()),
        max_rows=imports.MAX_UPLOAD_ROWS,
        preview_rows=PREVIEW_ROWS,
        row_error=lambda e: (
            import_label(page, e.field),
            e.field,
            messages.coded_message(page.gettext, e.code, e.params, e.text),
        ),
        **{**defaults, **values},
    )


@router.get("/products/import")
def import_form(page: User) -> Response:
    page.require(Action.MANAGE_CATALOG)
    return _import_page(page)


@router.get("/products/import/template.csv")
def import_template(page: User) -> Response:
    # A BOM so that Excel opens the file as UTF-8 (Chinese names intact).
    return Response(
        "\ufeff" + TEMPLATE_HEADER + "\r\n",
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products-template.csv"'},
    )


async def _uploaded(request: Request) -> tuple[str, bytes]:
    file = (await request.form()).get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ValidationFailed.on("file", "required")
    return file.filename, await file.read(uploads.max_upload_bytes() + 1)


@router.post("/products/import")
async def import_preview(request: Request, page: User, form: Form) -> Response:
    """Check the uploaded file and show what importing it would do; nothing is written."""
    page.require(Action.MANAGE_CATALOG)
    db = request.app.state.db
    try:
        filename, data = await _uploaded(request)
        rows = await run_in_threadpool(imports.read_upload, filename, data)
        preview = await run_in_threadpool(imports.preview_products, db, rows)
    except DomainError as exc:
        return _import_page(page, status_of(exc), error=_import_error(page, exc))
    if preview.errors:
        request.session.pop(PENDING, None)
        return _import_page(page, 422, preview=preview, filename=filename)
    token = await run_in_threadpool(import_uploads.stage_upload, filename, data)
    request.session[PENDING] = {"token": token, "name": filename[:255]}
    return _import_page(page, preview=preview, token=token, filename=filename)


@router.post("/products/import/confirm")
def import_confirm(request: Request, page: User, form: Form) -> Response:
    """Import the previewed file: every row or, if any row is now bad, none."""
    actor = page.require(Action.MANAGE_CATALOG)
    db = request.app.state.db
    pending = request.session.get(PENDING)
    token = form_text(form, "token", 100)
    if not isinstance(pending, dict) or pending.get("token") != token:
        exc = ValidationFailed.on("file", "not_uploaded")
        return _import_page(page, status_of(exc), error=_import_error(page, exc))
    name = str(pending.get("name") or "import")
    try:
        rows = import_uploads.staged_rows(token, name)
        result = imports.import_products(db, actor, rows, source=name)
    except DomainError as exc:
        return _import_page(page, status_of(exc), error=_import_error(page, exc))
    if result.errors:
        preview = imports.preview_products(db, rows)
        return _import_page(page, 422, preview=preview, filename=name)
    request.session.pop(PENDING, None)
    import_uploads.discard_staged(token)
    page.flash(
        page.gettext(
            "Imported %(n)s products from %(file)s: %(created)s created, %(updated)s updated.",
            n=result.imported,
            file=name,
            created=result.created,
            updated=result.updated,
        )
    )
    return page.redirect("/products")


@router.get("/products/new")
def new_product(page: User) -> Response:
    page.require(Action.MANAGE_CATALOG)
    page.require(Action.PRICING)  # a new product's price is set here
    return _form_page(page, None, {"currency": "TWD", "active": True, "tax_class": "standard"})


@router.post("/products")
def create_product(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    sku = form_text(form, "sku", 64)
    return page.attempt(
        lambda: products.create_product(request.app.state.db, actor, _new(form, sku)),
        done=lambda product: page.gettext("Product %(sku)s created.", sku=product["sku"]),
        back="/products/new",
        then=lambda product: f"/products/{quote(product['sku'], safe='')}",
        form_id="product",
        typed={**form, "sku": sku},
        again=lambda status: _form_page(page, None, {**form, "sku": sku}, status=status),
        whole_form=True,
    )


@router.get("/products/{sku}")
def product_detail(request: Request, sku: str, page: User) -> Response:
    db = request.app.state.db
    product = products.get_product(db, sku)
    stock = inventory.stock_of(db, sku)
    return _form_page(page, product, product, stock=stock, abc_class=abc.classes(db, sku))


@router.post("/products/{sku}")
def update_product(request: Request, sku: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    db = request.app.state.db
    product = products.get_product(db, sku)
    return page.attempt(
        lambda: products.update_product(db, actor, sku, _data(form)),
        done=page.gettext("Product %(sku)s saved.", sku=sku),
        back=f"/products/{quote(sku, safe='')}",
        form_id="product",
        typed={**form, "sku": sku},
        again=lambda status: _form_page(
            page, product, {**form, "sku": sku}, status=status, stock=inventory.stock_of(db, sku)
        ),
        whole_form=True,
    )


@router.post("/products/{sku}/listings")
def set_listings(request: Request, sku: str, page: User, form: Form) -> Response:
    """A simple product's listings: on each channel ticked it is sold, with the channel's
    SKU typed beside it (a SKU alias); all channels saved together or none."""
    actor = page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    product = products.get_product(db, sku)
    listed = form.get("listed") or []
    listed = set(listed if isinstance(listed, list) else [listed])
    items: list[ChannelListingItem] = [
        {
            "channel": c["channel"],
            "listed": c["channel"] in listed,
            "channel_sku": form_text(form, f"channel-sku-{n}", 100),
        }
        for n, c in enumerate(listings.sku_listings(db, sku))
    ]

    def rename(name: str) -> str:
        m = re.match(r"^items\[(\d+)\]\.(\w+)", name)
        return f"channel-sku-{m[1]}" if m else name

    return page.attempt(
        lambda: listings.set_sku_listings(db, actor, sku, items),
        done=page.gettext("The listings of %(sku)s are saved.", sku=sku),
        back=f"/products/{quote(sku, safe='')}#listings",
        form_id="sku-listings",
        typed={k: v for k, v in form.items() if isinstance(v, str)},
        again=lambda status: _form_page(
            page, product, product, status=status, stock=inventory.stock_of(db, sku)
        ),
        rename=rename,
    )
