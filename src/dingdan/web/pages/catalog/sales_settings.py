"""Settings of what orders name: sales channels, carriers and tax rates (manage_settings).

Each page lists what the services know (built-ins and defaults beside the seller's own),
creates, changes and switches off; bad input comes back on the page as a 422 with the
fields' messages, and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
)
from dingdan.services.catalog import channel_stock, channels_and_taxes
from dingdan.services.catalog.shapes import ChannelCommand, StockRuleCommand, TaxRateCommand
from dingdan.services.fulfilment import carriers as carriers_admin
from dingdan.services.fulfilment.shapes import CarrierChanges, CarrierCommand
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Longer than the services allow, so that they (not a silent cut) refuse a long value.
TEXT_MAX = 400


def _flag(form: dict[str, Any], name: str) -> bool | None:
    """A yes/no select: "1" or "0"; anything else is left for the service to refuse."""
    value = form_text(form, name, 5)
    return {"1": True, "0": False}.get(value or "")


def _refused(page: Page, exc: DomainError, show: Any, **kw: Any) -> Response:
    """The page again with the error; a duplicate code reads as a message on the code, and
    an unknown record is the not-found page."""
    if isinstance(exc, NotFound):
        raise exc
    duplicate = kw.pop("duplicate", False)
    status = status_of(exc)
    if isinstance(exc, Conflict) and duplicate:
        exc = ValidationFailed(detail=exc.detail, errors=[FieldError.of("code", "already_exists")])
    return show(page, status, error=page.form_error(exc), **kw)


def _change(form: dict[str, Any], edit: str, fields: Callable[[], Mapping[str, object]]) -> Any:
    """What a row's form asks: its ``edit`` fields, or switching the record on or off; any
    other ``do`` is sent as an ``active`` that is not a yes/no, which the service refuses."""
    what = form.get("do")
    if what == edit:
        return fields()
    if what in ("activate", "deactivate"):
        return {"active": what == "activate"}
    return {"active": None}


# ---- channels ----------------------------------------------------------------------------


def _channels_page(page: Page, status: int = 200, **kw: Any) -> Response:
    db = page.request.app.state.db
    return page.render(
        "catalog/settings_channels.html",
        status=status,
        channels=channels_and_taxes.list_channels(db)["items"],
        builtin_names=channels_and_taxes.BUILTIN_CHANNEL_NAMES,
        stock_rules=channel_stock.rule_views(db),
        **{"error": None, "v": {}, "edit": None, **kw},
    )


@router.get("/settings/channels")
def channels(page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _channels_page(page)


@router.post("/settings/channels")
def create_channel(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data: ChannelCommand = {
        "code": form_text(form, "code", TEXT_MAX),
        "name": form_text(form, "name", TEXT_MAX),
        "kind": form_text(form, "kind", 20) or "manual",
        "webhook_secret": form_text(form, "webhook_secret", 200),
    }
    try:
        channels_and_taxes.create_channel(request.app.state.db, actor, data)
    except DomainError as exc:
        return _refused(page, exc, _channels_page, v=form, duplicate=True)
    page.flash(page.gettext("Sales channel %(code)s created.", code=data["code"]))
    return page.redirect("/settings/channels")


@router.post("/settings/channels/{code}")
def update_channel(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data = _change(
        form,
        "rename",
        lambda: {
            "name": form_text(form, "name", TEXT_MAX),
            "pick_priority": _priority(form_text(form, "pick_priority", 20)),
        },
    )
    try:
        channels_and_taxes.update_channel(request.app.state.db, actor, code, data)
    except DomainError as exc:
        return _refused(page, exc, _channels_page, edit={"code": code, **form})
    page.flash(page.gettext("Sales channel %(code)s saved.", code=code))
    return page.redirect("/settings/channels")


def _priority(text: str | None) -> Any:
    """The pick priority as typed: a whole number, none (the default), or the text itself
    for the service to refuse."""
    if text is None:
        return None
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else text


def _names(text: str | None) -> list[str] | None:
    """SKUs or location codes as typed (commas, spaces or lines between them); none: all."""
    names = [n for n in re.split(r"[\s,，、]+", text or "") if n]
    return names or None


@router.post("/settings/channels/{code}/stock")
def set_channel_stock(request: Request, code: str, page: User, form: Form) -> Response:
    """What the channel may sell: its buffer and the SKUs and locations it sells from."""
    actor = page.require(Action.MANAGE_SETTINGS)
    raw = form_text(form, "buffer", 20) or "0"
    data: StockRuleCommand = {
        "buffer_kind": form_text(form, "buffer_kind", 10) or "units",
        # Whole ASCII digits only ("²" is a digit to str.isdigit): else the service says why.
        "buffer": int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else raw,
        "skus": _names(form_text(form, "skus", 70_000)),
        "locations": _names(form_text(form, "locations", 35_000)),
    }
    try:
        channel_stock.set_rule(request.app.state.db, actor, code, data)
    except DomainError as exc:
        return _refused(page, exc, _channels_page, edit={"code": code, "stock": "1", **form})
    page.flash(page.gettext("Stock offered by %(code)s saved.", code=code))
    return page.redirect("/settings/channels")


# ---- carriers ----------------------------------------------------------------------------


def _carriers_page(page: Page, status: int = 200, **kw: Any) -> Response:
    db = page.request.app.state.db
    return page.render(
        "fulfilment/settings_carriers.html",
        status=status,
        carriers=carriers_admin.list_carriers(db)["items"],
        formats=sorted(carriers_admin.TRACKING_FORMATS.items()),
        **{"error": None, "v": {}, "edit": None, "new_secret": None, **kw},
    )


def _carrier_fields(form: dict[str, Any]) -> CarrierChanges:
    return {
        "name": form_text(form, "name", TEXT_MAX),
        "tracking_format": form_text(form, "tracking_format", TEXT_MAX),
        "tracking_url": form_text(form, "tracking_url", TEXT_MAX),
        "store_pickup": form.get("store_pickup") == "1",
    }


@router.get("/settings/carriers")
def carriers(page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _carriers_page(page)


@router.post("/settings/carriers")
def create_carrier(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    data: CarrierCommand = {"code": form_text(form, "code", TEXT_MAX), **_carrier_fields(form)}
    try:
        carriers_admin.create_carrier(request.app.state.db, actor, data)
    except DomainError as exc:
        return _refused(page, exc, _carriers_page, v=form, duplicate=True)
    page.flash(page.gettext("Carrier %(code)s created.", code=data["code"]))
    return page.redirect("/settings/carriers")


@router.post("/settings/carriers/{code}")
def update_carrier(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    if form.get("do") == "webhook_secret":
        # Shown once, on this page: never flashed into the session cookie.
        made = carriers_admin.set_webhook_secret(request.app.state.db, actor, code)
        return _carriers_page(page, new_secret=made)
    data = _change(form, "edit", lambda: _carrier_fields(form))
    try:
        carriers_admin.update_carrier(request.app.state.db, actor, code, data)
    except DomainError as exc:
        return _refused(page, exc, _carriers_page, edit={"code": code, **form})
    page.flash(page.gettext("Carrier %(code)s saved.", code=code))
    return page.redirect("/settings/carriers")


# ---- tax rates ---------------------------------------------------------------------------


def _taxes_page(page: Page, status: int = 200, **kw: Any) -> Response:
    db = page.request.app.state.db
    return page.render(
        "catalog/settings_taxes.html",
        status=status,
        rates=channels_and_taxes.list_tax_rates(db)["items"],
        classes=channels_and_taxes.SETTABLE_TAX_CLASSES,
        **{"error": None, "v": {}, "edit": None, **kw},
    )


@router.get("/settings/taxes")
def taxes(page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _taxes_page(page)


@router.post("/settings/taxes")
def set_tax_rate(request: Request, page: User, form: Form) -> Response:
    """A rate of the seller's own for a country and class (new, or replacing one)."""
    actor = page.require(Action.MANAGE_SETTINGS)
    country = (form_text(form, "country", 10) or "").upper()
    tax_class = form_text(form, "tax_class", 30) or ""
    rate = (form_text(form, "rate", 30) or "").removesuffix("%").strip()
    data: TaxRateCommand = {"rate": rate, "prices_include_tax": _flag(form, "prices_include_tax")}
    try:
        channels_and_taxes.set_tax_rate(request.app.state.db, actor, country, tax_class, data)
    except DomainError as exc:
        key = form_text(form, "key", 40)
        return _refused(page, exc, _taxes_page, **({"edit": form} if key else {"v": form}))
    page.flash(
        page.gettext(
            "Tax rate for %(country)s, %(tax_class)s saved.",
            country=page.fmt.country(country),
            tax_class=messages.label(page.gettext, tax_class),
        )
    )
    return page.redirect("/settings/taxes")


@router.post("/settings/taxes/{country}/{tax_class}/delete")
def delete_tax_rate(
    request: Request, country: str, tax_class: str, page: User, form: Form
) -> Response:
    """Removes the seller's rate: the default applies again."""
    actor = page.require(Action.MANAGE_SETTINGS)
    channels_and_taxes.delete_tax_rate(request.app.state.db, actor, country, tax_class)
    page.flash(page.gettext("The default tax rate applies again."))
    return page.redirect("/settings/taxes")
