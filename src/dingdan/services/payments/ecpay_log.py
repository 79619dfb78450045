"""ECPay's settings (the one reader of its secrets) and the log of every exchange with it
(``payment_exchanges``): each request and callback kept before it is acted on, its answer
after, neither inside a transaction that may run twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, update

from dingdan.config import get_settings
from dingdan.db.ecpay_tables import PaymentExchange
from dingdan.db.engine import Database
from dingdan.db.types import utcnow
from dingdan.domain.payments import ecpay as ec
from dingdan.domain.shared.errors import InvalidTransition
from dingdan.domain.shared.text import storable
from dingdan.services.shared import provider_keys

CODE = "ecpay"
KEYS = "ecpay_payments"  # its section of the stored provider keys
MAX_TEXT = 100_000


# ---- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    mode: str  # stage, production
    merchant_id: str
    url: str  # the service's address, without a trailing slash
    timeout: float

    def __repr__(self) -> str:  # the keys are never part of it
        return f"ecpay.Config(mode={self.mode!r}, merchant_id={self.merchant_id!r})"


def config(db: Database) -> Config | None:
    """ECPay's settings (``DINGDAN_ECPAY_*``; the MerchantID as an admin stored it, else the
    environment's); None while ``DINGDAN_ECPAY_MODE`` is empty (the pay page then offers no
    ECPay way to pay)."""
    s = get_settings()
    mode = s.ecpay_mode.strip().lower()
    if mode not in ("stage", "production"):
        return None
    url = s.ecpay_url.strip() or (ec.STAGE_URL if mode == "stage" else ec.PRODUCTION_URL)
    merchant_id = provider_keys.read_keys(db, KEYS)["merchant_id"]
    return Config(mode, merchant_id, url.rstrip("/"), s.ecpay_timeout)


def hash_keys(db: Database) -> tuple[str, str]:
    """HashKey and HashIV: the one place that reads ECPay's secrets (stored by an admin,
    else the environment's: services/shared/provider_keys.py)."""
    keys = provider_keys.read_keys(db, KEYS)
    return keys["hash_key"], keys["hash_iv"]


def configured(db: Database) -> Config:
    found = config(db)
    if found is None:
        raise InvalidTransition(detail="ECPay is not set up (DINGDAN_ECPAY_MODE).")
    return found


# ---- the exchanges log ---------------------------------------------------------------------


def text(body: str | bytes | None) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    return storable(body, MAX_TEXT)


def exchange(
    conn: Connection, operation: str, direction: str, reference: str, url: str, body: str
) -> int:
    return int(
        conn.execute(
            insert(PaymentExchange)
            .values(
                provider=CODE,
                operation=operation,
                direction=direction,
                reference=(text(reference) or "-")[:40],
                url=url[:500],
                request_body=text(body) or "",
                outcome="pending",
                at=utcnow(),
            )
            .returning(PaymentExchange.id)
        ).scalar_one()
    )


def finish(db: Database, exchange_id: int, outcome: str, **values: Any) -> None:
    values = {k: v for k, v in values.items()}
    if values.get("response_body") is not None:
        values["response_body"] = text(values["response_body"])
    if values.get("error"):
        values["error"] = (text(str(values["error"])) or "")[:1000]
    if values.get("code") is not None:
        values["code"] = (text(str(values["code"])) or "")[:40]
    db.write(
        lambda conn: conn.execute(
            update(PaymentExchange)
            .where(PaymentExchange.id == exchange_id)
            .values(outcome=outcome, answered_at=utcnow(), **values)
        )
    )
