"""The tests' data in one place: products, locations and stock made through the services,
bodies of orders as ``POST /api/v1/orders`` and ``orders.place_order`` take them, and orders
taken through the API as far as a test needs them (placed, paid, shipped).

A module's catalog is a ``Shop``; ``stocked = SHOP.fixture()`` makes it the module's
``stocked`` fixture (the database, stocked)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from dingdan.db.engine import Database
from dingdan.domain.access.roles import Role
from dingdan.services.catalog import products as catalog
from dingdan.services.inventory import locations
from dingdan.services.inventory import stock as inventory
from dingdan.services.shared.common import Actor

ADMIN = Actor("test:admin", Role.ADMIN)


# ---- catalog and stock -------------------------------------------------------------------


def product(
    db: Database, sku: str, price: str = "100.00", currency: str = "TWD", **extra: Any
) -> dict[str, Any]:
    return catalog.create_product(
        db,
        ADMIN,
        {"sku": sku, "name": f"Product {sku}", "price": price, "currency": currency, **extra},
    )


def location(db: Database, code: str, priority: int = 0, country: str = "TW") -> dict[str, Any]:
    return locations.create_location(
        db,
        ADMIN,
        {"code": code, "name": f"Warehouse {code}", "country": country, "priority": priority},
    )


def receive(db: Database, loc: str, quantities: Mapping[str, int]) -> None:
    inventory.receive(
        db,
        ADMIN,
        {"location": loc, "lines": [{"sku": sku, "quantity": q} for sku, q in quantities.items()]},
    )


@dataclass(frozen=True)
class Shop:
    """A catalog and its stock, made in this order: the products (sku -> price, or the
    product's fields), the locations (code -> priority), then one receipt per location
    (code -> {sku: units})."""

    products: Mapping[str, str | Mapping[str, Any]]
    locations: Mapping[str, int]
    stock: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def build(self, db: Database) -> Database:
        for sku, spec in self.products.items():
            fields = {"price": spec} if isinstance(spec, str) else dict(spec)
            product(db, sku, **fields)
        for code, priority in self.locations.items():
            location(db, code, priority=priority)
        for code, quantities in self.stock.items():
            receive(db, code, quantities)
        return db

    def fixture(self) -> Any:
        """A ``stocked`` fixture: the test's database with this shop in it."""

        @pytest.fixture(name="stocked")
        def stocked(db: Database) -> Database:
            return self.build(db)

        return stocked


# Tea in two warehouses, TPE first: the shop of the order API tests.
TEA_SHOP = Shop(
    products={"TEA-001": "350.00", "TEA-002": {"price": "120.00", "allow_backorder": True}},
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 3, "TEA-002": 1}, "KHH": {"TEA-001": 5}},
)

# Enough of four products in TPE to ship, return and exchange; CUP-001 is on clearance.
RETURNS_SHOP = Shop(
    products={
        "TEA-001": "350.00",
        "TEA-002": {"price": "120.00", "allow_backorder": True},
        "CUP-001": {"price": "500.00", "category": "clearance"},
        "POT-001": "900.00",
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 10, "TEA-002": 5, "CUP-001": 5, "POT-001": 5}},
)


# ---- order bodies ------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    """Who orders: the body's customer, and the shipping address under their name."""

    email: str | None
    name: str
    phone: str | None = "+886912345678"

    def customer(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name, "phone": self.phone}

    def address(self, **over: Any) -> dict[str, Any]:
        return address(**{"name": self.name, "phone": self.phone, **over})


OMIT: Any = object()  # as an ``order_body`` override: leave that field out of the body

WANG = Buyer("a@example.com", "王小明")
LIN = Buyer("lin@example.com", "林美華")


def address(**over: Any) -> dict[str, Any]:
    """A Taipei shipping address (every field the contract knows), with ``over`` changed."""
    return {
        "name": "王小明",
        "line1": "信義路五段7號",
        "line2": None,
        "city": "台北市",
        "region": None,
        "postal_code": "110",
        "country": "TW",
        "phone": "+886912345678",
        **over,
    }


def order_body(
    lines: list[dict[str, Any]] | None = None, *, buyer: Buyer = WANG, **over: Any
) -> dict[str, Any]:
    """The body of one order: two TEA-001 at 350.00 unless ``lines`` says otherwise, shipped
    for 60.00 to ``buyer``, paid by bank transfer; ``over`` replaces whole top-level fields
    (``OMIT`` leaves one out)."""
    body = {
        "channel": "web",
        "currency": "TWD",
        "customer": buyer.customer(),
        "shipping_address": buyer.address(),
        "lines": (
            lines
            if lines is not None
            else [{"sku": "TEA-001", "quantity": 2, "unit_price": "350.00"}]
        ),
        "shipping_price": "60.00",
        "payment_method": "bank_transfer",
    }
    body.update(copy.deepcopy({k: v for k, v in over.items() if v is not OMIT}))
    return {k: v for k, v in body.items() if over.get(k) is not OMIT}


def lines(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    """Order lines from (sku, quantity) pairs, at the catalog's prices."""
    return [{"sku": sku, "quantity": quantity} for sku, quantity in pairs]


# ---- orders through the API --------------------------------------------------------------


def post_order(api: Any, body: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    """``POST /api/v1/orders`` with ``body`` (else ``order_body(**over)``); the order, which
    must have been created (201)."""
    r = api.post("/api/v1/orders", json=body if body is not None else order_body(**over))
    assert r.status_code == 201, r.text
    return dict(r.json())


def pay(api: Any, order: Mapping[str, Any]) -> None:
    """Its whole total paid, recorded by finance."""
    r = api.post(
        f"/api/v1/orders/{order['number']}/payments",
        json={"amount": order["total"]},
        role="finance",
    )
    assert r.status_code == 201, r.text


def shipped_order(api: Any, lines: list[dict[str, Any]] | None = None, deliver: bool = True) -> str:
    """A paid order, shipped (and delivered); returns its number."""
    o = post_order(api, order_body(lines))
    pay(api, o)
    n = o["number"]
    s = api.post(f"/api/v1/orders/{n}/shipments", json={"carrier": "tcat"}, role="warehouse")
    assert s.status_code == 201, s.text
    if deliver:
        api.post(f"/api/v1/shipments/{s.json()['id']}/delivered", role="warehouse")
    return str(n)


__all__ = [
    "ADMIN",
    "LIN",
    "OMIT",
    "RETURNS_SHOP",
    "TEA_SHOP",
    "WANG",
    "Buyer",
    "Shop",
    "address",
    "lines",
    "location",
    "order_body",
    "pay",
    "post_order",
    "product",
    "receive",
    "shipped_order",
]
