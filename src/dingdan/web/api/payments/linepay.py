"""LINE Pay's channel: ``GET``/``PUT /api/v1/settings/linepay`` (the channel id and secret
from LINE Pay's merchant centre, and the API's address: sandbox or production)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.payments import linepay_settings
from dingdan.services.payments.shapes import LinePaySettingsCommand, LinePaySettingsView
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["payments"])


class LinePaySettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_id: str | None = Field(None, max_length=500)
    channel_secret: str | None = Field(
        None, max_length=500, description='kept when left out or sent back as "••••"'
    )
    api_base: str | None = Field(
        None,
        max_length=500,
        description="https://sandbox-api-pay.line.me (the default) or https://api-pay.line.me",
    )


class LinePaySettings(View):
    channel_id: str
    channel_secret: str = Field(description="shown as •••• once set")
    api_base: str
    configured: bool


@router.get("/settings/linepay", response_model=LinePaySettings, responses=responses("forbidden"))
async def get_linepay(
    request: Request, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> LinePaySettingsView:
    return await run_in_threadpool(linepay_settings.get_settings_view, db_of(request))


@router.put(
    "/settings/linepay",
    response_model=LinePaySettings,
    responses=responses("forbidden"),
)
async def put_linepay(
    request: Request, body: LinePaySettingsIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> LinePaySettingsView:
    """The channel LINE Pay payments go through. A secret left out or sent back as shown
    ("••••") is kept."""
    cmd = command(LinePaySettingsCommand, body, exclude_none=True)
    return await run_in_threadpool(linepay_settings.put_settings, db_of(request), actor, cmd)
