"""Editing an order before it ships: quantities, lines, shipping address and price; and
cancelling unshipped units of one line. Stock is re-reserved in the same transaction, so an
edit that needs stock that is not there is refused whole (409 insufficient_stock)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database, RetryTransaction
from dingdan.db.order_tables import Allocation, Order, OrderLine
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.inventory.stock import MovementKind, check_quantity
from dingdan.domain.orders import invoice_request
from dingdan.domain.orders import rules as rules
from dingdan.domain.shared import contact
from dingdan.domain.shared.errors import (
    FieldError,
    FieldErrors,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.domain.shared.numbers import check_amounts
from dingdan.services.orders import backorders, invoice_choice, invoice_lookup, pricing
from dingdan.services.orders.allocation import add_allocation, refresh_order
from dingdan.services.orders.audit import audit_order
from dingdan.services.orders.capture import tax_overrides
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch, view
from dingdan.services.orders.shapes import LineCancel, OrderEdit
from dingdan.services.shared import past_sales
from dingdan.services.shared.common import Actor
from dingdan.services.shared.outbox_events import emit
from dingdan.services.shared.view_types import OrderView


def _editable(order: Any) -> None:
    if order.status != "open":
        raise InvalidTransition(
            detail=f"Order {order.number} is {order.status}; it cannot be edited."
        )


def _lines(conn: Connection, order_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
        )
    )


def _release(
    conn: Connection,
    actor: Actor,
    order: Any,
    line: Any,
    qty: int,
    freed: list[tuple[int, int]],
    *,
    cancel: bool,
) -> None:
    """Take ``qty`` unshipped units off a line: backordered first, then allocations from the
    lowest-priority location. ``cancel`` counts them as cancelled; otherwise the line's
    quantity shrinks (an edit)."""
    from_back = min(qty, line.backordered)
    rest = qty - from_back
    allocs = conn.execute(
        select(Allocation.id, Allocation.location_id, Allocation.quantity)
        .join(Location, Location.id == Allocation.location_id)
        .where(Allocation.line_id == line.id)
        .order_by(Location.priority.desc(), Location.id.desc())
    ).all()
    moves = []
    for aid, loc, have in allocs:
        take = min(rest, have)
        if not take:
            break
        rest -= take
        moves.append(stock_sql.Move(line.product_id, loc, MovementKind.RELEASE, 0, -take))
        freed.append((line.product_id, loc))
        if take == have:
            conn.execute(delete(Allocation).where(Allocation.id == aid))
        else:
            conn.execute(
                update(Allocation)
                .where(Allocation.id == aid)
                .values(quantity=Allocation.quantity - take)
            )
    stock_sql.apply(conn, moves, actor=actor.name, reason="order edit", reference=order.number)
    counted = (
        {"cancelled": OrderLine.cancelled + qty}
        if cancel
        else {"quantity": OrderLine.quantity - qty}
    )
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == line.id)
        .values(
            backordered=OrderLine.backordered - from_back,
            allocated=OrderLine.allocated - (qty - from_back),
            **counted,
        )
    )


def _add_units(
    conn: Connection, actor: Actor, order: Any, line_id: int, product: Any, qty: int, field: str
) -> None:
    """Reserve ``qty`` more units of a line from locations in priority order."""
    locations = list(
        conn.execute(
            select(Location.id)
            .where(Location.active.is_(True))
            .order_by(Location.priority, Location.id)
        ).scalars()
    )
    available = {
        (product.id, loc): oh - rs
        for loc, oh, rs in conn.execute(
            select(StockLevel.location_id, StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.product_id == product.id
            )
        )
    }
    plan = rules.plan_allocation(
        [rules.Want(0, product.id, qty, product.allow_backorder)], available, locations
    )
    if plan.short:
        raise InsufficientStock(
            detail=f"Not enough {product.sku} for this edit.",
            errors=[FieldError.of(field, "short", short=plan.short[0])],
        )
    moves = [
        stock_sql.Move(product.id, loc, MovementKind.RESERVATION, 0, q)
        for _, loc, q in plan.allocations
    ]
    if stock_sql.try_apply(
        conn, moves, actor=actor.name, reason="order edit", reference=order.number
    ):
        raise RetryTransaction(InsufficientStock(detail=f"Not enough {product.sku}."))
    for _, loc, q in plan.allocations:
        add_allocation(conn, order.id, line_id, product.id, loc, q)
    back = plan.backordered.get(0, 0)
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == line_id)
        .values(
            allocated=OrderLine.allocated + (qty - back),
            backordered=OrderLine.backordered + back,
            quantity=OrderLine.quantity + qty,
        )
    )


def retotal(conn: Connection, order_id: int, country: str, shipping_minor: int) -> None:
    """Recompute line taxes and the order's totals from the units not cancelled."""
    overrides = tax_overrides(conn)
    lines = conn.execute(
        select(
            OrderLine.id,
            OrderLine.quantity,
            OrderLine.cancelled,
            OrderLine.unit_price_minor,
            Product.tax_class,
        )
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.position)
    ).all()
    amounts = [
        ((q - c) * price, rules.tax_rule(country, tc, overrides)) for _, q, c, price, tc in lines
    ]
    check_amounts(
        [("lines", a) for a, _ in amounts] + [("shipping_price", shipping_minor)],
        "lines",
    )
    ship_rule = rules.tax_rule(country, "standard", overrides)
    totals = rules.totals(amounts, shipping_minor, ship_rule)
    for (line_id, *_), tax in zip(lines, totals.line_taxes, strict=True):
        conn.execute(update(OrderLine).where(OrderLine.id == line_id).values(tax_minor=tax))
    conn.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(
            subtotal_minor=totals.subtotal,
            shipping_minor=totals.shipping,
            tax_minor=totals.tax,
            total_minor=totals.total,
            prices_include_tax=ship_rule.prices_include_tax,
        )
    )


