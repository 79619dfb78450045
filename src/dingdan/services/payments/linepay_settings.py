"""LINE Pay's channel: the channel id and secret and the API's address, stored in
``settings`` under ``linepay``; the environment's ``DINGDAN_LINEPAY_*`` give the defaults.
The secret is read in one place, ``channel_secret``; it is stored encrypted (db/secrets.py)
and never shown back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db import secrets as sealing
from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.payments import linepay as lp
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import check_clean
from dingdan.services.payments.shapes import LinePaySettingsCommand, LinePaySettingsView
from dingdan.services.shared.common import Actor, audit

KEY = "linepay"


class LinePayEnv(BaseSettings):
    """Defaults from the environment: ``DINGDAN_LINEPAY_CHANNEL_ID``, ``..._CHANNEL_SECRET``,
    ``..._API_BASE`` (the sandbox unless set), ``..._TIMEOUT`` (seconds)."""

    model_config = SettingsConfigDict(
        env_prefix="DINGDAN_LINEPAY_", env_file=".env", extra="ignore"
    )

    channel_id: str = ""
    channel_secret: SecretStr = SecretStr("")
    api_base: str = lp.SANDBOX_API
    timeout: float = 20.0


@dataclass(frozen=True)
class Channel:
    channel_id: str
    api_base: str
    timeout: float

    @property
    def configured(self) -> bool:
        return bool(self.channel_id)


def _stored(conn: Connection) -> dict[str, Any]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return value if isinstance(value, dict) else {}


def channel(conn: Connection) -> Channel:
    stored, env = _stored(conn), LinePayEnv()
    return Channel(
        channel_id=str(stored.get("channel_id") or env.channel_id),
        api_base=str(stored.get("api_base") or env.api_base).rstrip("/"),
        timeout=env.timeout,
    )


def channel_secret(conn: Connection) -> str:
    """The channel secret: the only reader of it (the stored one, else the environment's)."""
    stored = sealing.unseal_or_none(_stored(conn).get("channel_secret"))
    return str(stored) if stored else LinePayEnv().channel_secret.get_secret_value()


def settings_view(conn: Connection) -> LinePaySettingsView:
    ch = channel(conn)
    return {
        "channel_id": ch.channel_id,
        "channel_secret": "••••" if channel_secret(conn) else "",
        "api_base": ch.api_base,
        "configured": ch.configured and bool(channel_secret(conn)),
    }


def get_settings_view(db: Database) -> LinePaySettingsView:
    return db.read(settings_view)


def put_settings(db: Database, actor: Actor, body: LinePaySettingsCommand) -> LinePaySettingsView:
    """Set the channel; a secret left out or sent as "••••" is kept."""
    errors = FieldErrors()
    for field in ("channel_id", "channel_secret", "api_base"):
        v = body.get(field)
        if v is not None and (not isinstance(v, str) or len(v) > 500):
            errors.add(field, "too_long", max=500)
        elif v is not None:
            check_clean(v, field, errors)
    base = body.get("api_base")
    if isinstance(base, str) and base and not base.startswith(("https://", "http://")):
        errors.add("api_base", "invalid", reason="an http(s) address")
    errors.raise_if_any()

    def work(conn: Connection) -> LinePaySettingsView:
        before = _stored(conn)
        secret = body.get("channel_secret")
        value = {
            "channel_id": str(body.get("channel_id") or "").strip(),
            # Stored encrypted (db/secrets.py), as every secret at rest.
            "channel_secret": before.get("channel_secret", "")
            if secret in (None, "••••")
            else sealing.seal(str(secret).strip()),
            "api_base": str(body.get("api_base") or "").strip(),
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", KEY)
        return settings_view(conn)

    return db.write(work)
