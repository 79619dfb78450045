"""Disputes: the queue, messages, evidence files and transitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.after_sales import dispute_evidence, disputes
from dingdan.services.after_sales.shapes import (
    DisputeAssignment,
    DisputeMessageIn,
    DisputeRequest,
    DisputeTransitionRequest,
    DisputeView,
    EvidenceView,
)
from dingdan.services.shared.common import Actor
from dingdan.web.api.after_sales.dispute_schemas import Dispute, DisputePage, Evidence
from dingdan.web.api.after_sales.schemas import (
    DisputeAssignIn,
    DisputeIn,
    DisputeTransitionIn,
    MessageIn,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["disputes"])
STEP = ("forbidden", "not_found", "invalid_transition")
BINARY = {"type": "string", "format": "binary"}


@router.post(
    "/orders/{number}/disputes", response_model=Dispute, status_code=201, responses=responses(*STEP)
)
async def open_dispute(
    request: Request, number: str, body: DisputeIn, actor: Actor = can(Action.MANAGE_RETURNS)
) -> DisputeView:
    cmd = command(DisputeRequest, body, exclude_none=True)
    return await run_in_threadpool(disputes.open_dispute, db_of(request), actor, number, cmd)


@router.get("/disputes", response_model=DisputePage, responses=responses("forbidden"))
async def list_disputes(
    request: Request,
    status: str | None = Query(None, max_length=20),
    type: str | None = Query(None, max_length=20),
    owner: str | None = Query(None, max_length=200),
    order: str | None = Query(None, max_length=40),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: disputes.list_disputes(
            db_of(request),
            status=status,
            type=type,
            owner=owner,
            order=order,
            limit=limit,
            cursor=cursor,
        )
    )
    return page.as_dict()


@router.get(
    "/disputes/{dispute_id}", response_model=Dispute, responses=responses("forbidden", "not_found")
)
async def get_dispute(
    request: Request, dispute_id: str, actor: Actor = can(Action.READ)
) -> DisputeView:
    return await run_in_threadpool(disputes.get_dispute, db_of(request), dispute_id)


@router.patch("/disputes/{dispute_id}", response_model=Dispute, responses=responses(*STEP))
async def reassign(
    request: Request,
    dispute_id: str,
    body: DisputeAssignIn,
    actor: Actor = can(Action.MANAGE_RETURNS),
) -> DisputeView:
    """Another owner and/or due date (not on a closed dispute)."""
    cmd = command(DisputeAssignment, body, exclude_none=True)
    return await run_in_threadpool(disputes.reassign, db_of(request), actor, dispute_id, cmd)


@router.post(
    "/disputes/{dispute_id}/messages",
    response_model=Dispute,
    status_code=201,
    responses=responses(*STEP),
)
async def add_message(
    request: Request, dispute_id: str, body: MessageIn, actor: Actor = can(Action.MANAGE_RETURNS)
) -> DisputeView:
    cmd = command(DisputeMessageIn, body)
    return await run_in_threadpool(disputes.add_message, db_of(request), actor, dispute_id, cmd)


@router.post(
    "/disputes/{dispute_id}/evidence",
    response_model=Evidence,
    status_code=201,
    responses=responses(*STEP),
)
async def add_evidence(
    request: Request,
    dispute_id: str,
    file: UploadFile = File(..., description="JPEG, PNG, WebP or PDF"),
    note: str | None = Form(None, max_length=1000),
    actor: Actor = can(Action.MANAGE_RETURNS),
) -> EvidenceView:
    limit = dispute_evidence.max_upload_bytes()
    data = await file.read(limit + 1)
    return await run_in_threadpool(
        dispute_evidence.add_evidence, db_of(request), actor, dispute_id, file.filename, data, note
    )


@router.get(
    "/disputes/{dispute_id}/evidence/{evidence_id}",
    responses={
        **responses("forbidden", "not_found", "conflict"),
        200: {
            "description": "The file",
            "content": {"application/octet-stream": {"schema": BINARY}},
        },
    },
    response_class=Response,
)
async def get_evidence(
    request: Request, dispute_id: str, evidence_id: str, actor: Actor = can(Action.READ)
) -> Response:
    data, kind, name = await run_in_threadpool(
        dispute_evidence.evidence_file, db_of(request), dispute_id, evidence_id
    )
    safe = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-")) or "evidence"
    headers = {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type=kind, headers=headers)


@router.post(
    "/disputes/{dispute_id}/transition",
    response_model=Dispute,
    responses=responses(*STEP, "insufficient_stock"),
)
async def transition(
    request: Request,
    dispute_id: str,
    body: DisputeTransitionIn,
    actor: Actor = can(Action.MANAGE_RETURNS),
) -> DisputeView:
    prefix = request.app.state.settings.order_number_prefix
    data = command(DisputeTransitionRequest, body, exclude_none=True)
    return await run_in_threadpool(
        disputes.transition, db_of(request), actor, dispute_id, data, prefix
    )