def _check_edit(
    body: OrderEdit, currency: str
) -> tuple[dict[str, Any] | None, int | None, list[dict[str, Any]], dict[str, str] | None]:
    errors = FieldErrors()
    invoice = None
    if (sent := body.get("invoice")) is not None:
        asked = invoice_request.check(sent, errors)
        invoice = asked.as_dict() if asked is not None else None
    address = None
    if (where := body.get("shipping_address")) is not None:
        checked = contact.validate_address(where, "shipping_address", errors)
        address = asdict(checked) if checked else None
    shipping = None
    if (price := body.get("shipping_price")) is not None:
        try:
            shipping = parse_amount(price, currency, "shipping_price")
        except Exception as exc:  # noqa: BLE001 - ValidationFailed carries the field
            errors.items.extend(getattr(exc, "errors", []))
    # Copies: each gets its parsed price (``_price``) beside what was sent.
    lines: list[dict[str, Any]] = [dict(ln) for ln in body.get("lines") or []]
    seen: set[object] = set()
    for i, ln in enumerate(lines):
        if ln.get("sku") in seen:
            errors.add(f"lines[{i}].sku", "duplicate_sku")
        seen.add(ln.get("sku"))
        if ln.get("quantity") != 0:
            check_quantity(ln.get("quantity"), f"lines[{i}].quantity", errors)
        if ln.get("unit_price") is not None:
            try:
                ln["_price"] = parse_amount(ln["unit_price"], currency, f"lines[{i}].unit_price")
            except Exception as exc:  # noqa: BLE001
                errors.items.extend(getattr(exc, "errors", []))
    if not (address or shipping is not None or lines or body.get("invoice") is not None):
        errors.add("body", "nothing_to_change")
    errors.raise_if_any()
    return address, shipping, lines, invoice


