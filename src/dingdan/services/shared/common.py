"""What every use case shares: who acts, pages of lists, and the audit trail."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from sqlalchemy import Connection, insert
from typing_extensions import TypedDict, TypeVar

from dingdan.db.tables import AuditEntry
from dingdan.domain.access.roles import Action, Role, may
from dingdan.domain.shared.errors import ValidationFailed


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, an API token or the system. ``name`` goes into every record."""

    name: str
    role: Role
    # The role's permissions as the settings make them (read when the actor signs in or
    # its token is looked up); None: the role table's defaults (the system, the CLI).
    allowed: frozenset[Action] | None = None

    def may(self, action: Action) -> bool:
        if self.allowed is not None:
            return action in self.allowed
        return may(self.role, action)


SYSTEM = Actor("system", Role.ADMIN)


# A page's item; ``Page`` alone is ``Page[Any]`` (the lists whose items are not typed yet).
# Covariant: a page is read, never added to (a ``Page[OrderView]`` is a page of mappings).
T = TypeVar("T", covariant=True, default=Any)
V = TypeVar("V", default=Any)
R = TypeVar("R")


class PageView(TypedDict, Generic[V]):
    """A page as it is answered: its items and the cursor of the next page (None: the last)."""

    items: list[V]
    next_cursor: str | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def check_limit(limit: int) -> int:
    if not 1 <= limit <= 200:
        raise ValidationFailed.on("limit", "out_of_range", min=1, max=200)
    return limit


def encode_cursor(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: type) -> list[Any] | None:
    """The key a cursor carries, checked against the types of the list's sort key."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(type(v) is t for v, t in zip(key, types, strict=True))
    ):
        raise ValidationFailed.on("cursor", "invalid_cursor")
    return key


def page_of(
    rows: Sequence[R], limit: int, item: Callable[[R], T], key: Callable[[R], Iterable[Any]]
) -> Page[T]:
    """Build a page from ``limit + 1`` fetched rows: the extra row only says there is more."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(*key(rows[-1])) if more and rows else None
    return Page([item(r) for r in rows], cursor)


def audit(
    conn: Connection,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    """An audit entry; ``before`` and ``after`` are any view or snapshot, stored as JSON."""
    conn.execute(
        insert(AuditEntry).values(
            actor=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


def iso(dt: Any) -> str | None:
    """RFC 3339 in UTC with a ``Z``."""
    if dt is None:
        return None
    return str(dt.isoformat().replace("+00:00", "Z"))


def like_pattern(q: str) -> str:
    """A case-insensitive substring pattern for LIKE with ``escape='\\'``."""
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
