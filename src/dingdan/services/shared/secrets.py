"""Secrets at rest (issue 26, part 6): where they are stored, how they are shown once
entered, and the rotation that re-encrypts every one of them with the current key.

Stored encrypted (db/secrets.py, key from ``DINGDAN_SECRET_KEY``): the signing secrets of
outgoing webhook endpoints (``webhook_endpoints.secret``, ``previous_secret``), the webhook
secrets of channels and carriers, the message providers' tokens (settings
``message_providers``: LINE's channel access token, Twilio's auth token) and LINE Pay's
channel secret (settings ``linepay``). The SMTP URL, the
e-invoice centres' keys and the QR key are settings from the environment, never in the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from dingdan.db import secrets as sealing
from dingdan.db.engine import Database

# table -> (key column, its secret columns)
SECRET_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "channels": ("id", ("webhook_secret",)),
    "carriers": ("id", ("webhook_secret",)),
    "webhook_endpoints": ("id", ("secret", "previous_secret")),
}
# settings key -> {section: its secret fields}; section "" is the value itself
SECRET_SETTINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "message_providers": {"line": ("channel_access_token",), "sms": ("auth_token",)},
    "linepay": {"": ("channel_secret",)},
}

shown = sealing.shown_secret
SecretKeyMismatch = sealing.SecretKeyMismatch


@dataclass(frozen=True)
class Rotated:
    resealed: int  # values sealed again with the current key
    plain_sealed: int  # of them, values that were stored unencrypted


def _reseal_columns(conn: Connection, ring: Any, counts: list[int]) -> None:
    for table, (key, columns) in SECRET_COLUMNS.items():
        # Plain String columns: the stored text itself, not what EncryptedText opens.
        t = sa.table(table, sa.column(key), *(sa.column(c, sa.String) for c in columns))
        for row in conn.execute(sa.select(t)).mappings().all():
            values = {}
            for c in columns:
                if row[c]:
                    values[c] = sealing.reseal(row[c], ring)
                    counts[0] += 1
                    counts[1] += not sealing.is_sealed(row[c])
            if values:
                conn.execute(sa.update(t).where(t.c[key] == row[key]).values(**values))


def _reseal_settings(conn: Connection, ring: Any, counts: list[int]) -> None:
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    for name, sections in SECRET_SETTINGS.items():
        value = conn.execute(sa.select(settings.c.value).where(settings.c.key == name)).scalar()
        if not isinstance(value, dict):
            continue
        new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in value.items()}
        for section, fields in sections.items():
            holder = new if section == "" else new.get(section)
            for f in fields:
                stored = holder.get(f) if isinstance(holder, dict) else None
                if stored and isinstance(holder, dict):
                    holder[f] = sealing.reseal(stored, ring)
                    counts[0] += 1
                    counts[1] += not sealing.is_sealed(stored)
        conn.execute(sa.update(settings).where(settings.c.key == name).values(value=new))


def rotate(db: Database) -> Rotated:
    """Every stored secret sealed again with the current ``DINGDAN_SECRET_KEY`` (those
    sealed with a key of ``DINGDAN_SECRET_KEY_OLD`` opened with it; plain ones sealed), in
    one transaction: a key that opens none of them stops it with nothing changed."""
    ring = sealing.keyring()
    counts = [0, 0]

    def work(conn: Connection) -> Rotated:
        _reseal_columns(conn, ring, counts)
        _reseal_settings(conn, ring, counts)
        return Rotated(counts[0], counts[1])

    return db.write(work)
