"""Receipts of a purchase order while orders take the same SKU, on real threads: the PO
never receives more than ordered, orders never take more than arrived, and the levels
equal the ledger at the end."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dingdan.db.order_tables import OrderLine
from dingdan.db.purchasing_tables import PurchaseOrderLine, PurchaseReceiptLine
from dingdan.db.tables import StockLevel
from dingdan.domain.shared.errors import InsufficientStock, ValidationFailed
from dingdan.services.inventory import stock as inventory
from dingdan.services.orders import capture
from dingdan.services.purchasing import purchase_orders, receiving, suppliers
from tests.builders import ADMIN, location, order_body, product
from tests.helpers import run_threads

pytestmark = pytest.mark.xdist_group("threads")


def test_partial_receipts_and_orders_of_the_same_sku_at_once_oversell_nothing(db):
    product(db, "HOT", price="100.00")
    location(db, "TPE")
    suppliers.create_supplier(
        db, ADMIN, {"code": "S1", "name": "S1", "lead_time_days": 3, "currency": "TWD"}
    )
    po = purchase_orders.create_purchase_order(
        db,
        ADMIN,
        {
            "supplier": "S1",
            "location": "TPE",
            "lines": [{"sku": "HOT", "quantity": 25, "unit_cost": "50.00"}],
        },
    )
    purchase_orders.send(db, ADMIN, po["id"])
    received, refused_receipts, orders, refused_orders = [], [], [], []

    def work(i: int) -> None:
        if i % 2 == 0:  # 16 receipts of 2 for a PO of 25: 12 fit, 4 are refused
            try:
                receiving.receive(db, ADMIN, po["id"], {"lines": [{"sku": "HOT", "quantity": 2}]})
                received.append(i)
            except ValidationFailed as exc:
                assert exc.errors[0].code == "exceeds_outstanding"
                refused_receipts.append(i)
        else:  # 16 orders of 2 units
            body = order_body([{"sku": "HOT", "quantity": 2, "unit_price": "100.00"}])
            try:
                capture.place_order(db, ADMIN, body)
                orders.append(i)
            except InsufficientStock:
                refused_orders.append(i)

    assert run_threads(32, work) == []
    assert (len(received), len(refused_receipts)) == (12, 4)
    assert len(orders) + len(refused_orders) == 16

    def state(c):
        line = c.execute(select(PurchaseOrderLine.quantity, PurchaseOrderLine.received)).one()
        receipts = c.execute(select(func.sum(PurchaseReceiptLine.quantity))).scalar()
        level = c.execute(select(StockLevel.on_hand, StockLevel.reserved)).one()
        ordered = c.execute(select(func.coalesce(func.sum(OrderLine.allocated), 0))).scalar()
        return tuple(line), receipts, tuple(level), ordered

    line, receipts, (on_hand, reserved), allocated = db.read(state)
    assert line == (25, 24) and receipts == 24
    assert on_hand == 24
    assert reserved == allocated == 2 * len(orders) <= 24
    assert purchase_orders.get_purchase_order(db, po["id"])["status"] == "partially_received"
    assert inventory.stock_of(db, "HOT")["on_order"] == 1
    assert inventory.verify(db) == []