def edit_order(
    db: Database,
    actor: Actor,
    number: str,
    body: OrderEdit,
    *,
    look_up_invoice: bool = False,
) -> OrderView:
    """``lines`` sets the quantity of each SKU named (0 removes the unshipped units; a new SKU
    adds a line); lines not named are unchanged. ``look_up_invoice``: a new mobile barcode or
    donation code is asked of the e-invoice centre first, before the transaction (the API
    and the edit page; a channel's edit is the channel's)."""
    looked_up = invoice_lookup.verify_body(db, body.get("invoice")) if look_up_invoice else None

    def work(conn: Connection) -> OrderView:
        order = fetch(conn, number, lock=True)
        _editable(order)
        address, shipping, wanted, invoice = _check_edit(body, order.currency)
        if invoice is not None and looked_up is not None:
            invoice = looked_up
        freed: list[tuple[int, int]] = []
        below: list[pricing.BelowList] = []
        changes = _apply_lines(conn, actor, order, wanted, freed, below)
        pricing.require_pricing(actor, below)
        values: dict[str, Any] = {}
        if address:
            values["shipping_address"] = address
        if values:
            conn.execute(update(Order).where(Order.id == order.id).values(**values))
        country = (address or order.shipping_address)["country"]
        retotal(conn, order.id, country, order.shipping_minor if shipping is None else shipping)
        past_sales.changed(conn, order.created_at)
        refresh_order(conn, order.id)
        invoice_changed = invoice is not None and invoice_choice.set_by_staff(
            conn, order.id, invoice, actor.name
        )
        after = fetch(conn, number)
        event(
            conn,
            order.id,
            "edited",
            actor.name,
            None,
            {
                "lines": changes,
                "shipping_address_changed": bool(address),
                "invoice_changed": invoice_changed,
                "total_before": format_amount(order.total_minor, order.currency),
                "total_after": format_amount(after.total_minor, order.currency),
            },
        )
        if below:
            kind, message, data = pricing.event(below)
            event(conn, order.id, kind, actor.name, message, data)
        emit(conn, "order.updated", {"number": number})
        audit_order(conn, actor, "edit", order, lines=changes)
        backorders.allocate(conn, actor, freed)
        return view(conn, fetch(conn, number))

    return db.write(work)


def _product(conn: Connection, sku: Any, field: str) -> Any:
    p = conn.execute(
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.price_minor,
            Product.currency,
            Product.active,
            Product.allow_backorder,
        ).where(Product.sku == sku)
    ).first()
    errors = FieldErrors()
    if p is None:
        errors.add(field, "unknown_sku", sku=sku)
    elif not p.active:
        errors.add(field, "inactive_sku", sku=sku)
    errors.raise_if_any()
    return p


def _apply_lines(
    conn: Connection,
    actor: Actor,
    order: Any,
    wanted: list[dict[str, Any]],
    freed: list[tuple[int, int]],
    below: list[pricing.BelowList],
) -> list[dict[str, Any]]:
    """The lines' changes; ``below`` receives the prices set below their product's."""
    existing = {ln.sku: ln for ln in _lines(conn, order.id)}
    changes = []
    for i, want in enumerate(wanted):
        line = existing.get(want["sku"])
        if line is None:
            _new_line(conn, actor, order, want, i, len(existing) + i, below)
            changes.append({"sku": want["sku"], "from": 0, "to": want["quantity"]})
            continue
        effective = line.quantity - line.cancelled
        if want["quantity"] < line.shipped:
            raise ValidationFailed.on(f"lines[{i}].quantity", "below_shipped", shipped=line.shipped)
        delta = want["quantity"] - effective
        if delta < 0:
            _release(conn, actor, order, line, -delta, freed, cancel=False)
        elif delta > 0:
            p = _product(conn, line.sku, f"lines[{i}].sku")
            _add_units(conn, actor, order, line.id, p, delta, f"lines[{i}].quantity")
        if "_price" in want and want["_price"] != line.unit_price_minor:
            _note_below(conn, order, line.product_id, line.sku, want["_price"], i, below)
        if "_price" in want:
            conn.execute(
                update(OrderLine)
                .where(OrderLine.id == line.id)
                .values(unit_price_minor=want["_price"])
            )
        if want["quantity"] == 0 and line.shipped == 0 and line.cancelled == 0:
            conn.execute(delete(OrderLine).where(OrderLine.id == line.id))
        changes.append({"sku": line.sku, "from": effective, "to": want["quantity"]})
    if not conn.execute(select(OrderLine.id).where(OrderLine.order_id == order.id)).first():
        raise ValidationFailed.on("lines", "last_line")
    return changes


