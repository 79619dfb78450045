"""Settings → Messages: the shop as messages show it, each message's wording per language
(edit with the errors beside the field, preview with a real order in a sandboxed frame,
reset, test send), and the log of messages sent; and the panel of one order's messages that
the order page loads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.personal_data import masked_items
from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.messaging import admin, channels, ratings, shop, templating
from dingdan.services.messaging.shapes import (
    CustomerChannelCommand,
    PreviewView,
    ProvidersCommand,
    TemplateFields,
    TestSendCommand,
)
from dingdan.services.shared import shop as shared_shop
from dingdan.web.pages.shared.core import Form, PageRoute, User, form_text
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/settings/messages"

KIND_NAMES: dict[str, str] = {
    "order_confirmation": N_("Order confirmation"),
    "payment_received": N_("Payment received"),
    "payment_reminder": N_("Payment reminder (unpaid bank transfer)"),
    "shipped": N_("Shipped"),
    "out_for_delivery": N_("Out for delivery"),
    "delivery_exception": N_("Delivery exception"),
    "choose_store": N_("Pickup store closed: choose another"),
    "delivered": N_("Delivered (with the rating link)"),
    "ready_for_pickup": N_("Ready for pickup at the store (with the pickup code)"),
    "return_approved": N_("Return approved"),
    "return_received": N_("Return received"),
    "refund_issued": N_("Refund issued"),
    "store_credit_issued": N_("Store credit issued"),
    "order_cancelled": N_("Order cancelled"),
}
LOCALE_NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}
SHOP_FIELDS: dict[str, str] = {
    "name": N_("Shop name"),
    "logo_url": N_("Logo address (https://…)"),
    "email": N_("Contact email"),
    "phone": N_("Contact phone"),
    "line_id": N_("LINE ID (e.g. @dingdantea)"),
    "address": N_("Address"),
    "color": N_("Colour (#rrggbb)"),
    "accent_color": N_("Link colour (#rrggbb)"),
    "return_policy": N_("Return policy"),
    "return_address": N_("Return address (where returns are sent)"),
    "bank_name": N_("Bank"),
    "bank_code": N_("Bank code"),
    "account_name": N_("Account name"),
    "account_number": N_("Account number"),
}
STATUS_NAMES = {
    "pending": N_("Waiting to be sent"),
    "sent": N_("Sent"),
    "dead": N_("Failed (no more retries)"),
    "not_configured": N_("Not sent: no mail server set"),
}


def _words(page: Any) -> dict[str, Any]:
    g = page.gettext
    return {
        "kind_name": lambda k: g(KIND_NAMES[k]) if k in KIND_NAMES else k,
        "locale_name": lambda loc: LOCALE_NAMES.get(loc, loc),
        "status_name": lambda s: g(STATUS_NAMES[s]) if s in STATUS_NAMES else s,
        "shop_fields": [(k, g(v)) for k, v in SHOP_FIELDS.items()],
        "provider_fields": [(k, g(v)) for k, v in PROVIDER_FIELDS.items()],
    }


def _status(value: str | None) -> str | None:
    return value if value in admin.STATUSES else None


@router.get(BASE)
def messages_page(request: Request, page: User) -> Response:
    return _messages_page(request, page)


def _messages_page(
    request: Request, page: Any, error: Any = None, typed: dict[str, Any] | None = None
) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    status = _status(request.query_params.get("status"))
    try:
        log = admin.list_messages(db, None, status, 50, request.query_params.get("cursor"))
    except DomainError as exc:
        page.flash_error(exc)
        log = admin.list_messages(db, None, status, 50)
    return page.render(
        "messaging/messages.html",
        status=400 if error else 200,
        shop=typed if typed is not None else shop.get_shop(db),
        providers=channels.get_providers(db),
        templates=admin.list_templates(db)["items"],
        log=log,
        chosen=status,
        statuses=admin.STATUSES,
        base=BASE + (f"?status={status}" if status else ""),
        error=error,
        **_words(page),
    )


@router.post(BASE + "/shop")
def save_shop(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    body = {k: form_text(form, k, shop.FIELDS[k] + 100) or "" for k in shop.FIELDS}
    try:
        shop.put_shop(request.app.state.db, actor, body)
    except DomainError as exc:
        return _messages_page(request, page, error=page.form_error(exc), typed=body)
    page.flash(page.gettext("The shop's details are saved."))
    return page.redirect(BASE)


@router.post(BASE + "/shop/logo")
async def upload_logo(request: Request, page: User, form: Form) -> Response:
    """The shop's logo: checked, resized and served by Dingdan (services/shared/shop.py)."""
    actor = page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    if form_text(form, "remove", 5) == "1":
        await run_in_threadpool(shared_shop.remove_logo, db, actor)
        page.flash(page.gettext("The logo is removed."))
        return page.redirect(BASE)
    upload = (await request.form()).get("logo")
    name, data = None, b""
    if isinstance(upload, UploadFile):
        name, data = upload.filename, await upload.read(shared_shop.LOGO_MAX_BYTES + 1)
    try:
        await run_in_threadpool(shared_shop.set_logo, db, actor, name, data)
    except DomainError as exc:
        error = page.form_error(exc)
        return await run_in_threadpool(_messages_page, request, page, error)
    page.flash(page.gettext("The logo is saved."))
    return page.redirect(BASE)


