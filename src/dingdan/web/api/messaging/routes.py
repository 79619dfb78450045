"""Customer messages: the log and a retry; the templates (read, save, reset, preview, test
send); the shop's name, logo, contact and bank account the messages carry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import masked_items
from dingdan.domain.access.roles import Action
from dingdan.services.messaging import admin, channels, shop
from dingdan.services.messaging.shapes import (
    CustomerChannelCommand,
    CustomerChannelView,
    MessageView,
    PreviewCommand,
    PreviewView,
    ProvidersCommand,
    ProvidersView,
    TemplateFields,
    TemplateView,
    TestSendCommand,
)
from dingdan.services.messaging.shapes import TemplateList as TemplateListView
from dingdan.services.shared.common import Actor
from dingdan.web.api.messaging.schemas import (
    CustomerChannel,
    CustomerChannelIn,
    Message,
    MessagePage,
    Preview,
    PreviewIn,
    Providers,
    ProvidersIn,
    Shop,
    Template,
    TemplateIn,
    TemplateList,
    TestSendIn,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["messages"])
TEMPLATE = "/message-templates/{kind}/{locale}"


@router.get("/messages", response_model=MessagePage, responses=responses("forbidden"))
async def list_messages(
    request: Request,
    order: str | None = Query(None, max_length=40, description="An order's number"),
    status: str | None = Query(
        None, max_length=20, description="pending, sent, dead, not_configured"
    ),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        admin.list_messages, db_of(request), order, status, limit, cursor
    )
    return {**page.as_dict(), "items": masked_items(page.items, actor.role, "recipient")}


@router.post(
    "/messages/{message_id}/retry",
    response_model=Message,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def retry_message(
    request: Request, message_id: str, actor: Actor = can(Action.MANAGE_ORDERS)
) -> MessageView:
    return await run_in_threadpool(admin.retry, db_of(request), actor, message_id)


@router.get("/message-templates", response_model=TemplateList, responses=responses("forbidden"))
async def list_templates(request: Request, actor: Actor = can(Action.READ)) -> TemplateListView:
    return await run_in_threadpool(admin.list_templates, db_of(request))


@router.get(TEMPLATE, response_model=Template, responses=responses("forbidden", "not_found"))
async def get_template(
    request: Request, kind: str, locale: str, actor: Actor = can(Action.READ)
) -> TemplateView:
    return await run_in_threadpool(admin.get_template, db_of(request), kind, locale)


@router.put(TEMPLATE, response_model=Template, responses=responses("forbidden", "not_found"))
async def put_template(
    request: Request,
    kind: str,
    locale: str,
    body: TemplateIn,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> TemplateView:
    """Checked before it is saved: a syntax error, a variable not documented or a sandbox
    escape is a 422 naming the field."""
    cmd = command(TemplateFields, body)
    return await run_in_threadpool(admin.put_template, db_of(request), actor, kind, locale, cmd)


@router.delete(TEMPLATE, response_model=Template, responses=responses("forbidden", "not_found"))
async def reset_template(
    request: Request, kind: str, locale: str, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> TemplateView:
    """Back to the default wording that ships with Dingdan."""
    return await run_in_threadpool(admin.reset_template, db_of(request), actor, kind, locale)


@router.post(
    TEMPLATE + "/preview", response_model=Preview, responses=responses("forbidden", "not_found")
)
async def preview_template(
    request: Request, kind: str, locale: str, body: PreviewIn, actor: Actor = can(Action.READ)
) -> PreviewView:
    cmd = command(PreviewCommand, body, exclude_none=True)
    return await run_in_threadpool(admin.preview, db_of(request), kind, locale, cmd)


@router.post(
    TEMPLATE + "/test",
    response_model=Message,
    status_code=202,
    responses=responses("forbidden", "not_found"),
)
async def test_send(
    request: Request,
    kind: str,
    locale: str,
    body: TestSendIn,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> MessageView:
    """Queues the message (filled with the newest order, or ``order``) to ``to``."""
    cmd = command(TestSendCommand, body, exclude_none=True)
    return await run_in_threadpool(admin.test_send, db_of(request), actor, kind, locale, cmd)


@router.get("/settings/shop", response_model=Shop, responses=responses("forbidden"))
async def get_shop(request: Request, actor: Actor = can(Action.READ)) -> dict[str, Any]:
    return await run_in_threadpool(shop.get_shop, db_of(request))


@router.put("/settings/shop", response_model=Shop, responses=responses("forbidden"))
async def put_shop(
    request: Request, body: Shop, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> dict[str, Any]:
    """The shop's name, logo, colours, contact, return policy and address and bank account,
    as customer messages, the tracking page and packing slips show them."""
    return await run_in_threadpool(shop.put_shop, db_of(request), actor, body.model_dump())


@router.get(
    "/settings/message-providers", response_model=Providers, responses=responses("forbidden")
)
async def get_providers(
    request: Request, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> ProvidersView:
    return await run_in_threadpool(channels.get_providers, db_of(request))


@router.put(
    "/settings/message-providers", response_model=Providers, responses=responses("forbidden")
)
async def put_providers(
    request: Request, body: ProvidersIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> ProvidersView:
    """LINE (a channel access token) and SMS (Twilio: account SID, auth token, sender
    number). A secret left out or sent back as shown ("••••") is kept."""
    cmd = command(ProvidersCommand, body, exclude_none=True)
    return await run_in_threadpool(channels.put_providers, db_of(request), actor, cmd)


@router.get(
    "/customers/{customer_id}/message-channel",
    response_model=CustomerChannel,
    responses=responses("forbidden", "not_found"),
)
async def get_customer_channel(
    request: Request, customer_id: str, actor: Actor = can(Action.READ)
) -> CustomerChannelView:
    """The LINE user id is masked for roles that may not manage orders."""
    found = await run_in_threadpool(channels.get_customer_channel, db_of(request), customer_id)
    if found["line_user_id"] and not actor.may(Action.MANAGE_ORDERS):
        found["line_user_id"] = "••••"
    return found


@router.put(
    "/customers/{customer_id}/message-channel",
    response_model=CustomerChannel,
    responses=responses("forbidden", "not_found"),
)
async def put_customer_channel(
    request: Request,
    customer_id: str,
    body: CustomerChannelIn,
    actor: Actor = can(Action.MANAGE_ORDERS),
) -> CustomerChannelView:
    """The channel the customer agreed to hear from the shop by: email (the default), line
    (to their LINE user id) or sms (to the phone of each order)."""
    cmd = command(CustomerChannelCommand, body)
    return await run_in_threadpool(
        channels.put_customer_channel, db_of(request), actor, customer_id, cmd
    )