def _note_below(
    conn: Connection,
    order: Any,
    product_id: int,
    sku: str,
    price: int,
    i: int,
    below: list[pricing.BelowList],
) -> None:
    """Adds the line's new price to ``below`` if it is below its product's price."""
    listed = conn.execute(
        select(Product.price_minor, Product.currency).where(Product.id == product_id)
    ).one()
    found = pricing.below_list(
        f"lines[{i}].unit_price", sku, price, order.currency, listed.price_minor, listed.currency
    )
    if found is not None:
        below.append(found)


def _new_line(
    conn: Connection,
    actor: Actor,
    order: Any,
    want: dict[str, Any],
    i: int,
    position: int,
    below: list[pricing.BelowList],
) -> None:
    p = _product(conn, want["sku"], f"lines[{i}].sku")
    if want["quantity"] == 0:
        return
    if "_price" in want:
        _note_below(conn, order, p.id, p.sku, want["_price"], i, below)
    if "_price" not in want and p.currency != order.currency:
        raise ValidationFailed.on(f"lines[{i}].unit_price", "price_required", currency=p.currency)
    line_id = conn.execute(
        insert(OrderLine)
        .values(
            order_id=order.id,
            position=position,
            product_id=p.id,
            sku=p.sku,
            name=p.name,
            quantity=0,
            unit_price_minor=want.get("_price", p.price_minor),
            tax_minor=0,
            allocated=0,
            backordered=0,
            shipped=0,
            returned=0,
            cancelled=0,
        )
        .returning(OrderLine.id)
    ).scalar_one()
    _add_units(conn, actor, order, line_id, p, want["quantity"], f"lines[{i}].quantity")


def cancel_line(db: Database, actor: Actor, number: str, sku: str, body: LineCancel) -> OrderView:
    """Cancel unshipped units of one line (all of them unless ``quantity`` says fewer)."""
    reason = body.get("reason")
    errors = FieldErrors()
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        errors.add("reason", "required_text", max=500)
    if body.get("quantity") is not None:
        check_quantity(body["quantity"], "quantity", errors)
    errors.raise_if_any()

    def work(conn: Connection) -> OrderView:
        order = fetch(conn, number, lock=True)
        _editable(order)
        line = next((ln for ln in _lines(conn, order.id) if ln.sku == sku), None)
        if line is None:
            raise NotFound(detail=f"Order {number} has no line {sku!r}.")
        unshipped = line.allocated + line.backordered
        qty = body.get("quantity") or unshipped
        if unshipped == 0 or qty > unshipped:
            raise InvalidTransition(detail=f"{sku} has {unshipped} unshipped units to cancel.")
        freed: list[tuple[int, int]] = []
        _release(conn, actor, order, line, qty, freed, cancel=True)
        retotal(conn, order.id, order.shipping_address["country"], order.shipping_minor)
        past_sales.changed(conn, order.created_at)
        _cancel_if_empty(conn, order)
        refresh_order(conn, order.id)
        event(
            conn,
            order.id,
            "cancelled",
            actor.name,
            f"{qty} × {sku} cancelled: {reason}",
            {"sku": sku, "quantity": qty},
        )
        audit_order(conn, actor, "cancel_line", order, sku=sku, quantity=qty)
        backorders.allocate(conn, actor, freed)
        return view(conn, fetch(conn, number))

    return db.write(work)


def _cancel_if_empty(conn: Connection, order: Any) -> None:
    """An order whose every unit is cancelled and none shipped is itself cancelled."""
    rows = conn.execute(
        select(OrderLine.quantity, OrderLine.cancelled, OrderLine.shipped).where(
            OrderLine.order_id == order.id
        )
    ).all()
    if all(q == c and s == 0 for q, c, s in rows):
        conn.execute(
            update(Order)
            .where(Order.id == order.id)
            .values(status="cancelled", cancel_reason="every line cancelled")
        )
