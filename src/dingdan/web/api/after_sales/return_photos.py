"""Photos attached to returns (from the customer's tracking page), served to staff only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.after_sales import customer_returns
from dingdan.services.shared.common import Actor
from dingdan.web.api.after_sales.schemas import PhotoList
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["returns"])
BINARY = {"type": "string", "format": "binary"}


@router.get(
    "/returns/{return_id}/photos",
    response_model=PhotoList,
    responses=responses("forbidden", "not_found"),
)
async def list_photos(
    request: Request, return_id: str, actor: Actor = can(Action.READ)
) -> dict[str, Any]:
    items = await run_in_threadpool(customer_returns.photos_of, db_of(request), return_id)
    return {"items": items, "next_cursor": None}


@router.get(
    "/returns/{return_id}/photos/{photo_id}",
    responses={
        **responses("forbidden", "not_found", "conflict"),
        200: {
            "content": {
                kind: {"schema": BINARY} for kind in ("image/jpeg", "image/png", "image/webp")
            },
            "description": "The photo",
        },
    },
    response_class=Response,
)
async def get_photo(
    request: Request, return_id: str, photo_id: str, actor: Actor = can(Action.READ)
) -> Response:
    data, kind, name = await run_in_threadpool(
        customer_returns.photo_file, db_of(request), return_id, photo_id
    )
    return Response(
        data,
        media_type=kind,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
