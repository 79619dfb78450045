"""Secrets at rest (issue 26, part 6): webhook secrets, carriers' and channels' signing
secrets and message providers' tokens are stored encrypted with a key from
DINGDAN_SECRET_KEY, read back as they were, shown only as their last characters, and
re-encrypted with a new key by `dingdan secrets rotate`."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dingdan.cli.main import app as cli
from dingdan.config import get_settings
from dingdan.db import secrets as sealing
from dingdan.services.catalog import channels_and_taxes
from dingdan.services.fulfilment import carriers
from dingdan.services.integrations import webhooks
from dingdan.services.messaging import channels
from tests.builders import ADMIN

runner = CliRunner()
CHANNEL_SECRET = "whsec_" + "c2hvcGlmeS1zZWNyZXQtZm9yLXRlc3Rz"
CARRIER_SECRET = "whsec_" + "Y2Fycmllci1zZWNyZXQtZm9yLXRlc3Rz"
LINE_TOKEN = "line-token-0123456789-abcdef-4f2a"
SMS_TOKEN = "twilio-auth-token-9876543210-77aa"


@pytest.fixture
def keys(monkeypatch, db_url):
    """Sets DINGDAN_SECRET_KEY (and _OLD) for the code and the CLI."""
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)

    def use(current: str, old: str = "") -> None:
        monkeypatch.setenv("DINGDAN_SECRET_KEY", current)
        monkeypatch.setenv("DINGDAN_SECRET_KEY_OLD", old)
        get_settings.cache_clear()

    use("first-key-for-tests")
    yield use
    get_settings.cache_clear()


def _stored(db) -> list[str]:
    """Every stored secret as the database holds it."""

    def read(conn):
        out = []
        for table, (_, cols) in {
            "channels": ("id", ("webhook_secret",)),
            "carriers": ("id", ("webhook_secret",)),
            "webhook_endpoints": ("id", ("secret", "previous_secret")),
        }.items():
            t = sa.table(table, *(sa.column(c, sa.String) for c in cols))
            for row in conn.execute(sa.select(t)).all():
                out += [v for v in row if v]
        value = conn.execute(
            sa.text("SELECT value FROM settings WHERE key = 'message_providers'")
        ).scalar()
        out.append(str(value))
        return out

    return db.read(read)


def _secrets_everywhere(db) -> str:
    channels_and_taxes.create_channel(
        db,
        ADMIN,
        {"code": "shop", "name": "Shop", "kind": "standard", "webhook_secret": CHANNEL_SECRET},
    )
    carriers.set_webhook_secret(db, ADMIN, "tcat", CARRIER_SECRET)
    made = webhooks.create_endpoint(
        db, ADMIN, {"url": "https://example.com/hook", "events": ["order.created"]}
    )
    webhooks.rotate_secret(db, ADMIN, made["id"])
    channels.put_providers(
        db,
        ADMIN,
        {
            "line": {"channel_access_token": LINE_TOKEN},
            "sms": {"account_sid": "AC1", "auth_token": SMS_TOKEN, "from_number": "+886900000000"},
        },
    )
    return str(made["secret"])


def _read_back(db, endpoint_secret: str) -> None:
    from dingdan.db.order_tables import CarrierRow, Channel
    from dingdan.db.webhook_tables import WebhookEndpoint

    def read(conn):
        return (
            conn.execute(sa.select(Channel.webhook_secret).where(Channel.code == "shop")).scalar(),
            conn.execute(
                sa.select(CarrierRow.webhook_secret).where(CarrierRow.code == "tcat")
            ).scalar(),
            conn.execute(sa.select(WebhookEndpoint.previous_secret)).scalar(),
            channels.load(conn),
        )

    channel, carrier, previous, providers = db.read(read)
    assert (channel, carrier, previous) == (CHANNEL_SECRET, CARRIER_SECRET, endpoint_secret)
    assert providers["line"]["channel_access_token"] == LINE_TOKEN
    assert providers["sms"]["auth_token"] == SMS_TOKEN


def test_secrets_are_stored_encrypted_and_read_back(db, keys):
    first = _secrets_everywhere(db)
    stored = _stored(db)
    assert len(stored) == 5
    for secret in (CHANNEL_SECRET, CARRIER_SECRET, first, LINE_TOKEN, SMS_TOKEN):
        assert all(secret not in s for s in stored)
    assert all(s.startswith(sealing.PREFIX) for s in stored[:4])
    _read_back(db, first)
    shown = channels.get_providers(db)
    assert shown["line"]["channel_access_token"] == "••••4f2a"
    assert shown["sms"]["auth_token"] == "••••77aa"
    # Sent back as shown, a secret is kept.
    channels.put_providers(
        db,
        ADMIN,
        {
            "line": {"channel_access_token": "••••4f2a"},
            "sms": {"account_sid": "AC1", "auth_token": "••••", "from_number": "+886900000000"},
        },
    )
    _read_back(db, first)


def test_rotation_reencrypts_every_secret_with_the_new_key(db, keys):
    first = _secrets_everywhere(db)
    before = _stored(db)
    keys("second-key", old="first-key-for-tests")
    _read_back(db, first)  # the old key still opens them
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "6 secrets encrypted with the current key (0 of them" in result.output
    after = _stored(db)
    assert after != before and len(after) == 5
    keys("second-key")  # the old key gone: everything still opens
    _read_back(db, first)
    keys("a-wrong-key")  # read as not set (signed deliveries refused), never a failure
    assert carriers.get_carrier(db, "tcat")["webhook_secret_set"] is False
    assert channels.get_providers(db)["line"]["configured"] is False
    with pytest.raises(sealing.SecretKeyMismatch):
        sealing.unseal(_stored(db)[0])
    refused = runner.invoke(cli, ["secrets", "rotate"])
    assert refused.exit_code == 1 and "DINGDAN_SECRET_KEY_OLD" in refused.output
    keys("second-key")
    _read_back(db, first)


def test_the_migration_encrypts_the_secrets_stored_before_it(db, db_url, keys):
    from alembic import command

    from dingdan import bootstrap

    first = _secrets_everywhere(db)
    db.dispose()
    config = bootstrap.alembic_config(db_url)
    # The migration by its name, whatever number the chain gave it.
    versions = Path(bootstrap.__file__).parent / "migrations" / "versions"
    (found,) = versions.glob("*_secrets_consent.py")
    before = importlib.import_module(f"dingdan.migrations.versions.{found.stem}")
    command.downgrade(config, before.down_revision)  # as stored before: in the clear
    plain = _stored(db)
    assert CHANNEL_SECRET in plain and any(LINE_TOKEN in s for s in plain)
    command.upgrade(config, "head")
    stored = _stored(db)
    assert all(CHANNEL_SECRET not in s and LINE_TOKEN not in s for s in stored)
    _read_back(db, first)


def test_a_value_stored_in_the_clear_is_read_and_sealed_by_the_rotation(db, keys):
    _secrets_everywhere(db)
    db.write(
        lambda c: c.execute(
            sa.text("UPDATE carriers SET webhook_secret = :s WHERE code = 'tcat'"),
            {"s": CARRIER_SECRET},
        )
    )
    assert carriers.get_carrier(db, "tcat")["webhook_secret_set"]
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert "(1 of them were stored unencrypted)" in result.output, result.output
    assert all(CARRIER_SECRET not in s for s in _stored(db))
