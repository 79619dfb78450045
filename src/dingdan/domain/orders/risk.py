"""Risk scoring of a new order: rules with points, from facts the capture read.

Each rule that fires adds its points and a coded reason; the score is their sum, capped at
100, and its level is ``high`` from the ``high`` threshold, ``medium`` from ``medium``. A
``high`` order, or one whose email, phone or address is on the block list, is held for
review (``hold = "risk_review"``): not picked, packed or shipped until released.

Pure: the service (services/orders/risk.py) reads the facts inside the capture's
transaction and the settings (``settings`` row ``risk``); this module decides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from dingdan.domain.shared.errors import FieldErrors

HOLD = "risk_review"  # the order's hold while it waits for a review
LEVELS = ("low", "medium", "high")
BLOCK_KINDS = ("email", "phone", "address")

# rule -> (points, limit, what the limit means). A velocity rule fires when the earlier
# orders in the window reach its limit; first_order_amount when a customer's first order's
# total reaches it (in the order's currency, whole units); failed_payments and cod_refusals
# when the customer's history reaches it. Rules without a limit fire on the fact alone.
DEFAULT_RULES: dict[str, tuple[int, int | None]] = {
    "velocity_email": (25, 5),
    "velocity_phone": (25, 5),
    "velocity_address": (15, 5),
    "velocity_ip": (20, 10),
    "velocity_card": (25, 5),
    "first_order_amount": (20, 30000),
    "country_mismatch": (20, None),
    "disposable_email": (30, None),
    "failed_payments": (25, 5),
    "cod_refusals": (40, 2),
}
RULES = tuple(DEFAULT_RULES)
MAX_POINTS = 100
MAX_LIMIT = 1_000_000_000
MAX_WINDOW_HOURS = 24 * 30


@dataclass(frozen=True)
class Rule:
    points: int
    limit: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Settings:
    """The seller's risk settings (``settings`` key ``risk``)."""

    enabled: bool = True
    window_hours: int = 24  # the velocity rules count orders this far back
    # A busy returning customer trips the three velocity rules (65): medium, not held.
    medium: int = 40
    high: int = 80
    rules: dict[str, Rule] = field(
        default_factory=lambda: {k: Rule(p, lim) for k, (p, lim) in DEFAULT_RULES.items()}
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "window_hours": self.window_hours,
            "medium": self.medium,
            "high": self.high,
            "rules": {
                k: {"points": r.points, "limit": r.limit, "enabled": r.enabled}
                for k, r in self.rules.items()
            },
        }


