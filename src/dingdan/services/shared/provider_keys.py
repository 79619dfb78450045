"""The keys of ECPay (payments, logistics) and of the e-invoice centres (ECPay, Amego, ezPay),
stored in the database (settings ``provider_keys``) by an admin on Settings → Provider
keys, the secret ones encrypted (db/secrets.py), never shown again but as ``••••`` and
their last four characters.

Each provider's configuration is read through one function, ``keys(conn, provider)``: a
value stored here is used, else the environment's (``DINGDAN_ECPAY_*``,
``DINGDAN_ECPAY_LOGISTICS_*``, ``DINGDAN_EINVOICE_ECPAY_*``, ``DINGDAN_EINVOICE_AMEGO_*``,
``DINGDAN_EINVOICE_EZPAY_*``), whose defaults are the providers' published test shops (ezPay
publishes none: empty). Clearing a stored value falls back
to the environment again. ``dingdan secrets rotate`` re-encrypts the stored secrets
(services/shared/secrets.py: SECRET_SETTINGS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.config import Settings, get_settings
from dingdan.db import secrets as sealing
from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.text import check_clean
from dingdan.services.shared.common import Actor, audit
from dingdan.services.shared.view_types import ProviderKeyView

KEY = "provider_keys"
MAX_LENGTH = 200
CLEAR = "-"  # typed into a field: the stored value goes, the environment's is used again


@dataclass(frozen=True)
class Field:
    name: str
    env: str  # the Settings attribute (DINGDAN_<upper>)
    secret: bool


# provider -> its fields, in the order the page shows them.
PROVIDERS: dict[str, tuple[Field, ...]] = {
    "ecpay_payments": (
        Field("merchant_id", "ecpay_merchant_id", False),
        Field("hash_key", "ecpay_hash_key", True),
        Field("hash_iv", "ecpay_hash_iv", True),
    ),
    "ecpay_logistics": (
        Field("merchant_id", "ecpay_logistics_merchant_id", False),
        Field("hash_key", "ecpay_logistics_hash_key", True),
        Field("hash_iv", "ecpay_logistics_hash_iv", True),
    ),
    "einvoice_ecpay": (
        Field("merchant_id", "einvoice_ecpay_merchant_id", False),
        Field("hash_key", "einvoice_ecpay_hash_key", True),
        Field("hash_iv", "einvoice_ecpay_hash_iv", True),
    ),
    "einvoice_amego": (
        Field("ubn", "einvoice_amego_ubn", False),
        Field("app_key", "einvoice_amego_app_key", True),
    ),
    "einvoice_ezpay": (
        Field("merchant_id", "einvoice_ezpay_merchant_id", False),
        Field("hash_key", "einvoice_ezpay_hash_key", True),
        Field("hash_iv", "einvoice_ezpay_hash_iv", True),
    ),
}
# The secret fields per provider (services/shared/secrets.py rotates them).
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    p: tuple(f.name for f in fields if f.secret) for p, fields in PROVIDERS.items()
}


def _stored(conn: Connection) -> dict[str, Any]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return value if isinstance(value, dict) else {}


def _env(field: Field, settings: Settings | None = None) -> str:
    value = getattr(settings or get_settings(), field.env)
    return str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()


def _opened(stored: dict[str, Any], provider: str, field: Field) -> str:
    raw = (stored.get(provider) or {}).get(field.name)
    if not raw:
        return ""
    return str((sealing.unseal_or_none(raw) if field.secret else raw) or "")


def keys(conn: Connection, provider: str, settings: Settings | None = None) -> dict[str, str]:
    """The provider's configuration: each field as stored here, else the environment's
    (``settings``, by default the process's). The one reader of these keys."""
    stored = _stored(conn)
    return {f.name: _opened(stored, provider, f) or _env(f, settings) for f in PROVIDERS[provider]}


def read_keys(db: Database, provider: str, settings: Settings | None = None) -> dict[str, str]:
    return db.read(lambda conn: keys(conn, provider, settings))


def view(conn: Connection) -> dict[str, list[ProviderKeyView]]:
    """What the settings page shows: plain fields in full, secrets as ``••••`` and their last
    four characters, and where each value comes from (``stored`` or ``environment``)."""
    stored = _stored(conn)
    out: dict[str, list[ProviderKeyView]] = {}
    for provider, fields in PROVIDERS.items():
        rows: list[ProviderKeyView] = []
        for f in fields:
            mine = _opened(stored, provider, f)
            value = mine or _env(f)
            rows.append(
                {
                    "name": f.name,
                    "secret": f.secret,
                    "shown": sealing.shown_secret(value) if f.secret else value,
                    "source": "stored" if mine else "environment",
                }
            )
        out[provider] = rows
    return out


def get_view(db: Database) -> dict[str, list[ProviderKeyView]]:
    return db.read(view)


def put_keys(db: Database, actor: Actor, provider: str, body: Mapping[str, object]) -> None:
    """Sets what ``body`` gives of ``provider``'s fields: a field left empty (or sent as
    shown, ``••••...``) keeps its value; ``-`` clears the stored one (the environment's is
    used again). Secrets are stored encrypted; the audit entry names the fields, never a
    value."""
    if provider not in PROVIDERS:
        raise ValidationFailed.on("provider", "not_one_of", choices=", ".join(PROVIDERS))
    errors = FieldErrors()
    given: dict[str, str] = {}
    for f in PROVIDERS[provider]:
        v = body.get(f.name)
        if v is None:
            continue
        if not isinstance(v, str) or len(v) > MAX_LENGTH:
            errors.add(f.name, "too_long", max=MAX_LENGTH)
        elif check_clean(v, f.name, errors):
            text = v.strip()
            if text and not text.startswith("••••"):
                given[f.name] = text
    errors.raise_if_any()

    def work(conn: Connection) -> None:
        value = {p: dict(v) for p, v in _stored(conn).items() if isinstance(v, dict)}
        section = value.setdefault(provider, {})
        current = keys(conn, provider)
        for f in PROVIDERS[provider]:
            if f.name not in given:
                continue
            if not f.secret and f.name not in section and given[f.name] == current[f.name]:
                continue  # the environment's value sent back as shown: still its
            if given[f.name] == CLEAR:
                section.pop(f.name, None)
            else:
                section[f.name] = sealing.seal(given[f.name]) if f.secret else given[f.name]
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
            )
        )
        audit(
            conn, actor, "update", "setting", f"{KEY}.{provider}", None, {"fields": sorted(given)}
        )

    db.write(work)
