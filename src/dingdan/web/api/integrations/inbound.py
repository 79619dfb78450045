"""Inbound channel webhooks (issue 21): ``POST /hooks/{channel_code}`` (no bearer token: the
signature is the authentication), the inbound log, retries and SKU aliases."""

from __future__ import annotations

import time

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.integrations import inbound
from dingdan.services.integrations import shapes as integrations
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(tags=["inbound"])
ORDERS = Action.MANAGE_ORDERS


class InboundDelivery(View):
    id: int
    channel: str
    topic: str
    external_id: str | None
    status: str
    order: str | None
    reason: str | None
    received_at: str | None


class HookAnswer(View):
    status: str = Field(description="accepted, duplicate, needs_attention, rejected or ping")
    order: str | None = None
    reason: str | None = None


class InboundPage(View):
    items: list[InboundDelivery]
    next_cursor: None = None


class AliasIn(Strict):
    channel_sku: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=64)


class Alias(View):
    channel: str
    channel_sku: str
    sku: str


@router.post(
    "/hooks/{channel_code}",
    response_model=HookAnswer,
    responses=responses("unauthorized", "not_found"),
)
async def receive_hook(request: Request, channel_code: str) -> integrations.HookAnswer:
    """A channel's delivery; 200 once it is kept (a delivery seen before: 200, nothing new)."""
    body = await request.body()
    headers = dict(request.headers)
    return await run_in_threadpool(
        inbound.receive, db_of(request), channel_code, headers, body, time.time()
    )


@router.get("/api/v1/inbound", response_model=InboundPage, responses=responses("forbidden"))
async def list_inbound(
    request: Request,
    channel: str | None = Query(default=None, max_length=32),
    status: str | None = Query(default=None, max_length=20),
    actor: Actor = can(ORDERS),
) -> integrations.InboundList:
    return await run_in_threadpool(
        lambda: inbound.list_deliveries(db_of(request), channel=channel, status=status)
    )


@router.post(
    "/api/v1/inbound/{delivery_id}/retry",
    response_model=InboundDelivery,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def retry_inbound(
    request: Request, delivery_id: int, actor: Actor = can(ORDERS)
) -> integrations.InboundDeliveryView:
    return await run_in_threadpool(inbound.retry, db_of(request), actor, delivery_id)


class AddressIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(min_length=2, max_length=2)
    phone: str | None = Field(default=None, max_length=40)


class AddressOut(View):
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


@router.put(
    "/api/v1/inbound/{delivery_id}/address",
    response_model=AddressOut,
    responses=responses("forbidden", "not_found"),
)
async def set_inbound_address(
    request: Request, delivery_id: int, body: AddressIn, actor: Actor = can(ORDERS)
) -> integrations.AddressView:
    """The shipping address a retry of this delivery uses instead of the channel's."""
    address = command(integrations.AddressCommand, body)
    return await run_in_threadpool(inbound.set_address, db_of(request), actor, delivery_id, address)


@router.put(
    "/api/v1/channels/{channel}/sku-aliases",
    response_model=Alias,
    responses=responses("forbidden"),
)
async def set_alias(
    request: Request, channel: str, body: AliasIn, actor: Actor = can(ORDERS)
) -> integrations.AliasView:
    """Maps a channel's SKU to a Dingdan SKU (for its deliveries and imports)."""
    return await run_in_threadpool(
        inbound.set_alias, db_of(request), actor, channel, body.channel_sku, body.sku
    )
