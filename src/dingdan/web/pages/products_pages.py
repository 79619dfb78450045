"""Products: list with search, create, and edit."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.catalog import TAX_CLASSES
from dingdan.domain.errors import DomainError, ValidationFailed
from dingdan.domain.roles import Action
from dingdan.services import catalog, inventory
from dingdan.web.pages.core import Form, Page, PageRoute, User, form_text

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


def _form_page(page: Page, product: dict[str, Any] | None, values: dict[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    return page.render(
        "product_form.html",
        product=product,
        v=values,
        currencies=CURRENCIES,
        tax_classes=TAX_CLASSES,
        **{"error": None, "stock": None, **kw},
    )


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
