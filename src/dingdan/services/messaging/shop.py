"""The shop as customer messages show it: name, logo, contact, and the bank account a
bank transfer goes to. Kept as JSON in ``settings`` under the key ``shop``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.shared.common import Actor, audit

KEY = "shop"
# Field → longest value. Every field is text, and may be empty.
FIELDS: dict[str, int] = {
    "name": 100,
    "logo_url": 500,
    "email": 254,
    "phone": 40,
    "address": 300,
    "bank_name": 100,
    "bank_code": 10,
    "account_name": 100,
    "account_number": 40,
}
DEFAULT_NAME = "Dingdan"


def load(conn: Connection) -> dict[str, str]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar() or {}
    shop = {k: str(value.get(k) or "") for k in FIELDS}
    shop["name"] = shop["name"] or DEFAULT_NAME
    return shop


def get_shop(db: Database) -> dict[str, str]:
    return db.read(load)


def put_shop(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, str]:
    """Replaces the shop's settings; fields left out are empty."""
    errors = FieldErrors()
    clean: dict[str, str] = {}
    for k, most in FIELDS.items():
        v = body.get(k)
        if v is None:
            v = ""
        if not isinstance(v, str):
            errors.add(k, "not_text")
        elif len(v.strip()) > most:
            errors.add(k, "too_long", max=most)
        else:
            clean[k] = v.strip()
    if clean.get("logo_url") and not clean["logo_url"].startswith(("https://", "http://")):
        errors.add("logo_url", "invalid", reason="an http(s) address")
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, str]:
        before = load(conn)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=KEY, value=clean, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": clean, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", KEY, before, clean)
        return load(conn)

    return db.write(work)
