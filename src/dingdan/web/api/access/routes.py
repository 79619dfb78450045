"""API tokens and users (admin only), and the audit trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.access import accounts, audit_log
from dingdan.services.access.shapes import TokenView, UserView
from dingdan.services.shared.common import Actor
from dingdan.web.api.access.schemas import (
    AuditPage,
    NewToken,
    Token,
    TokenIn,
    TokenList,
    User,
    UserIn,
    UserList,
)
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.post("/tokens", response_model=NewToken, status_code=201, responses=responses("forbidden"))
async def create_token(
    request: Request, body: TokenIn, actor: Actor = can(Action.MANAGE_USERS)
) -> dict[str, Any]:
    secret, view = await run_in_threadpool(
        accounts.create_token, db_of(request), actor, body.name, body.role
    )
    return {**view, "token": secret}


@router.get("/tokens", response_model=TokenList, responses=responses("forbidden"))
async def list_tokens(request: Request, actor: Actor = can(Action.MANAGE_USERS)) -> dict[str, Any]:
    return {
        "items": await run_in_threadpool(accounts.list_tokens, db_of(request)),
        "next_cursor": None,
    }


@router.post(
    "/tokens/{token_id}/revoke", response_model=Token, responses=responses("forbidden", "not_found")
)
async def revoke_token(
    request: Request, token_id: str, actor: Actor = can(Action.MANAGE_USERS)
) -> TokenView:
    return await run_in_threadpool(accounts.revoke_token, db_of(request), actor, token_id)


@router.post(
    "/users", response_model=User, status_code=201, responses=responses("forbidden", "conflict")
)
async def create_user(
    request: Request, body: UserIn, actor: Actor = can(Action.MANAGE_USERS)
) -> UserView:
    return await run_in_threadpool(
        lambda: accounts.create_user(
            db_of(request),
            actor,
            email=body.email,
            role=body.role,
            password=body.password,
            name=body.name,
        )
    )


@router.get("/users", response_model=UserList, responses=responses("forbidden"))
async def list_users(request: Request, actor: Actor = can(Action.MANAGE_USERS)) -> dict[str, Any]:
    return {
        "items": await run_in_threadpool(accounts.list_users, db_of(request)),
        "next_cursor": None,
    }


@router.get("/audit", response_model=AuditPage, responses=responses("forbidden"))
async def audit_trail(
    request: Request,
    resource: str | None = Query(
        None, max_length=120, description="type:id (order:DD001001, customer:12) or a type"
    ),
    actor_name: str | None = Query(None, alias="actor", max_length=200),
    action: str | None = Query(None, max_length=40, description="create, edit, view, ..."),
    day_from: str | None = Query(None, alias="from", max_length=10, description="YYYY-MM-DD"),
    day_to: str | None = Query(None, alias="to", max_length=10, description="YYYY-MM-DD"),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.VIEW_AUDIT),
) -> dict[str, Any]:
    """Who changed or viewed what, newest first; days in the seller's time zone, ``to``
    included."""
    page = await run_in_threadpool(
        lambda: audit_log.trail(
            db_of(request),
            resource=resource,
            actor=actor_name,
            action=action,
            day_from=day_from,
            day_to=day_to,
            limit=limit,
            cursor=cursor,
        )
    )
    return page.as_dict()
