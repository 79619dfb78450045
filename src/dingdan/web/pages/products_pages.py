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

from dingdan.domain.catalog import TAX_CLASSES
from dingdan.domain.errors import DomainError, ValidationFailed
from dingdan.domain.roles import Action
from dingdan.services import catalog, import_uploads, imports, inventory, uploads
from dingdan.web.pages import messages
from dingdan.web.pages.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CURRENCIES = ("TWD", "HKD", "CNY", "USD", "JPY", "SGD", "MOP")
INTS = ("weight_grams", "low_stock_threshold")
TEXTS = {"name": 300, "barcode": 64, "category": 100, "brand": 100, "price": 30, "currency": 3}


@router.get("/products")
def product_list(
    request: Request, page: User, q: str | None = None, cursor: str | None = None
) -> Response:
    db = request.app.state.db
    q = (q or "").strip()[:200]
    try:
        result = catalog.list_products(db, q=q or None, limit=50, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = catalog.list_products(db, q=q or None, limit=50)
    block = "results" if request.headers.get("hx-target") == "results" else None
    base = "/products?" + urlencode({"q": q} if q else {})
    return page.render("products.html", block=block, result=result, q=q, base=base)


def _data(form: dict[str, Any]) -> dict[str, Any]:
    """Form fields → the service's product fields (empty optional fields become None)."""
    data: dict[str, Any] = {k: form_text(form, k, n) for k, n in TEXTS.items()}
    errors = []
    for name in INTS:
        text = form_text(form, name, 12)
        try:
            data[name] = int(text) if text else None
        except ValueError:
            errors.append(name)
    if errors:
        raise ValidationFailed.on(errors[0], "must be a whole number")
    if data["low_stock_threshold"] is None:
        data["low_stock_threshold"] = 0
    data["tax_class"] = form_text(form, "tax_class", 50) or "standard"
    data["allow_backorder"] = form.get("allow_backorder") == "1"
    active = form.get("active", "1")
    data["active"] = active == "1" or (isinstance(active, list) and "1" in active)
    return data


def _form_page(page: Page, product: Mapping[str, Any] | None, values: Mapping[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    return page.render(
        "product_form.html",
        product=product,
        v=values,
        currencies=CURRENCIES,
        tax_classes=TAX_CLASSES,
        **{"error": None, "stock": None, **kw},
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

# What the import service says about a file or a row, and what it says in our catalogs.
IMPORT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^must be a \.csv or \.xlsx file"), N_("must be a .csv or .xlsx file")),
    (re.compile(r"is not UTF-8 text"), N_("is not UTF-8 text: save the CSV as CSV UTF-8")),
    (re.compile(r"is not valid CSV"), N_("is not a valid CSV file")),
    (re.compile(r"is not a readable \.xlsx workbook"), N_("is not a readable .xlsx workbook")),
    (re.compile(r"cannot be read"), N_("cannot be read")),
    (re.compile(r"^column (?P<c>.+) appears twice$"), N_("column %(c)s appears twice")),
    (re.compile(r"^has no data rows$"), N_("has no data rows")),
    (re.compile(r"^is empty$"), N_("is empty")),
    (
        re.compile(r"^is missing the column\(s\) (?P<c>.+)$"),
        N_("is missing the column(s) %(c)s"),
    ),
    (
        re.compile(r"^has unknown column\(s\) (?P<c>.+); the columns are (?P<k>.+)$"),
        N_("has unknown column(s) %(c)s; the columns are %(k)s"),
    ),
    (re.compile(r"^is larger than (?P<n>\d+) bytes$"), N_("is larger than %(n)s bytes")),
    (
        re.compile(r"^has more than (?P<n>\d+) rows"),
        N_("has more than %(n)s rows; split it into smaller files"),
    ),
    (
        re.compile(r"^needs a file name"),
        N_("needs a file name of at most 255 characters"),
    ),
    (
        re.compile(r"^was not uploaded"),
        N_("was not uploaded or has expired; choose the file again"),
    ),
    (
        re.compile(r"^must be a whole number, zero or more$"),
        N_("must be a whole number, zero or more"),
    ),
    (re.compile(r"^is too large$"), N_("is too large")),
    (re.compile(r"^must be true/false"), N_("must be true/false, yes/no, 1/0 or 是/否")),
    (
        re.compile(r"^(?P<v>.+) appears again \(first on row (?P<n>\d+)\)$"),
        N_("%(v)s appears again (first on row %(n)s)"),
    ),
    (
        re.compile(r"^must be 1-64 letters"),
        N_("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ),
    (re.compile(r"^must not be empty$"), N_("must not be empty")),
    (
        re.compile(r"^must be at most (?P<n>\d+) characters$"),
        N_("must be at most %(n)s characters"),
    ),
    (
        re.compile(r"^must not contain control characters"),
        N_("must not contain control characters"),
    ),
    (re.compile(r"^must be an ISO 4217 currency code"), N_("must be a currency code such as TWD")),
]


def import_message(page: Page, message: str) -> str:
    for pattern, msgid in IMPORT_PATTERNS:
        match = pattern.search(message)
        if match:
            return str(page.gettext(msgid, **match.groupdict()))
    return messages.field_message(page.gettext, message)


def import_label(page: Page, field: str) -> str:
    text = IMPORT_LABELS.get(field)
    return str(page.gettext(text)) if text else messages.field_label(page.gettext, field)


def _import_error(page: Page, exc: DomainError) -> dict[str, Any]:
    d = page.error(exc)
    d["fields"] = [
        (import_label(page, e.field), import_message(page, e.message)) for e in exc.errors
    ]
    return d


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{n // mb} MB" if n >= mb and n % mb == 0 else f"{max(1, n // 1024)} KB"


def _import_page(page: Page, status: int = 200, **values: Any) -> Response:
    defaults: dict[str, Any] = {"error": None, "preview": None, "token": None, "filename": None}
    return page.render(
        "products_import.html",
        status=status,
        required=imports.PRODUCT_REQUIRED,
        optional=[c for c in imports.PRODUCT_COLUMNS if c not in imports.PRODUCT_REQUIRED],
        max_size=_size(uploads.max_upload_bytes()),
        max_rows=imports.MAX_UPLOAD_ROWS,
        preview_rows=PREVIEW_ROWS,
        row_error=lambda e: (import_label(page, e.field), e.field, import_message(page, e.text)),
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
        raise ValidationFailed.on("file", "is required")
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
        return _import_page(page, 422, error=_import_error(page, exc))
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
        exc = ValidationFailed.on("file", "was not uploaded; choose the file again")
        return _import_page(page, 422, error=_import_error(page, exc))
    name = str(pending.get("name") or "import")
    try:
        rows = import_uploads.staged_rows(token, name)
        result = imports.import_products(db, actor, rows, source=name)
    except DomainError as exc:
        return _import_page(page, 422, error=_import_error(page, exc))
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
    return _form_page(page, None, {"currency": "TWD", "active": True, "tax_class": "standard"})


@router.post("/products")
def create_product(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    values = {**form, "sku": form_text(form, "sku", 64)}
    try:
        data = {**_data(form), "sku": values["sku"]}
        product = catalog.create_product(request.app.state.db, actor, data)
    except DomainError as exc:
        return _form_page(page, None, values, status=422, error=page.error(exc))
    page.flash(page.gettext("Product %(sku)s created.", sku=product["sku"]))
    return page.redirect(f"/products/{quote(product['sku'], safe='')}")


@router.get("/products/{sku}")
def product_detail(request: Request, sku: str, page: User) -> Response:
    db = request.app.state.db
    product = catalog.get_product(db, sku)
    return _form_page(page, product, product, stock=inventory.stock_of(db, sku))


@router.post("/products/{sku}")
def update_product(request: Request, sku: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_CATALOG)
    db = request.app.state.db
    product = catalog.get_product(db, sku)
    try:
        catalog.update_product(db, actor, sku, _data(form))
    except DomainError as exc:
        values = {**form, "sku": sku}
        stock = inventory.stock_of(db, sku)
        return _form_page(page, product, values, status=422, error=page.error(exc), stock=stock)
    page.flash(page.gettext("Product %(sku)s saved.", sku=sku))
    return page.redirect(f"/products/{quote(sku, safe='')}")
