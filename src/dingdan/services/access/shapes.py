"""The shapes of the access context's views, as TypedDicts: plain dicts at run time,
checked by mypy where they are built and read. ``web/api/access/schemas.py`` describes the
same views for clients."""

from __future__ import annotations

from typing import Any, TypedDict


class TokenView(TypedDict):
    id: str
    name: str
    role: str
    prefix: str
    created_by: str
    created_at: str | None
    revoked_at: str | None


class UserView(TypedDict):
    id: str
    email: str
    name: str | None
    role: str
    active: bool
    language: str | None
    created_at: str | None


class SessionView(UserView):
    """A signed-in user; ``stamp`` fingerprints the password the session was signed with."""

    stamp: str


class AuditEntryView(TypedDict):
    id: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None  # the stored JSON snapshot, whatever was audited
    after: dict[str, Any] | None
    created_at: str | None


class TrailView(TypedDict):
    """An audit entry as the API shows it."""

    id: str
    at: str | None
    actor: str
    action: str
    resource: str  # type:id, e.g. order:DD001001
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ActionPermission(TypedDict):
    action: str
    allowed: bool
    default: bool
    kept: bool  # every role keeps it: it may not be taken away


class RolePermissions(TypedDict):
    role: str
    actions: list[ActionPermission]
    changed: bool
