"""Allocation rows and the one place that writes an order's derived statuses."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.order_tables import Allocation, Order, OrderLine, Shipment
from dingdan.domain.orders import status as st


def add_allocation(
    conn: Connection, order_id: int, line_id: int, product_id: int, location_id: int, qty: int
) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Allocation).values(
        order_id=order_id,
        line_id=line_id,
        product_id=product_id,
        location_id=location_id,
        quantity=qty,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["line_id", "location_id"],
            set_={"quantity": Allocation.quantity + stmt.excluded.quantity},
        )
    )


def refresh_order(conn: Connection, order_id: int) -> tuple[str, str, str]:
    """Recompute status, financial_status and fulfillment_status from the order's records."""
    order = conn.execute(
        select(Order.status, Order.total_minor, Order.paid_minor, Order.refunded_minor).where(
            Order.id == order_id
        )
    ).one()
    lines = [
        st.LineQty(q, s, c)
        for q, s, c in conn.execute(
            select(OrderLine.quantity, OrderLine.shipped, OrderLine.cancelled).where(
                OrderLine.order_id == order_id
            )
        )
    ]
    undelivered = conn.execute(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.order_id == order_id, Shipment.delivered_at.is_(None))
    ).scalar_one()
    fin = st.financial(order.total_minor, order.paid_minor, order.refunded_minor)
    ful = st.fulfillment(lines)
    status = st.status(
        cancelled=order.status == st.Status.CANCELLED,
        total=order.total_minor,
        paid=order.paid_minor,
        fulfilled=ful,
        all_delivered=undelivered == 0,
    )
    conn.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(status=status.value, financial_status=fin.value, fulfillment_status=ful.value)
    )
    return status.value, fin.value, ful.value
