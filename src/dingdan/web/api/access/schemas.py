"""Answers of the token and user endpoints."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Timestamp, View


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
