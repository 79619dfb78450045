"""The caller's own staff notifications: GET /api/v1/notifications (?unread=true), POST
/api/v1/notifications/read ({"ids": [...]} or {"all": true}).

Notifications belong to users; an API token belongs to no user, so a token's list is
empty (200, ``"user": false``) and marking reads nothing. A future user-bound token gets its
user's notifications with no change here (``notifications.user_id_of`` maps the actor).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.messaging import notifications
from dingdan.services.shared.common import Actor
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["notifications"])


class NotificationOut(View):
    id: str
    kind: str = Field(description=", ".join(notifications.KINDS))
    title: str
    text: str
    params: dict[str, Any]
    link: str = Field(description="The back-office page it is about")
    created_at: Timestamp
    read: bool


class NotificationList(View):
    user: bool = Field(description="false: the token belongs to no user (the list is empty)")
    unread: int
    items: list[NotificationOut]


class ReadIn(View):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default_factory=list, max_length=500
    )
    all: bool = False


class ReadOut(View):
    marked: int


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _list(db: Any, actor: Actor, unread: bool) -> dict[str, Any]:
    user_id = notifications.user_id_of(db, actor.name)
    if user_id is None:
        return {"user": False, "unread": 0, "items": []}
    rows = notifications.listing(db, user_id, notifications.user_language(db, user_id), unread)
    return {
        "user": True,
        "unread": notifications.unread_count(db, user_id),
        "items": [
            {
                "id": str(r["id"]),
                "kind": r["kind"],
                "title": r["title"],
                "text": r["text"],
                "params": r["params"],
                "link": r["link"],
                "created_at": _iso(r["created_at"]),
                "read": r["read"],
            }
            for r in rows
        ],
    }


@router.get("/notifications", response_model=NotificationList, responses=responses("forbidden"))
async def list_notifications(
    request: Request, unread: bool = False, actor: Actor = can(Action.READ)
) -> dict[str, Any]:
    return await run_in_threadpool(_list, db_of(request), actor, unread)


def _read(db: Any, actor: Actor, body: ReadIn) -> dict[str, Any]:
    user_id = notifications.user_id_of(db, actor.name)
    if user_id is None:
        return {"marked": 0}
    return {"marked": notifications.mark_read(db, user_id, body.ids, everything=body.all)}


@router.post("/notifications/read", response_model=ReadOut, responses=responses("forbidden"))
async def read_notifications(
    request: Request, body: ReadIn, actor: Actor = can(Action.READ)
) -> dict[str, Any]:
    return await run_in_threadpool(_read, db_of(request), actor, body)
