"""Each role's permissions as the seller set them: the role table's defaults
(domain/access/roles.py, the one source) with an admin's changes applied.

Only the differences are stored, in the ``settings`` table under ``role_permissions``
(``{"warehouse": {"pricing": true}, "customer_service": {"record_payments": false}}``), so a
default changed in a later version reaches every role nobody changed it for. Actors read
them when they are authenticated; this process keeps them for ``CACHE_SECONDS`` (another
process sees a change within that time, as with a revoked token) and forgets them at once
when they change here.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import KEPT, PERMISSIONS, Action, Role, differences, effective
from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.access.shapes import RolePermissions
from dingdan.services.shared.common import Actor, audit

SETTING_KEY = "role_permissions"
CACHE_SECONDS = 5.0
# Per database (a process may hold several, as the tests do): the stored changes and when
# they go stale.
_cache: weakref.WeakKeyDictionary[Database, tuple[dict[str, dict[str, bool]], float]] = (
    weakref.WeakKeyDictionary()
)


def _stored(conn: Connection) -> dict[str, dict[str, bool]]:
    value = conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, dict)}


def changes(db: Database) -> dict[str, dict[str, bool]]:
    """The stored differences from the defaults, by role (cached for CACHE_SECONDS)."""
    hit = _cache.get(db)
    if hit is not None and hit[1] > time.monotonic():
        return dict(hit[0])
    stored = db.read(_stored)
    _cache[db] = (stored, time.monotonic() + CACHE_SECONDS)
    return stored


# Caches of actors built from these permissions (accounts' tokens) register here to be
# emptied when a role's permissions change in this process.
ON_CHANGE: list[Callable[[], None]] = []


def forget() -> None:
    _cache.clear()
    for clear in ON_CHANGE:
        clear()


def allowed(db: Database, role: Role | str) -> frozenset[Action]:
    role = Role(role)
    return effective(role, changes(db).get(role.value, {}))


def actor(db: Database, name: str, role: Role | str) -> Actor:
    """An actor with its role's permissions as they are set now."""
    return Actor(name, Role(role), allowed(db, role))


def table(db: Database) -> list[RolePermissions]:
    """For the settings page: each role, each action allowed or not, and whether that is
    the default, and whether it may be changed at all."""
    stored = changes(db)
    rows: list[RolePermissions] = []
    for role in Role:
        now = effective(role, stored.get(role.value, {}))
        rows.append(
            {
                "role": role.value,
                "actions": [
                    {
                        "action": a.value,
                        "allowed": a in now,
                        "default": a in PERMISSIONS[role],
                        "kept": a in KEPT[role],
                    }
                    for a in Action
                ],
                "changed": now != PERMISSIONS[role],
            }
        )
    return rows


def set_role_permissions(
    db: Database, who: Actor, role: Any, actions: Iterable[Any]
) -> RolePermissions:
    """Give ``role`` exactly ``actions`` (what every role keeps is added); stored as its
    differences from the defaults. Returns the role's row as ``table`` gives it."""
    errors = FieldErrors()
    if role not in {r.value for r in Role}:
        errors.add("role", "unknown_role")
    names = [str(a) for a in actions]
    if any(n not in {a.value for a in Action} for n in names):
        errors.add("actions", "unknown_value")
    errors.raise_if_any()
    the_role = Role(role)
    diff = differences(the_role, {Action(n) for n in names})

    def work(conn: Connection) -> None:
        before = _stored(conn)
        after = {k: v for k, v in before.items() if k != the_role.value}
        if diff:
            after[the_role.value] = diff
        if after == before:
            return
        if not after:
            conn.execute(delete(Setting).where(Setting.key == SETTING_KEY))
        else:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(Setting).values(key=SETTING_KEY, value=after, updated_at=utcnow())
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["key"], set_={"value": after, "updated_at": utcnow()}
                )
            )
        audit(conn, who, "update", "setting", SETTING_KEY, before=before, after=after)

    db.write(work)
    forget()
    return next(r for r in table(db) if r["role"] == the_role.value)
