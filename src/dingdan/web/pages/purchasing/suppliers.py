"""Suppliers: the list, a new supplier, a supplier's page (its details and the products it
supplies, with their SKU and cost; one of them may be made the preferred supplier)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.purchasing import suppliers
from dingdan.services.purchasing.shapes import SupplierCommand, SupplierProductCommand
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_TEXT = {"name": 200, "email": 254, "phone": 30, "contact": 200, "payment_terms": 100}


def supplier_body(form: dict[str, Any], *, creating: bool) -> SupplierCommand:
    """The service's body from the supplier form; whole numbers read here (their errors
    beside their fields), text and money as typed (the service checks them)."""
    errors = FieldErrors()
    body: SupplierCommand = {
        "name": form_text(form, "name", _TEXT["name"]),
        "email": form_text(form, "email", _TEXT["email"]),
        "phone": form_text(form, "phone", _TEXT["phone"]),
        "contact": form_text(form, "contact", _TEXT["contact"]),
        "payment_terms": form_text(form, "payment_terms", _TEXT["payment_terms"]),
    }
    if creating:
        body["code"] = form_text(form, "code", 32)
    body["currency"] = (form_text(form, "currency", 3) or "").upper() or None
    body["language"] = form_text(form, "language", 10) or "en"
    body["minimum_order"] = form_text(form, "minimum_order", 30)
    body["lead_time_days"] = form_whole(form, "lead_time_days", errors, maximum=3650)
    body["minimum_order_quantity"] = form_whole(form, "minimum_order_quantity", errors, blank=0)
    body["pack_size"] = form_whole(form, "pack_size", errors, minimum=1, blank=1)
    body["active"] = form.get("active") == "1" if not creating else True
    errors.raise_if_any()
    return body


@router.get("/suppliers")
def supplier_list(request: Request, page: User, cursor: str | None = None) -> Response:
    return _list(page, cursor)


def _list(page: Page, cursor: str | None = None, status: int = 200) -> Response:
    db = page.request.app.state.db
    try:
        result = suppliers.list_suppliers(db, limit=100, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = suppliers.list_suppliers(db, limit=100)
    return page.render("purchasing/suppliers.html", status=status, result=result)


@router.post("/suppliers")
def create_supplier(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    return page.attempt(
        lambda: suppliers.create_supplier(
            request.app.state.db, actor, supplier_body(form, creating=True)
        ),
        done=page.gettext("Supplier created."),
        back="/suppliers",
        then=lambda s: f"/suppliers/{quote(s['code'], safe='')}",
        form_id="supplier",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _list(page, status=status),
        whole_form=True,
    )


@router.get("/suppliers/{code}")
def supplier_page(request: Request, code: str, page: User) -> Response:
    return _detail(page, code)


def _detail(page: Page, code: str, status: int = 200) -> Response:
    db = page.request.app.state.db
    supplier = suppliers.get_supplier(db, code)
    return page.render(
        "purchasing/supplier.html",
        status=status,
        s=supplier,
        links=suppliers.supplier_products(db, code)["items"],
    )


@router.post("/suppliers/{code}")
def update_supplier(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    here = f"/suppliers/{quote(code, safe='')}"
    return page.attempt(
        lambda: suppliers.update_supplier(
            request.app.state.db, actor, code, supplier_body(form, creating=False)
        ),
        done=page.gettext("Supplier saved."),
        back=here,
        form_id="supplier",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _detail(page, code, status),
    )


@router.post("/suppliers/{code}/products")
def link_product(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    sku = form_text(form, "sku", 64) or ""
    body: SupplierProductCommand = {
        "supplier_sku": form_text(form, "supplier_sku", 64),
        "cost": form_text(form, "cost", 30),
        "preferred": form.get("preferred") == "1",
    }
    here = f"/suppliers/{quote(code, safe='')}"
    return page.attempt(
        lambda: suppliers.put_supplier_product(request.app.state.db, actor, code, sku, body),
        done=page.gettext("Product saved for this supplier."),
        back=here,
        form_id="link",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _detail(page, code, status),
    )
