"""Checks of an order request that need no database; every bad field is reported at once."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from dingdan.domain.inventory.stock import check_quantity
from dingdan.domain.orders import delivery as delivery_rules
from dingdan.domain.orders import invoice_request
from dingdan.domain.orders.rules import PaymentMethod
from dingdan.domain.shared import contact, money
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.text import check_clean

_METHODS = frozenset(m.value for m in PaymentMethod)
# The languages an order's messages may be in, and the default by shipping country.
LOCALES = ("zh-Hant", "zh-Hans", "en")
_LOCALE_OF_COUNTRY = {"TW": "zh-Hant", "HK": "zh-Hant", "MO": "zh-Hant", "CN": "zh-Hans"}
_LOCALE_OF_COUNTRY["SG"] = "zh-Hans"


def default_locale(country: str | None) -> str:
    """The contract's default: TW, HK, MO → zh-Hant; CN, SG → zh-Hans; else en."""
    return _LOCALE_OF_COUNTRY.get((country or "").upper(), "en")


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: str | None  # checked against the currency once the product is known


@dataclass(frozen=True)
class OrderInput:
    channel: str
    external_id: str | None
    currency: str
    email: str | None
    phone: str | None
    name: str | None
    address: contact.Address
    lines: tuple[LineInput, ...]
    shipping_minor: int
    payment_method: str
    note: str | None
    locale: str = "en"  # the language of the customer's messages
    # The invoice asked for (None: a printed B2C invoice), kept in the order's events.
    invoice: invoice_request.InvoiceRequest | None = None
    # Pickup instead of delivery to the address (domain/orders/delivery.py); None: shipped.
    delivery: dict[str, str] | None = None
    # What the channel tells of the buyer, for the risk rules.
    client_ip: str | None = None
    billing_address: contact.Address | None = None


def _customer(data: Any, country: str | None, errors: FieldErrors) -> tuple[Any, Any, Any]:
    if not isinstance(data, dict):
        errors.add("customer", "customer_required")
        return None, None, None
    email = phone = None
    if data.get("email") is not None:
        email = contact.normalize_email(data["email"], "customer.email", errors)
    if data.get("phone") is not None:
        phone = contact.normalize_phone(data["phone"], "customer.phone", errors, country)
    if data.get("email") is None and data.get("phone") is None:
        errors.add("customer", "customer_required")
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        errors.add("customer.name", "too_long", max=200)
    else:
        check_clean(name, "customer.name", errors)
    return email, phone, name.strip() if isinstance(name, str) else None


def _lines(data: Any, errors: FieldErrors) -> tuple[LineInput, ...]:
    if not isinstance(data, list) or not data:
        errors.add("lines", "no_lines")
        return ()
    out = []
    for i, ln in enumerate(data):
        if not isinstance(ln, dict):
            errors.add(f"lines[{i}]", "not_an_object")
            continue
        if not isinstance(ln.get("sku"), str) or not ln["sku"]:
            errors.add(f"lines[{i}].sku", "required")
        check_quantity(ln.get("quantity"), f"lines[{i}].quantity", errors)
        price = ln.get("unit_price")
        if price is not None and not isinstance(price, str):
            errors.add(f"lines[{i}].unit_price", "not_a_number")
        out.append(LineInput(str(ln.get("sku")), ln.get("quantity") or 0, price))
    return tuple(out)


def _money(value: Any, currency: str | None, field: str, errors: FieldErrors) -> int:
    if value is None or currency is None:
        return 0
    try:
        return money.parse_amount(value, currency, field)
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
        return 0


def _country(data: Any) -> str | None:
    """The address's country when it is valid although another field of the address is not:
    a phone without ``+`` is still read as a number of that country, so that a bad postal
    code is reported on the postal code alone (not on a valid phone too)."""
    if not isinstance(data, dict):
        return None
    return contact.check_country(data.get("country"), "", FieldErrors())


def validate(body: dict[str, Any], channels: set[str]) -> OrderInput:
    errors = FieldErrors()
    channel = body.get("channel")
    if channel not in channels:
        errors.add("channel", "not_one_of", choices=", ".join(sorted(channels)))
    currency = body.get("currency")
    if not money.is_currency(currency):
        errors.add("currency", "invalid_currency")
        currency = None
    delivery = delivery_rules.check(body.get("delivery"), errors)
    address = None
    if not isinstance(body.get("shipping_address"), dict):
        errors.add("shipping_address", "required")
    else:
        address = contact.validate_address(
            body["shipping_address"], "shipping_address", errors, pickup=_picked_up(body)
        )
    country = address.country if address else _country(body.get("shipping_address"))
    email, phone, name = _customer(body.get("customer"), country, errors)
    lines = _lines(body.get("lines"), errors)
    for i, ln in enumerate(lines):
        if ln.unit_price is not None:
            _money(ln.unit_price, currency, f"lines[{i}].unit_price", errors)
    shipping = _money(body.get("shipping_price", "0"), currency, "shipping_price", errors)
    method = body.get("payment_method")
    if method not in _METHODS:
        errors.add("payment_method", "not_one_of", choices=", ".join(PaymentMethod))
    external = body.get("external_id")
    if external is not None and (not isinstance(external, str) or not 0 < len(external) <= 100):
        errors.add("external_id", "text_length", max=100)
    else:
        check_clean(external, "external_id", errors)
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.add("note", "too_long", max=1000)
    else:
        check_clean(note, "note", errors, multiline=True)
    locale = body.get("locale")
    if locale is not None and locale not in LOCALES:
        errors.add("locale", "not_one_of", choices=", ".join(LOCALES))
    invoice = invoice_request.check(body.get("invoice"), errors)
    client_ip = _client_ip(body.get("client_ip"), errors)
    billing = None
    if body.get("billing_address") is not None:
        billing = contact.validate_address(body["billing_address"], "billing_address", errors)
    errors.raise_if_any()
    assert address is not None and isinstance(currency, str)
    return OrderInput(
        channel=str(channel),
        external_id=external,
        currency=currency,
        email=email,
        phone=phone,
        name=name or address.name,
        address=address,
        lines=lines,
        shipping_minor=shipping,
        payment_method=str(method),
        note=body.get("note"),
        locale=locale or default_locale(address.country),
        invoice=invoice,
        delivery=delivery,
        client_ip=client_ip,
        billing_address=billing,
    )


def _picked_up(body: dict[str, Any]) -> bool:
    """Whether the order asks for a pickup (its other delivery fields may still be wrong):
    the shipping address then needs only name, phone and country."""
    d = body.get("delivery")
    return isinstance(d, dict) and d.get("type") in delivery_rules.TYPES


def _client_ip(value: Any, errors: FieldErrors) -> str | None:
    """The buyer's IP address as the channel saw it (IPv4 or IPv6), written canonically."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 45:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            pass
    errors.add("client_ip", "invalid", reason="an IPv4 or IPv6 address")
    return None
