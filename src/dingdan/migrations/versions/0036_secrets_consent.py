"""Secrets at rest encrypted (webhook endpoints' secrets, channels' and carriers' webhook
secrets, message providers' tokens); customer_consents (issue 26, parts 5 and 6)

The secret columns grow to hold a Fernet token, and every value already stored is encrypted
with the key from DINGDAN_SECRET_KEY (db/secrets.py). Without that variable the key is the
development default (the one `dingdan serve` refuses on any address but a loopback one): a
demo's secrets are encrypted all the same, and `dingdan secrets rotate` re-encrypts them
once a real key is set (with the default in DINGDAN_SECRET_KEY_OLD).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 10:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types
from dingdan.db import secrets

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)
# table -> (key column, secret columns, their length before)
SECRET_COLUMNS = {
    "channels": ("id", ("webhook_secret",), 200),
    "carriers": ("id", ("webhook_secret",), 100),
    "webhook_endpoints": ("id", ("secret", "previous_secret"), 100),
}
PROVIDERS_KEY = "message_providers"
PROVIDER_SECRETS = {"line": ("channel_access_token",), "sms": ("auth_token",)}


def _widen(length: int) -> None:
    for table, (_, columns, before) in SECRET_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=before),
                    type_=sa.String(length=length),
                    existing_nullable=column != "secret",
                )


def _convert(change: object) -> None:
    """Every stored secret passed through ``change`` (seal on upgrade, unseal on
    downgrade)."""
    conn = op.get_bind()
    for table, (key, columns, _) in SECRET_COLUMNS.items():
        t = sa.table(table, sa.column(key), *(sa.column(c, sa.String) for c in columns))
        for row in conn.execute(sa.select(t)).mappings().all():
            values = {c: change(row[c]) for c in columns}  # type: ignore[operator]
            if values != {c: row[c] for c in columns}:
                conn.execute(sa.update(t).where(t.c[key] == row[key]).values(**values))
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    value = conn.execute(
        sa.select(settings.c.value).where(settings.c.key == PROVIDERS_KEY)
    ).scalar()
    if isinstance(value, dict):
        new = {
            p: (
                {
                    f: (change(v) if f in PROVIDER_SECRETS.get(p, ()) else v)  # type: ignore[operator]
                    for f, v in fields.items()
                }
                if isinstance(fields, dict)
                else fields
            )
            for p, fields in value.items()
        }
        conn.execute(sa.update(settings).where(settings.c.key == PROVIDERS_KEY).values(value=new))


def upgrade() -> None:
    _widen(secrets.STORED_LENGTH)
    _convert(lambda v: secrets.seal(v) if v and not secrets.is_sealed(v) else v)
    op.create_table(
        "customer_consents",
        sa.Column("id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_consents_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_consents")),
    )
    op.create_index(
        "ix_customer_consents_customer",
        "customer_consents",
        ["customer_id", "purpose", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_customer_consents_customer", table_name="customer_consents")
    op.drop_table("customer_consents")
    _convert(secrets.unseal)
    for table, (_, columns, before) in SECRET_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=secrets.STORED_LENGTH),
                    type_=sa.String(length=before),
                    existing_nullable=column != "secret",
                )
