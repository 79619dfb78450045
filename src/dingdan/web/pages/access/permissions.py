"""Settings: what each role may do (manage_users). The role table gives the defaults; an
admin's changes are stored as differences (services/access/permissions.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import PERMISSIONS, Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import permissions
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# What each permission lets a person do, as the settings page says it.
ACTION_LABELS: dict[str, str] = {
    Action.READ: N_("See orders, stock and reports"),
    Action.MANAGE_USERS: N_("Users, API tokens and permissions"),
    Action.MANAGE_SETTINGS: N_("Settings: locations, channels, carriers, taxes"),
    Action.MANAGE_CATALOG: N_("Products (everything but the price)"),
    Action.PRICING: N_("Prices: a product's price, order lines below it"),
    Action.MANAGE_STOCK: N_("Stock: receipts, adjustments, transfers"),
    Action.MANAGE_ORDERS: N_("Create, edit and cancel orders; notes"),
    Action.FULFIL: N_("Pick, pack, ship and deliver"),
    Action.MANAGE_RETURNS: N_("Returns and disputes"),
    Action.RECEIVE_RETURNS: N_("Receive returned goods"),
    Action.RECORD_PAYMENTS: N_("Record payments received (bank transfer, cash)"),
    Action.MANAGE_PAYMENTS: N_("Refunds, card payments, COD remittances"),
    Action.VIEW_AUDIT: N_("Read the audit trail"),
    Action.EXPORT_CUSTOMERS: N_("Export a customer's personal data"),
    Action.ERASE_CUSTOMERS: N_("Erase a customer's personal data"),
    Action.MANAGE_PURCHASING: N_("Suppliers, purchase orders and receiving them"),
    Action.DELIVER_RUNS: N_("Deliver the stops of delivery runs, hand in the cash"),
}


def _page(page: Page, status: int = 200, **kw: Any) -> Response:
    return page.render(
        "access/permissions.html",
        status=status,
        table=permissions.table(page.request.app.state.db),
        action_label=lambda a: page._(ACTION_LABELS[a]),
        **{"error": None, **kw},
    )


@router.get("/settings/permissions")
def show(page: User) -> Response:
    page.require(Action.MANAGE_USERS)
    return _page(page)


@router.post("/settings/permissions")
def save(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_USERS)
    role = form_text(form, "role", 30)
    chosen = form.get("actions") or []
    chosen = [chosen] if isinstance(chosen, str) else chosen
    if form.get("do") == "reset":
        chosen = [a.value for a in PERMISSIONS.get(role, ())]  # type: ignore[call-overload]
    try:
        permissions.set_role_permissions(request.app.state.db, actor, role, chosen)
    except DomainError as exc:
        return _page(page, status_of(exc), error=page.error(exc))
    role_name = messages.label(page.gettext, role)
    page.flash(page.gettext("Permissions of %(role)s saved.", role=role_name))
    return page.redirect("/settings/permissions")
