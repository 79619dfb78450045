"""Outgoing webhooks (Standard Webhooks v1): endpoints, their deliveries, replay. Only those
who manage settings (admin, manager) see or change them: a delivery holds an order's
customer, and an endpoint's URL may carry a token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.integrations import deliveries, webhooks
from dingdan.services.integrations import shapes as integrations
from dingdan.services.shared.common import Actor
from dingdan.web.api.integrations.schemas import (
    DeliveryDetail,
    DeliveryPage,
    Webhook,
    WebhookIn,
    WebhookList,
    WebhookPatch,
    WebhookWithSecret,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
MANAGE = Action.MANAGE_SETTINGS
FOUND = ("forbidden", "not_found")


@router.post(
    "/webhooks",
    response_model=WebhookWithSecret,
    status_code=201,
    responses=responses("forbidden"),
)
async def create_webhook(
    request: Request, body: WebhookIn, actor: Actor = can(MANAGE)
) -> integrations.EndpointView:
    """The answer holds the endpoint's signing secret: the only time it is shown."""
    data = command(integrations.NewEndpoint, body)
    return await run_in_threadpool(webhooks.create_endpoint, db_of(request), actor, data)


@router.get("/webhooks", response_model=WebhookList, responses=responses("forbidden"))
async def list_webhooks(request: Request, actor: Actor = can(MANAGE)) -> integrations.EndpointList:
    return await run_in_threadpool(webhooks.list_endpoints, db_of(request))


@router.get("/webhooks/{webhook_id}", response_model=Webhook, responses=responses(*FOUND))
async def get_webhook(
    request: Request, webhook_id: str, actor: Actor = can(MANAGE)
) -> integrations.EndpointView:
    return await run_in_threadpool(webhooks.get_endpoint, db_of(request), webhook_id)


@router.patch("/webhooks/{webhook_id}", response_model=Webhook, responses=responses(*FOUND))
async def update_webhook(
    request: Request, webhook_id: str, body: WebhookPatch, actor: Actor = can(MANAGE)
) -> integrations.EndpointView:
    """``status`` "active" enables an endpoint again (after a 410, say): the deliveries
    that waited are sent."""
    data = command(integrations.EndpointChanges, body, exclude_unset=True)
    return await run_in_threadpool(
        webhooks.update_endpoint, db_of(request), actor, webhook_id, data
    )


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    response_class=Response,
    responses=responses(*FOUND),
)
async def delete_webhook(request: Request, webhook_id: str, actor: Actor = can(MANAGE)) -> Response:
    await run_in_threadpool(webhooks.delete_endpoint, db_of(request), actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    responses=responses(*FOUND),
)
async def rotate_webhook_secret(
    request: Request, webhook_id: str, actor: Actor = can(MANAGE)
) -> integrations.EndpointView:
    """A new secret (shown here only); the previous one signs too for 24 hours."""
    return await run_in_threadpool(webhooks.rotate_secret, db_of(request), actor, webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    responses=responses(*FOUND),
)
async def list_webhook_deliveries(
    request: Request,
    webhook_id: str,
    status: str | None = Query(None, max_length=20, description="pending, delivered or dead"),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(MANAGE),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        deliveries.list_deliveries, db_of(request), webhook_id, status, limit, cursor
    )
    return page.as_dict()


@router.get(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    responses=responses(*FOUND),
)
async def get_webhook_delivery(
    request: Request, webhook_id: str, delivery_id: str, actor: Actor = can(MANAGE)
) -> integrations.DeliveryDetail:
    return await run_in_threadpool(deliveries.get_delivery, db_of(request), webhook_id, delivery_id)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryDetail,
    responses=responses(*FOUND, "invalid_transition"),
)
async def replay_webhook_delivery(
    request: Request, webhook_id: str, delivery_id: str, actor: Actor = can(MANAGE)
) -> integrations.DeliveryDetail:
    """Sent again soon with the same ``webhook-id`` and body; the retry schedule starts
    over."""
    return await run_in_threadpool(
        deliveries.replay, db_of(request), actor, webhook_id, delivery_id
    )