def _whole(value: Any, field_name: str, errors: FieldErrors, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.add(field_name, "out_of_range", min=low, max=high)
        return None
    return value


def parse_settings(body: Any) -> Settings:
    """Settings from a request body; fields left out keep their defaults. Raises
    ValidationFailed naming each bad field."""
    errors = FieldErrors()
    if not isinstance(body, dict):
        errors.add("settings", "not_an_object")
        errors.raise_if_any()
    base = Settings()
    out: dict[str, Any] = {}
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            errors.add("enabled", "not_a_boolean")
        out["enabled"] = body["enabled"]
    for name, low, high in (("window_hours", 1, MAX_WINDOW_HOURS), ("medium", 1, 100)):
        if name in body:
            out[name] = _whole(body[name], name, errors, low, high)
    if "high" in body:
        out["high"] = _whole(body["high"], "high", errors, 1, 100)
    medium, high = out.get("medium", base.medium), out.get("high", base.high)
    if isinstance(medium, int) and isinstance(high, int) and medium > high:
        errors.add("high", "out_of_range", min=medium, max=100)
    rules = dict(base.rules)
    given = body.get("rules", {})
    if not isinstance(given, dict):
        errors.add("rules", "not_an_object")
        given = {}
    for name, rule in given.items():
        where = f"rules.{name}"
        if name not in DEFAULT_RULES:
            errors.add(where, "not_one_of", choices=", ".join(RULES))
            continue
        if not isinstance(rule, dict):
            errors.add(where, "not_an_object")
            continue
        old = rules[name]
        points = _whole(rule.get("points", old.points), where + ".points", errors, 0, MAX_POINTS)
        limit = old.limit
        if old.limit is not None and "limit" in rule:
            limit = _whole(rule["limit"], where + ".limit", errors, 1, MAX_LIMIT)
        enabled = rule.get("enabled", old.enabled)
        if not isinstance(enabled, bool):
            errors.add(where + ".enabled", "not_a_boolean")
        rules[name] = Rule(points or 0, limit, bool(enabled))
    errors.raise_if_any()
    return Settings(
        enabled=out.get("enabled", base.enabled),
        window_hours=out.get("window_hours", base.window_hours),
        medium=medium,
        high=high,
        rules=rules,
    )


def stored_settings(value: Any) -> Settings:
    """The stored settings (None: the defaults); a stored value that no longer parses is
    read as the defaults rather than stopping every capture."""
    if not value:
        return Settings()
    try:
        return parse_settings(value)
    except Exception:  # noqa: BLE001 - a damaged setting must not refuse orders
        return Settings()


@dataclass(frozen=True)
class Facts:
    """What the capture knows about a new order and read about its history."""

    email: str | None = None
    orders_by_email: int = 0  # earlier orders in the window, same customer email
    orders_by_phone: int = 0
    orders_by_address: int = 0
    orders_by_ip: int | None = None  # None: the order carries no client IP
    orders_by_card: int | None = None  # None: no card fingerprint known
    earlier_orders: int = 0  # the customer's orders ever (0: this is the first)
    total_minor: int = 0
    decimals: int = 0  # of the order's currency
    currency: str = ""
    shipping_country: str | None = None
    billing_country: str | None = None
    card_country: str | None = None
    failed_payments: int = 0  # the customer's failed payment attempts in the window
    # Parcels refused or returned to sender, by customer or address (both counted only up
    # to their rule's limit: all the rule needs).
    cod_refusals: int = 0
    blocked: tuple[str, ...] = ()  # the kinds (email, phone, address) on the block list


@dataclass(frozen=True)
class Risk:
    score: int
    level: str
    reasons: list[dict[str, Any]]
    hold: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "reasons": self.reasons}


def level_of(score: int, settings: Settings) -> str:
    if score >= settings.high:
        return "high"
    if score >= settings.medium:
        return "medium"
    return "low"


def _reason(code: str, points: int, detail: str) -> dict[str, Any]:
    return {"code": code, "points": points, "detail": detail}


def _fire(
    out: list[dict[str, Any]], s: Settings, code: str, value: int | None, detail: str
) -> None:
    """``code``'s reason in ``out`` when its rule is on and ``value`` reaches its limit."""
    rule = s.rules[code]
    if not rule.enabled or rule.points <= 0 or value is None:
        return
    if rule.limit is None or value >= rule.limit:
        out.append(_reason(code, rule.points, detail))


def _country_mismatch(
    out: list[dict[str, Any]],
    s: Settings,
    shipping: str | None,
    billing: str | None,
    card: str | None,
) -> None:
    others = sorted({c for c in (billing, card) if c} - {shipping})
    if shipping and others:
        _fire(out, s, "country_mismatch", 1, f"ships to {shipping}, billed in {', '.join(others)}")


def _reasons(f: Facts, s: Settings) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def fire(code: str, value: int | None, detail: str) -> None:
        _fire(out, s, code, value, detail)

    w = s.window_hours
    fire("velocity_email", f.orders_by_email, f"{f.orders_by_email} orders by this email in {w} h")
    fire("velocity_phone", f.orders_by_phone, f"{f.orders_by_phone} orders by this phone in {w} h")
    fire(
        "velocity_address",
        f.orders_by_address,
        f"{f.orders_by_address} orders to this address in {w} h",
    )
    fire("velocity_ip", f.orders_by_ip, f"{f.orders_by_ip} orders from this IP in {w} h")
    fire("velocity_card", f.orders_by_card, f"{f.orders_by_card} orders with this card in {w} h")
    if f.earlier_orders == 0:
        whole = f.total_minor // (10**f.decimals)
        fire("first_order_amount", whole, f"first order of {whole} {f.currency}")
    _country_mismatch(out, s, f.shipping_country, f.billing_country, f.card_country)
    domain = email_domain(f.email)
    if domain and is_disposable(domain):
        fire("disposable_email", 1, f"disposable email domain {domain}")
    # Counted up to the rule's limit (services/orders/risk.py bounds the count): "at least".
    fire(
        "failed_payments",
        f.failed_payments,
        f"at least {f.failed_payments} failed payment attempts in {w} h",
    )
    fire("cod_refusals", f.cod_refusals, f"at least {f.cod_refusals} parcels refused or returned")
    return out


