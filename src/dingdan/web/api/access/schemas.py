"""Answers of the token and user endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Cursor, Timestamp, View
from dingdan.web.api.shared.schemas import Strict


class Token(View):
    id: str
    name: str
    role: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    created_by: str | None
    created_at: Timestamp
    revoked_at: Timestamp | None


class NewToken(Token):
    token: str = Field(description="the secret: shown only in this answer")


class TokenList(View):
    items: list[Token]
    next_cursor: None = None


class User(View):
    id: str
    email: str
    name: str | None
    role: str
    active: bool
    language: str | None
    created_at: Timestamp


class UserList(View):
    items: list[User]
    next_cursor: None = None


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    role: str


class UserIn(Strict):
    email: str = Field(min_length=3, max_length=254)
    role: str
    password: str = Field(min_length=1, max_length=500)
    name: str | None = Field(default=None, max_length=200)


class AuditEntry(View):
    id: str
    at: Timestamp
    actor: str = Field(description="user:<email>, token:<name>, cli:<user> or system:<job>")
    action: str = Field(description="create, edit, cancel, ship, view, ...")
    resource: str = Field(description="type:id, e.g. order:DD001001")
    before: dict[str, Any] | None = Field(description="what changed, before the change")
    after: dict[str, Any] | None = Field(description="what changed, after the change")


class AuditPage(View):
    items: list[AuditEntry]
    next_cursor: Cursor
