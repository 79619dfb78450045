"""The shop's logo: uploaded (PNG, JPEG or WebP, at most 2 MB), resized by Pillow and
served by Dingdan at ``/shop/logo`` for the tracking page, packing slips and messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.shared import shop
from dingdan.services.shared.common import Actor
from dingdan.web.api.messaging.schemas import Shop
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.put("/settings/shop/logo", response_model=Shop, responses=responses("forbidden"))
async def put_logo(
    request: Request,
    file: UploadFile = File(..., description="PNG, JPEG or WebP, at most 2 MB"),
    actor: Actor = can(Action.MANAGE_SETTINGS),
) -> dict[str, Any]:
    """Replaces the logo; the answer's ``logo`` is where Dingdan serves it."""
    data = await file.read(shop.LOGO_MAX_BYTES + 1)
    return await run_in_threadpool(shop.set_logo, db_of(request), actor, file.filename, data)


@router.delete("/settings/shop/logo", response_model=Shop, responses=responses("forbidden"))
async def delete_logo(
    request: Request, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> dict[str, Any]:
    return await run_in_threadpool(shop.remove_logo, db_of(request), actor)
