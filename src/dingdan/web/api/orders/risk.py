"""Risk: releasing an order held for review, the block list, the risk settings
(shared/CONTRACT.md, "Routing, pickup, risk, personal data")."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.orders import risk
from dingdan.services.orders.shapes import (
    BlockCommand,
    BlockView,
    RiskSettingsCommand,
    RiskSettingsView,
)
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import OrderView
from dingdan.web.api.orders.view_schemas import Order
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["risk"])
REVIEW = Action.REVIEW_RISK
BlockKind = Literal["email", "phone", "address"]


class ApproveIn(Strict):
    note: str | None = Field(default=None, max_length=1000)


class BlockIn(Strict):
    kind: BlockKind
    value: str = Field(min_length=1, max_length=300)
    note: str | None = Field(default=None, max_length=500)


class Block(View):
    id: str
    kind: BlockKind
    value: str
    note: str | None
    created_by: str
    created_at: Timestamp


class BlockList(View):
    items: list[Block]


class RuleIn(Strict):
    points: int | None = Field(default=None, ge=0, le=100)
    limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    enabled: bool | None = None


class RiskSettingsIn(Strict):
    enabled: bool | None = None
    window_hours: int | None = Field(default=None, ge=1, le=720)
    medium: int | None = Field(default=None, ge=1, le=100)
    high: int | None = Field(default=None, ge=1, le=100)
    rules: dict[str, RuleIn] | None = None


class RuleOut(View):
    points: int
    limit: int | None
    enabled: bool


class RiskSettings(View):
    enabled: bool
    window_hours: int
    medium: int
    high: int
    rules: dict[str, RuleOut]


@router.post(
    "/orders/{number}/risk/approve",
    response_model=Order,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def approve(
    request: Request,
    number: str,
    body: ApproveIn | None = None,
    actor: Actor = can(REVIEW),
) -> OrderView:
    """Releases an order held for a risk review (`hold: "risk_review"`): it is pickable at
    once. Audited, and in the order's events (`risk_approved`). Cancelling a held order is
    the order's cancel."""
    note = body.note if body is not None else None
    return await run_in_threadpool(risk.approve, db_of(request), actor, number, note)


@router.post(
    "/risk/blocklist",
    response_model=Block,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def add_block(request: Request, body: BlockIn, actor: Actor = can(REVIEW)) -> BlockView:
    """An email, phone or address whose new orders are held for review. Matched as
    normalized: an email case-folded, a phone by its digits (E.164), an address's street
    lines without blanks and punctuation. `409` when it is listed already."""
    return await run_in_threadpool(
        risk.add_block, db_of(request), actor, command(BlockCommand, body, exclude_none=True)
    )


@router.get("/risk/blocklist", response_model=BlockList, responses=responses("forbidden"))
async def list_blocks(
    request: Request, kind: BlockKind | None = Query(None), actor: Actor = can(REVIEW)
) -> dict[str, Any]:
    """Newest first (the newest 500)."""
    items = await run_in_threadpool(risk.list_blocks, db_of(request), kind)
    return {"items": items}


@router.delete(
    "/risk/blocklist/{block_id}",
    status_code=204,
    responses=responses("forbidden", "not_found"),
)
async def remove_block(
    request: Request, block_id: int = Path(ge=1, le=2**62), actor: Actor = can(REVIEW)
) -> Response:
    await run_in_threadpool(risk.remove_block, db_of(request), actor, block_id)
    return Response(status_code=204)


@router.get("/risk/settings", response_model=RiskSettings, responses=responses("forbidden"))
async def get_settings(request: Request, actor: Actor = can(Action.READ)) -> RiskSettingsView:
    return await run_in_threadpool(risk.get_settings, db_of(request))


@router.put("/risk/settings", response_model=RiskSettings, responses=responses("forbidden"))
async def put_settings(
    request: Request, body: RiskSettingsIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> RiskSettingsView:
    """Replaces the risk settings; fields left out take their defaults. Rules:
    `velocity_email`, `velocity_phone`, `velocity_address`, `velocity_ip` (earlier orders in
    the window reaching `limit`), `velocity_card` (other orders paid with the same card in
    the window, decided when a card payment arrives), `first_order_amount` (a first order's
    total reaching `limit` whole units of its currency), `country_mismatch` (shipping
    country unlike the billing country, or the card's once a card payment tells it),
    `disposable_email`, `failed_payments` (the customer's failed payment attempts in the
    window), `cod_refusals` (parcels refused by the customer or at the address) reaching
    `limit`. The score is the sum of the points of the rules that fire (at most 100);
    `medium` and `high` are its thresholds. A card payment that makes the level `high`
    holds the order as the capture does, unless it has shipped (then a `risk_flagged`
    event)."""
    data = command(RiskSettingsCommand, body, exclude_unset=True)
    return await run_in_threadpool(risk.put_settings, db_of(request), actor, data)