PROVIDER_FIELDS: dict[str, str] = {
    "line.channel_access_token": N_("LINE channel access token"),
    "sms.account_sid": N_("Twilio account SID"),
    "sms.auth_token": N_("Twilio auth token"),
    "sms.from_number": N_("Twilio sender number"),
}


@router.post(BASE + "/providers")
def save_providers(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    body: ProvidersCommand = {
        "line": {"channel_access_token": form_text(form, "line-channel_access_token", 500)},
        "sms": {
            "account_sid": form_text(form, "sms-account_sid", 500),
            "auth_token": form_text(form, "sms-auth_token", 500),
            "from_number": form_text(form, "sms-from_number", 500),
        },
    }
    try:
        channels.put_providers(request.app.state.db, actor, body)
    except DomainError as exc:
        return _messages_page(request, page, error=page.form_error(exc))
    page.flash(page.gettext("The LINE and SMS providers are saved."))
    return page.redirect(BASE)


@router.post("/messages/{message_id}/retry")
def retry_message(request: Request, message_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    try:
        admin.retry(request.app.state.db, actor, message_id)
        page.flash(page.gettext("Message %(id)s will be sent again.", id=message_id))
    except DomainError as exc:
        page.flash_error(exc)
    back = form_text(form, "back", 200)
    return page.redirect(back if back and back.startswith("/orders/") else BASE)


def _check(kind: str, locale: str) -> None:
    if kind not in templating.KINDS or locale not in templating.LOCALES:
        raise NotFound(detail="No such message.")


@router.get(BASE + "/{kind}/{locale}")
def template_page(request: Request, kind: str, locale: str, page: User) -> Response:
    return _template_page(request, kind, locale, page)


def _template_page(
    request: Request,
    kind: str,
    locale: str,
    page: Any,
    error: Any = None,
    typed: TemplateFields | None = None,
    preview: PreviewView | None = None,
    order: str | None = None,
) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    _check(kind, locale)
    db = request.app.state.db
    template = admin.get_template(db, kind, locale)
    return page.render(
        "messaging/template.html",
        status=400 if error else 200,
        kind=kind,
        locale=locale,
        tpl=template,
        typed=typed
        or {"subject": template["subject"], "text": template["text"], "html": template["html"]},
        preview=preview,
        order=order or "",
        variables=_variables(),
        error=error,
        **_words(page),
    )


def _variables() -> list[str]:
    out = []
    for name, shape in templating.VARIABLES.items():
        if isinstance(shape, dict):
            for field, inner in shape.items():
                if isinstance(inner, list):
                    out.append(f"{name}.{field}[] ({', '.join(inner[0])})")
                else:
                    out.append(f"{name}.{field}")
        else:
            out.append(name)
    return out


@router.post(BASE + "/{kind}/{locale}")
def save_template(request: Request, kind: str, locale: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    _check(kind, locale)
    db = request.app.state.db
    typed: TemplateFields = {
        "subject": form_text(form, "subject", 100_000) or "",
        "text": form_text(form, "text", 100_000) or "",
        "html": form_text(form, "html", 100_000) or "",
    }
    order = form_text(form, "order", 40)
    try:
        if form_text(form, "action", 20) == "preview":
            shown = admin.preview(db, kind, locale, {**typed, "order": order})
            return _template_page(
                request, kind, locale, page, typed=typed, preview=shown, order=order
            )
        admin.put_template(db, actor, kind, locale, typed)
    except DomainError as exc:
        return _template_page(
            request, kind, locale, page, error=page.form_error(exc), typed=typed, order=order
        )
    page.flash(page.gettext("The message is saved."))
    return page.redirect(f"{BASE}/{kind}/{locale}")


@router.post(BASE + "/{kind}/{locale}/reset")
def reset_template(request: Request, kind: str, locale: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    _check(kind, locale)
    admin.reset_template(request.app.state.db, actor, kind, locale)
    page.flash(page.gettext("The message is back to its default wording."))
    return page.redirect(f"{BASE}/{kind}/{locale}")


@router.post(BASE + "/{kind}/{locale}/test")
def test_send(request: Request, kind: str, locale: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_SETTINGS)
    _check(kind, locale)
    body: TestSendCommand = {
        "to": form_text(form, "to", 254),
        "order": form_text(form, "order", 40),
    }
    try:
        admin.test_send(request.app.state.db, actor, kind, locale, body)
    except DomainError as exc:
        return _template_page(
            request, kind, locale, page, error=page.form_error(exc), order=body["order"]
        )
    page.flash(page.gettext("A test message to %(to)s is on its way.", to=body["to"]))
    return page.redirect(f"{BASE}/{kind}/{locale}")


@router.get("/orders/{number}/messages")
def order_messages(request: Request, number: str, page: User) -> Response:
    """The order page's panel (loaded by htmx): what was sent to the customer."""
    page.require(Action.READ)
    log = admin.list_messages(request.app.state.db, number[:40], None, 100)
    log = replace(log, items=masked_items(log.items, page.actor.role, "recipient"))
    partial = bool(request.headers.get("hx-request"))
    return page.render(
        "messaging/order_messages.html" if partial else "messaging/order_messages_page.html",
        number=number,
        log=log,
        rating=ratings.rating_of(request.app.state.db, number[:40]),
        may_retry=page.may(Action.MANAGE_ORDERS),
        **_words(page),
    )


CHANNEL_NAMES = {"email": N_("Email"), "line": "LINE", "sms": N_("SMS (text message)")}


def _channel_panel(request: Request, page: Any, customer_id: str, error: Any = None) -> Response:
    page.require(Action.READ)
    current = channels.get_customer_channel(request.app.state.db, customer_id[:20])
    g = page.gettext
    return page.render(
        "messaging/customer_channel.html",
        status=400 if error else 200,
        current=current,
        names={k: g(v) for k, v in CHANNEL_NAMES.items()},
        may_edit=page.may(Action.MANAGE_ORDERS),
        error=error,
    )


@router.get("/customers/{customer_id}/message-channel")
def customer_channel(request: Request, customer_id: str, page: User) -> Response:
    """The customer page's panel (loaded by htmx): the channel they agreed to."""
    return _channel_panel(request, page, customer_id)


@router.post("/customers/{customer_id}/message-channel")
def save_customer_channel(request: Request, customer_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    body: CustomerChannelCommand = {
        "channel": form_text(form, "channel", 10),
        "line_user_id": form_text(form, "line_user_id", 64),
    }
    try:
        channels.put_customer_channel(request.app.state.db, actor, customer_id[:20], body)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        return _channel_panel(request, page, customer_id, error=page.form_error(exc))
    page.flash(page.gettext("The customer's channel is saved."))
    return page.redirect(f"/customers/{customer_id[:20]}")
