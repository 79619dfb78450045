"""The one dependency that authenticates a request and checks the permission table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import Forbidden, Unauthorized
from dingdan.services.access import accounts
from dingdan.services.shared.common import Actor

_bearer = HTTPBearer(auto_error=False, description="An API token from `dingdan token create`.")


def db_of(request: Request) -> Any:
    return request.app.state.db


def reports_db_of(request: Request) -> Any:
    """Where reports and exports read: the primary, or its streaming replica while it keeps
    up (``DINGDAN_REPORTS_DATABASE_URL``); their writes still go to the primary."""
    return request.app.state.reports_db


def require(action: Action) -> Callable[..., Any]:
    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Actor:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized(detail="Send an API token as 'Authorization: Bearer <token>'.")
        actor = accounts.cached_actor(credentials.credentials)
        if actor is None:
            actor = await run_in_threadpool(
                accounts.authenticate_token, db_of(request), credentials.credentials
            )
        if not actor.may(action):
            raise Forbidden(detail=f"The role {actor.role.value!r} may not {action.value}.")
        return actor

    return dependency


def can(action: Action) -> Any:
    return Depends(require(action))
