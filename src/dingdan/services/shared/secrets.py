"""Secrets at rest (issue 26, part 6): where they are stored, how they are shown once
entered, and the rotation that re-encrypts every one of them with the current key.

Stored encrypted (db/secrets.py, key from ``DINGDAN_SECRET_KEY``): every column of the
``EncryptedText`` type, found in the tables' metadata (``SECRET_COLUMNS``: the signing
secrets of outgoing webhook endpoints, the webhook secrets of channels and carriers, and
any secret column added later), the message providers' tokens (settings
``message_providers``: LINE's channel access token, Twilio's auth token), LINE Pay's channel
secret (settings ``linepay``) and the keys of ECPay and the e-invoice centres an admin
stored (settings ``provider_keys``, services/shared/provider_keys.py). The SMTP URL and the
QR key are settings from the environment, never in the database.

The rotation also computes again the fingerprints of the cards whose digits a provider
told (payments.card_bin, card_last4: domain/payments/cards.py), whose key derives from
``DINGDAN_SECRET_KEY`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, MetaData

from dingdan.db import all_tables
from dingdan.db import secrets as sealing
from dingdan.db.engine import Database
from dingdan.domain.payments import cards
from dingdan.services.shared.provider_keys import KEY as PROVIDER_KEYS
from dingdan.services.shared.provider_keys import SECRET_FIELDS


def secret_columns(metadata: MetaData) -> dict[str, tuple[str, tuple[str, ...]]]:
    """table -> (its key column, its secret columns): the ``EncryptedText`` columns of
    ``metadata``, so that a new secret column is rotated without being listed anywhere."""
    out = {}
    for table in metadata.sorted_tables:
        columns = tuple(c.name for c in table.columns if isinstance(c.type, sealing.EncryptedText))
        if columns:
            (key,) = (c.name for c in table.primary_key.columns)
            out[table.name] = (key, columns)
    return out


SECRET_COLUMNS = secret_columns(all_tables.tables.Base.metadata)
# settings key -> {section: its secret fields}; section "" is the value itself
SECRET_SETTINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "message_providers": {"line": ("channel_access_token",), "sms": ("auth_token",)},
    "linepay": {"": ("channel_secret",)},
    PROVIDER_KEYS: SECRET_FIELDS,
}

shown = sealing.shown_secret
SecretKeyMismatch = sealing.SecretKeyMismatch


@dataclass(frozen=True)
class Rotated:
    resealed: int  # values sealed again with the current key
    plain_sealed: int  # of them, values that were stored unencrypted
    fingerprints: int = 0  # card fingerprints computed again with the current key


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
        return Rotated(counts[0], counts[1], _refingerprint(conn))

    return db.write(work)


def _refingerprint(conn: Connection) -> int:
    """The fingerprints of the cards whose digits are kept, computed with the current key."""
    key = sealing.card_fingerprint_key()
    p = sa.table(
        "payments",
        sa.column("id"),
        sa.column("provider", sa.String),
        sa.column("card_bin", sa.String),
        sa.column("card_last4", sa.String),
        sa.column("card_fingerprint", sa.String),
    )
    rows = conn.execute(
        sa.select(p).where(p.c.card_bin.is_not(None), p.c.card_last4.is_not(None))
    ).all()
    changed = 0
    for r in rows:
        new = cards.fingerprint_of(key, r.provider, r.card_bin, r.card_last4)
        if new != r.card_fingerprint:
            conn.execute(sa.update(p).where(p.c.id == r.id).values(card_fingerprint=new))
            changed += 1
    return changed
