"""Carrier tracking events: the carriers' signed webhook (``/hooks/carriers/{code}``, no
bearer token: the signature is the authentication), files and lists from staff, and the
events of a shipment."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import FieldError, ValidationFailed
from dingdan.services.fulfilment import (
    carriers,
    shapes,
    tracking_events,
    tracking_imports,
    tracking_queries,
)
from dingdan.services.shared.common import Actor
from dingdan.services.shared.uploads import max_upload_bytes
from dingdan.web.api.fulfilment.tracking_schemas import (
    CarrierHookResult,
    TrackingEventIn,
    TrackingEventList,
    TrackingResult,
    WebhookSecret,
    WebhookSecretIn,
)
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(tags=["tracking"])
API = "/api/v1"


@router.post(
    "/hooks/carriers/{code}",
    response_model=CarrierHookResult,
    responses={
        **responses("unauthorized", "validation_error"),
        200: {"description": "Received (or a delivery seen before: nothing new)"},
    },
)
async def carrier_webhook(request: Request, code: str) -> JSONResponse:
    """A carrier's tracking events, signed per Standard Webhooks v1 with the carrier's
    ``webhook_secret``: ``{"type": "tracking.updated", "data": {"tracking_number", "status",
    "occurred_at", "location"?, "description"?, "exception"?, "id"?}}`` or a list of them."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    outcome = await run_in_threadpool(
        tracking_events.receive_webhook, db_of(request), code, headers, body, time.time()
    )
    if outcome.replayed:
        return JSONResponse({"replayed": True}, headers={"Idempotent-Replayed": "true"})
    return JSONResponse(outcome.view())


@router.post(
    API + "/carriers/{code}/webhook-secret",
    response_model=WebhookSecret,
    responses=responses("forbidden", "not_found"),
    tags=["settings"],
)
async def set_webhook_secret(
    request: Request,
    code: str,
    body: WebhookSecretIn | None = None,
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> shapes.WebhookSecretView:
    """A new secret for the carrier's tracking webhooks (or the one given); the old one stops
    working at once. The secret is shown only in this answer."""
    secret = body.secret if body is not None else None
    return await run_in_threadpool(carriers.set_webhook_secret, db_of(request), actor, code, secret)


@router.post(
    API + "/tracking-events",
    response_model=TrackingResult,
    responses=responses("forbidden"),
)
async def record_events(
    request: Request, body: list[TrackingEventIn], actor: Actor = can(Action.FULFIL)
) -> dict[str, Any]:
    """Tracking events typed in or sent by a system of the seller's, all or nothing."""
    items = [item.model_dump(exclude_none=True) for item in body]
    outcome = await run_in_threadpool(tracking_imports.record_list, db_of(request), actor, items)
    return outcome.view()


@router.post(
    API + "/tracking-events/import",
    response_model=TrackingResult,
    responses=responses("forbidden"),
)
async def import_events(
    request: Request,
    file: UploadFile = File(..., description="CSV (UTF-8) or XLSX"),
    skip_bad: bool = False,
    actor: Actor = can(Action.FULFIL),
) -> dict[str, Any]:
    """A file of tracking events, one per row: ``carrier, tracking_number, status, time``,
    optionally ``location, exception, description, id``. A bad row stores nothing (422, every
    bad row listed as ``rows[N].column``) unless ``skip_bad=true``."""
    data = await file.read(max_upload_bytes() + 1)
    outcome = await run_in_threadpool(
        lambda: tracking_imports.import_file(
            db_of(request), actor, file.filename, data, skip_bad=skip_bad
        )
    )
    if outcome.errors and not skip_bad:
        raise ValidationFailed(
            detail="The file has bad rows; nothing was stored.",
            errors=[
                FieldError(f"rows[{e.row}].{e.field}", e.code, e.text, e.params)
                for e in outcome.errors
            ],
        )
    return outcome.view()


@router.get(
    API + "/tracking-events", response_model=TrackingEventList, responses=responses("forbidden")
)
async def list_events(
    request: Request,
    unmatched: bool | None = None,
    carrier: str | None = None,
    limit: int = limit_query(100, most=500),
    actor: Actor = can(Action.READ),
) -> shapes.TrackingEventList:
    """The latest events received, newest first; ``unmatched=true``: those no shipment took."""
    return await run_in_threadpool(
        lambda: tracking_queries.list_events(
            db_of(request), unmatched=unmatched, carrier=carrier, limit=limit
        )
    )


@router.get(
    API + "/shipments/{shipment_id}/tracking-events",
    response_model=TrackingEventList,
    responses=responses("forbidden", "not_found"),
)
async def shipment_events(
    request: Request, shipment_id: str, actor: Actor = can(Action.READ)
) -> shapes.TrackingEventList:
    """The shipment's tracking events, latest first."""
    return await run_in_threadpool(tracking_queries.events_of_shipment, db_of(request), shipment_id)
