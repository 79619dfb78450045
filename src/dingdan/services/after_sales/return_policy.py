"""The return policy, kept as JSON in ``settings`` under the key ``return_policy``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.after_sales.returns import Policy, parse_policy, stored_policy
from dingdan.services.shared.common import Actor, audit

KEY = "return_policy"


def load(conn: Connection) -> Policy:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return stored_policy(value)


def get_policy(db: Database) -> dict[str, Any]:
    return db.read(lambda conn: load(conn).as_dict())


def save(conn: Connection, actor: Actor, policy: Policy) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    value = policy.as_dict()
    stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
        )
    )


def put_policy(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """Replaces the policy; fields left out take their defaults."""
    policy = parse_policy(body)

    def work(conn: Connection) -> dict[str, Any]:
        before = load(conn).as_dict()
        save(conn, actor, policy)
        audit(conn, actor, "update", "setting", KEY, before, policy.as_dict())
        return policy.as_dict()

    return db.write(work)
