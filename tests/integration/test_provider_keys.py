"""The keys of ECPay and the e-invoice centres stored by an admin (issue 26, part 6): kept
encrypted, never shown again but as their last four characters, read by each provider's
one reader before the environment's, cleared back to the environment, re-encrypted by
`dingdan secrets rotate`; and the card fingerprints that rotation computes again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dingdan.cli.main import app as cli
from dingdan.config import get_settings
from dingdan.db import secrets as sealing
from dingdan.db.order_tables import Payment
from dingdan.db.secrets import EncryptedText
from dingdan.domain.payments import cards
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.invoicing.centres import centre_from_settings
from dingdan.services.payments import ecpay_log
from dingdan.services.shared import provider_keys, secrets
from tests.builders import ADMIN, TEA_SHOP, post_order

runner = CliRunner()
HASH_KEY, HASH_IV = "ProdHashKey0001A", "ProdHashIV00002B"
APP_KEY = "amego-app-key-000000QzX9"

stocked = TEA_SHOP.fixture()


@pytest.fixture
def keys(monkeypatch, db_url):
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)

    def use(current: str, old: str = "") -> None:
        monkeypatch.setenv("DINGDAN_SECRET_KEY", current)
        monkeypatch.setenv("DINGDAN_SECRET_KEY_OLD", old)
        get_settings.cache_clear()

    use("first-key-for-tests")
    yield use
    get_settings.cache_clear()


def _stored(db) -> str:
    return str(
        db.read(
            lambda c: c.execute(
                sa.text("SELECT value FROM settings WHERE key = 'provider_keys'")
            ).scalar()
        )
    )


def test_keys_are_stored_encrypted_shown_by_their_last_four_and_read_before_the_env(db, keys):
    assert ecpay_log.hash_keys(db) == (
        get_settings().ecpay_hash_key.get_secret_value(),
        get_settings().ecpay_hash_iv.get_secret_value(),
    )
    provider_keys.put_keys(
        db,
        ADMIN,
        "ecpay_payments",
        {"merchant_id": "3150123", "hash_key": HASH_KEY, "hash_iv": HASH_IV},
    )
    provider_keys.put_keys(db, ADMIN, "einvoice_amego", {"app_key": APP_KEY})
    stored = _stored(db)
    assert HASH_KEY not in stored and HASH_IV not in stored and APP_KEY not in stored
    assert stored.count(sealing.PREFIX) == 3 and "3150123" in stored
    assert ecpay_log.hash_keys(db) == (HASH_KEY, HASH_IV)
    view = provider_keys.get_view(db)
    assert view["ecpay_payments"] == [
        {"name": "merchant_id", "secret": False, "shown": "3150123", "source": "stored"},
        {"name": "hash_key", "secret": True, "shown": "••••001A", "source": "stored"},
        {"name": "hash_iv", "secret": True, "shown": "••••002B", "source": "stored"},
    ]
    assert [r["source"] for r in view["einvoice_amego"]] == ["environment", "stored"]
    amego = provider_keys.read_keys(db, "einvoice_amego")
    assert amego == {"ubn": get_settings().einvoice_amego_ubn, "app_key": APP_KEY}
    settings = get_settings().model_copy(update={"einvoice_centre": "amego"})
    assert centre_from_settings(db, settings)._app_key == APP_KEY  # type: ignore[union-attr]
    # Sent back as shown (or empty) a key is kept; "-" clears it: the environment's again.
    provider_keys.put_keys(db, ADMIN, "ecpay_payments", {"hash_key": "••••001A", "hash_iv": ""})
    assert ecpay_log.hash_keys(db) == (HASH_KEY, HASH_IV)
    provider_keys.put_keys(db, ADMIN, "ecpay_payments", {"hash_key": "-"})
    assert ecpay_log.hash_keys(db)[0] == get_settings().ecpay_hash_key.get_secret_value()
    with pytest.raises(ValidationFailed):
        provider_keys.put_keys(db, ADMIN, "ecpay_payments", {"hash_key": "a\x00b"})
    with pytest.raises(ValidationFailed):
        provider_keys.put_keys(db, ADMIN, "nope", {})
    assert ecpay_log.hash_keys(db) == (get_settings().ecpay_hash_key.get_secret_value(), HASH_IV)


def test_rotation_reencrypts_stored_keys_and_computes_card_fingerprints_again(
    api, db, stocked, keys
):
    provider_keys.put_keys(db, ADMIN, "einvoice_ecpay", {"hash_key": HASH_KEY, "hash_iv": HASH_IV})
    order = post_order(api)
    r = api.post(
        f"/api/v1/orders/{order['number']}/payments",
        json={"amount": order["total"], "method": "card"},
        role="finance",
    )
    old_fp = cards.fingerprint_of(sealing.card_fingerprint_key(), "ecpay", "431195", "2222")
    db.write(
        lambda c: c.execute(
            sa.update(Payment)
            .where(Payment.id == int(r.json()["id"]))
            .values(provider="ecpay", card_bin="431195", card_last4="2222", card_fingerprint=old_fp)
        )
    )
    before = _stored(db)
    keys("second-key", old="first-key-for-tests")
    result = runner.invoke(cli, ["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "2 secrets encrypted with the current key" in result.output
    assert "1 card fingerprints computed with it" in result.output
    keys("second-key")
    assert _stored(db) != before
    assert provider_keys.read_keys(db, "einvoice_ecpay")["hash_key"] == HASH_KEY
    new_fp = db.read(lambda c: c.execute(sa.select(Payment.card_fingerprint)).scalar())
    assert new_fp != old_fp
    assert new_fp == cards.fingerprint_of(sealing.card_fingerprint_key(), "ecpay", "431195", "2222")


def test_the_secret_columns_are_every_encrypted_column_of_the_metadata():
    assert secrets.SECRET_COLUMNS == {
        "carriers": ("id", ("webhook_secret",)),
        "channels": ("id", ("webhook_secret",)),
        "webhook_endpoints": ("id", ("secret", "previous_secret")),
    }
    later = sa.MetaData()
    sa.Table(
        "sms_gateways",
        later,
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("api_secret", EncryptedText()),
        sa.Column("note", sa.String(100)),
    )
    assert secrets.secret_columns(later) == {"sms_gateways": ("code", ("api_secret",))}