def _scored(reasons: list[dict[str, Any]], settings: Settings) -> tuple[int, str]:
    total = min(MAX_POINTS, sum(int(r.get("points") or 0) for r in reasons))
    return total, level_of(total, settings)


def score(facts: Facts, settings: Settings) -> Risk:
    """The order's risk and hold. With risk scoring off, every order is low and only the
    block list holds."""
    reasons = _reasons(facts, settings) if settings.enabled else []
    for kind in facts.blocked:
        reasons.append(_reason("blocklist", 0, f"{kind} is on the block list"))
    total, level = _scored(reasons, settings)
    hold = HOLD if level == "high" or facts.blocked else None
    return Risk(total, level, reasons, hold)


# --- a card payment ------------------------------------------------------------------------

# The rules a card payment's facts decide again (the others keep what the capture found).
CARD_RULES = ("velocity_card", "country_mismatch")


@dataclass(frozen=True)
class CardFacts:
    """What a card payment tells about the order: how many other orders were paid with the
    same card in the window (None: the payment carries no fingerprint), the card's country
    as the provider reports it, and the order's own countries."""

    orders_by_card: int | None
    card_country: str | None
    shipping_country: str | None
    billing_country: str | None


def with_card(previous: dict[str, Any], facts: CardFacts, settings: Settings) -> Risk:
    """The order's risk once a card payment arrived: the capture's reasons kept, those of
    ``CARD_RULES`` decided again with the card's facts. ``hold`` is ``HOLD`` when the level
    became ``high`` now (it was not high before): the caller holds the order unless it has
    shipped. With risk scoring off the order's risk stays as it was."""
    reasons = [dict(r) for r in previous.get("reasons", []) if isinstance(r, dict)]
    was = str(previous.get("level") or "low")
    if not settings.enabled:
        return Risk(int(previous.get("score") or 0), was, reasons, None)
    reasons = [r for r in reasons if r.get("code") not in CARD_RULES]
    w = settings.window_hours
    n = facts.orders_by_card
    _fire(reasons, settings, "velocity_card", n, f"{n} other orders with this card in {w} h")
    _country_mismatch(
        reasons, settings, facts.shipping_country, facts.billing_country, facts.card_country
    )
    total, level = _scored(reasons, settings)
    was_high = was == "high"
    return Risk(total, level, reasons, HOLD if level == "high" and not was_high else None)


# --- the block list's keys -----------------------------------------------------------------

_ADDRESS_NOISE = re.compile(r"[\s,.\-#/()、，。－（）]+")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def email_key(email: str | None) -> str | None:
    return _fold(email) or None if email else None


def phone_key(phone: str | None) -> str | None:
    """Digits with a leading ``+`` kept: the E.164 form the capture stores."""
    if not phone:
        return None
    text = _fold(phone)
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        return None
    return ("+" + digits) if text.startswith("+") else digits


def address_key(line1: str | None, line2: str | None = None) -> str | None:
    """The street part of an address as the block list matches it: NFKC, case folded,
    without blanks and punctuation (``No. 7, Sec. 5`` and ``no7sec5`` are one address)."""
    text = " ".join(x for x in (line1, line2) if x)
    key = _ADDRESS_NOISE.sub("", _fold(text)) if text else ""
    return key[:300] or None


def block_key(kind: str, value: str) -> str | None:
    if kind == "email":
        return email_key(value)
    if kind == "phone":
        return phone_key(value)
    return address_key(value)


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return _fold(email.rsplit("@", 1)[1]).rstrip(".") or None


@lru_cache(maxsize=1)
def disposable_domains() -> frozenset[str]:
    """The disposable email domains shipped with the package (data/disposable_domains.txt)."""
    text = resources.files("dingdan.domain.orders").joinpath("data/disposable_domains.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip().casefold() for ln in lines if ln.strip() and not ln.startswith("#"))


def is_disposable(domain: str) -> bool:
    """A listed domain or a subdomain of one."""
    listed = disposable_domains()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))
