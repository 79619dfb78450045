"""The return policy, kept as JSON in ``settings`` under the key ``return_policy``."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.after_sales.returns import Policy, parse_policy, stored_policy
from dingdan.services.after_sales.shapes import PolicyRequest, PolicyView
from dingdan.services.shared.common import Actor, audit

KEY = "return_policy"


def load(conn: Connection) -> Policy:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return stored_policy(value)


def policy_view(policy: Policy) -> PolicyView:
    return {
        "window_days": policy.window_days,
        "non_returnable_skus": list(policy.non_returnable_skus),
        "non_returnable_categories": list(policy.non_returnable_categories),
        "reasons": list(policy.reasons),
        "refund_shipping": policy.refund_shipping,
    }


def get_policy(db: Database) -> PolicyView:
    return db.read(lambda conn: policy_view(load(conn)))


def save(conn: Connection, actor: Actor, policy: Policy) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    value = policy.as_dict()
    stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
        )
    )


def put_policy(db: Database, actor: Actor, body: PolicyRequest) -> PolicyView:
    """Replaces the policy; fields left out take their defaults."""
    policy = parse_policy(body)

    def work(conn: Connection) -> PolicyView:
        before = load(conn).as_dict()
        save(conn, actor, policy)
        audit(conn, actor, "update", "setting", KEY, before, policy.as_dict())
        return policy_view(policy)

    return db.write(work)
