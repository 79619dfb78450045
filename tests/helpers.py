"""Small builders shared by tests: catalog and stock set-ups through the services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dingdan.db.engine import Database
from dingdan.domain.roles import Role
from dingdan.services import catalog, inventory, locations
from dingdan.services.common import Actor

ADMIN = Actor("test:admin", Role.ADMIN)


def shared_external() -> Path:
    """The brief's shared test data (``shared/data/external``): ``DINGDAN_SHARED_DATA`` when
    set (CI sets it for a clone made anywhere), else beside the project's checkout."""
    configured = os.environ.get("DINGDAN_SHARED_DATA")
    if configured:
        return Path(configured) / "external"
    return Path(__file__).resolve().parents[2] / "shared/data/external"


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


def receive(db: Database, loc: str, quantities: dict[str, int]) -> None:
    inventory.receive(
        db,
        ADMIN,
        {"location": loc, "lines": [{"sku": sku, "quantity": q} for sku, q in quantities.items()]},
    )


def run_threads(n: int, target: Any, timeout: float = 120) -> list[BaseException]:
    """Start ``n`` threads together (a barrier) running ``target(i)``; the errors they raised.
    A thread still alive after ``timeout`` fails the test as a hang."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def wrapped(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 - collected and returned
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors
