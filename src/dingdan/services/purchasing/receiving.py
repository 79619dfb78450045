"""Receiving goods against a purchase order, in one transaction: the PO's lines count what
arrived (never more than ordered minus received), stock arrives on hand at the PO's location
through the ledger, waiting backorders are allocated from it, each product's cost becomes
the moving average with the landed cost (freight and duty spread by value), and the PO
becomes partially received or received.

Lock order: the PO row first (every receipt of one PO queues there, so two receipts never
both take the last units), then the products (by id, FOR NO KEY UPDATE: an order's foreign
key check on the product is not blocked), then stock levels in (product, location) order
as every stock change takes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.purchasing_tables import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
)
from dingdan.db.tables import Product, StockLevel
from dingdan.domain.inventory.stock import MovementKind, check_lines
from dingdan.domain.purchasing import purchase_orders as rules
from dingdan.domain.shared import money
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.services.inventory.shapes import StockLineIn, StockLineOut
from dingdan.services.orders import backorders
from dingdan.services.purchasing.purchase_orders import fetch, lines_of, po_view
from dingdan.services.purchasing.shapes import POReceiptView, ReceiveCommand
from dingdan.services.shared.common import Actor, audit, iso
from dingdan.services.shared.outbox_events import emit


def _check(lines: list[StockLineOut], po_lines: dict[str, Any]) -> None:
    """Every SKU on the PO, and no more than ordered minus received: each refusal on its
    own field, all at once."""
    errors = FieldErrors()
    for i, ln in enumerate(lines):
        line = po_lines.get(ln["sku"])
        if line is None:
            errors.add(f"lines[{i}].sku", "not_on_purchase_order", sku=ln["sku"])
        elif ln["quantity"] > line.quantity - line.received:
            errors.add(
                f"lines[{i}].quantity", "exceeds_outstanding", left=line.quantity - line.received
            )
    errors.raise_if_any("The receipt does not match what the purchase order still expects.")


def _update_costs(conn: Connection, po: Any, arrived: list[tuple[Any, int, int]]) -> None:
    """Moving average cost per product: (line, quantity, landed micros) of what arrived
    (each product once: a receipt names each SKU once). Run before the stock moves, so
    the levels read are what was on hand before."""
    pids = sorted({line.product_id for line, _, _ in arrived})
    products = {
        p.id: p
        for p in conn.execute(
            select(Product.id, Product.cost_micros, Product.cost_currency)
            .where(Product.id.in_(pids))
            .order_by(Product.id)
            .with_for_update(key_share=True)
        )
    }
    on_hand = dict(
        conn.execute(
            select(StockLevel.product_id, func.sum(StockLevel.on_hand))
            .where(StockLevel.product_id.in_(pids))
            .group_by(StockLevel.product_id)
        ).all()
    )
    for line, qty, landed in arrived:
        p = products[line.product_id]
        old = p.cost_micros if p.cost_currency == po.currency else None
        cost = rules.moving_average(int(on_hand.get(p.id) or 0), old, qty, landed)
        conn.execute(
            update(Product)
            .where(Product.id == p.id)
            .values(cost_micros=cost, cost_currency=po.currency)
        )


Arrived = list[tuple[Any, int, int]]  # (PO line, units, landed unit cost in micros)


def _arrived(po: Any, all_lines: list[Any], lines: list[StockLineOut]) -> Arrived:
    landed = rules.landed_unit_costs(
        [(ln.quantity, ln.unit_cost_minor) for ln in all_lines],
        po.freight_minor + po.duty_minor,
        money.exponent(po.currency),
    )
    cost_of = {ln.id: cost for ln, cost in zip(all_lines, landed, strict=True)}
    by_sku = {ln.sku: ln for ln in all_lines}
    return [(by_sku[ln["sku"]], ln["quantity"], cost_of[by_sku[ln["sku"]].id]) for ln in lines]


def _count(conn: Connection, arrived: Arrived) -> None:
    """Each line's ``received`` grows by one conditional statement. Under the PO's lock it
    cannot fail; the condition (and the CHECK) hold the line against anything that did not
    take that lock, and a refusal is still the request's 422, never a 5xx."""
    for i, (line, qty, _) in enumerate(arrived):
        done = conn.execute(
            update(PurchaseOrderLine)
            .where(
                PurchaseOrderLine.id == line.id,
                PurchaseOrderLine.received + qty <= PurchaseOrderLine.quantity,
            )
            .values(received=PurchaseOrderLine.received + qty)
        ).rowcount
        if done != 1:
            raise ValidationFailed.on(
                f"lines[{i}].quantity", "exceeds_outstanding", left=line.quantity - line.received
            )


def _record(
    conn: Connection, po: Any, actor: Actor, arrived: Arrived, reference: str | None
) -> Any:
    """The receipt and its lines; (id, created_at) of the receipt."""
    receipt = conn.execute(
        insert(PurchaseReceipt)
        .values(purchase_order_id=po.id, received_by=actor.name, reference=reference)
        .returning(PurchaseReceipt.id, PurchaseReceipt.created_at)
    ).one()
    conn.execute(
        insert(PurchaseReceiptLine),
        [
            {
                "receipt_id": receipt.id,
                "line_id": line.id,
                "quantity": qty,
                "landed_unit_cost_micros": cost,
            }
            for line, qty, cost in arrived
        ],
    )
    return receipt


def _stock_arrives(conn: Connection, po: Any, actor: Actor, arrived: Arrived) -> None:
    moves = [
        stock_sql.Move(line.product_id, po.location_id, MovementKind.RECEIPT, qty)
        for line, qty, _ in arrived
    ]
    stock_sql.apply(conn, moves, actor=actor.name, reason="purchase_order", reference=po.number)
    backorders.allocate(conn, actor, [(m.product_id, po.location_id) for m in moves])


def _checked_lines(lines: list[StockLineIn]) -> list[StockLineOut]:
    """A command's lines once ``check_lines`` accepted them."""
    checked: list[StockLineOut] = []
    for ln in lines:
        sku, quantity = ln["sku"], ln["quantity"]
        assert sku is not None and quantity is not None  # check_lines refused a missing one
        checked.append({"sku": sku, "quantity": quantity})
    return checked


def receive(db: Database, actor: Actor, ref: str, data: ReceiveCommand) -> POReceiptView:
    errors = FieldErrors()
    check_lines(data.get("lines"), errors)
    errors.raise_if_any()
    lines = _checked_lines(data["lines"])
    reference = data.get("reference")

    def work(conn: Connection) -> POReceiptView:
        po = fetch(conn, ref, lock=True)
        rules.check_receivable(po.status)
        all_lines = lines_of(conn, po.id)
        _check(lines, {ln.sku: ln for ln in all_lines})
        arrived = _arrived(po, all_lines, lines)
        _count(conn, arrived)
        receipt = _record(conn, po, actor, arrived, reference)
        _update_costs(conn, po, arrived)  # before the stock moves: it reads what was on hand
        _stock_arrives(conn, po, actor, arrived)
        status = rules.after_receipt([(ln.quantity, ln.received) for ln in lines_of(conn, po.id)])
        conn.execute(
            update(PurchaseOrder).where(PurchaseOrder.id == po.id).values(status=status.value)
        )
        view = po_view(conn, fetch(conn, str(po.id)))
        received: list[StockLineOut] = [
            {"sku": line.sku, "quantity": qty} for line, qty, _ in arrived
        ]
        audit(conn, actor, "receive", "purchase_order", po.number, after={"lines": received})
        event = {"id": view["id"], "number": po.number, "receipt_id": str(receipt.id)}
        emit(
            conn,
            "purchase_order.received",
            {**event, "location": view["location"], "lines": received},
        )
        return {
            "id": str(receipt.id),
            "purchase_order": view,
            "lines": received,
            "received_by": actor.name,
            "reference": reference,
            "created_at": iso(receipt.created_at),
        }

    return db.write(work)
