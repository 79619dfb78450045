"""Payments and refunds. Totals move by one conditional statement each, so two payments
(or two refunds) racing can never together exceed what is due (or what was paid)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.db.tables import OutboxMessage
from dingdan.domain.errors import (
    FieldErrors,
    InvalidTransition,
    NotFound,
    PaymentRequired,
    ValidationFailed,
)
from dingdan.domain.money import format_amount, parse_amount
from dingdan.domain.orders import PaymentMethod
from dingdan.services.allocations import refresh_order
from dingdan.services.common import Actor, iso
from dingdan.services.order_audit import audit_order
from dingdan.services.order_views import event, fetch, view
from dingdan.services.payment_providers import ProviderResult, provider
from dingdan.services.store_credit import spend_store_credit


def _amount(value: Any, currency: str) -> int:
    return parse_amount(value, currency, "amount", allow_zero=False)


def payment_view(p: Any, currency: str) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "kind": p.kind,
        "status": p.status,
        "provider": p.provider,
        "amount": format_amount(p.amount_minor, currency),
        "currency": currency,
        "method": p.method,
        "reference": p.reference,
        "reason": p.reason,
        "actor": p.actor,
        "created_at": iso(p.created_at),
    }


def _text(value: Any, field: str, max_len: int, required: bool, errors: FieldErrors) -> None:
    if value is None:
        if required:
            errors.add(field, "required")
    elif not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        errors.add(field, "too_long", max=max_len)


def record_payment(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    _text(body.get("reference"), "reference", 200, False, errors)
    method = body.get("method")
    if method is not None and method not in {m.value for m in PaymentMethod}:
        errors.add("method", "unknown_payment_method")
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number, lock=True)
        if order.status == "cancelled":
            raise InvalidTransition(detail=f"Order {number} is cancelled; it takes no payment.")
        amount = _amount(body.get("amount"), order.currency)
        _take(conn, order, amount)
        if method == PaymentMethod.STORE_CREDIT:
            reference = f"order:{number}"
            spend_store_credit(
                conn, order.customer_id, order.currency, amount, reference, actor.name
            )
            pid = _insert(conn, actor, order, "payment", amount, method, reference, "internal")
            return _paid(conn, actor, order, pid, amount, reference)
        gateway = provider(body.get("provider"))
        result = gateway.authorize(number, amount, order.currency, body.get("reference"))
        result = _succeeded(result, gateway.capture(result.reference, amount, order.currency))
        pid = _insert(
            conn,
            actor,
            order,
            "payment",
            amount,
            method or order.payment_method,
            result.reference,
            gateway.code,
        )
        return _paid(conn, actor, order, pid, amount, result.reference)

    return db.write(work)


def _take(conn: Connection, order: Any, amount: int) -> None:
    """Add to ``paid`` unless that would pass the total: one conditional statement, so two
    payments at once cannot both squeeze under it."""
    done = conn.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.paid_minor + amount <= Order.total_minor,
        )
        .values(paid_minor=Order.paid_minor + amount)
    ).rowcount
    if not done:
        due = format_amount(max(0, order.total_minor - order.paid_minor), order.currency)
        raise ValidationFailed.on("amount", "exceeds_balance", due=due)


def _succeeded(*results: ProviderResult) -> ProviderResult:
    """The last of the provider's answers, once every one of them is a success."""
    for r in results:
        if not r.ok:
            raise PaymentRequired(detail=f"The payment provider declined: {r.message}")
    return results[-1]


def _insert(
    conn: Connection,
    actor: Actor,
    order: Any,
    kind: str,
    amount: int,
    method: str,
    reference: str | None,
    provider_code: str,
    status: str = "succeeded",
    reason: str | None = None,
) -> int:
    return int(
        conn.execute(
            insert(Payment)
            .values(
                order_id=order.id,
                kind=kind,
                status=status,
                provider=provider_code,
                amount_minor=amount,
                method=method,
                reference=reference,
                reason=reason,
                actor=actor.name,
            )
            .returning(Payment.id)
        ).scalar_one()
    )


def _paid(
    conn: Connection, actor: Actor, order: Any, pid: int, amount: int, reference: str | None
) -> dict[str, Any]:
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "paid",
        actor.name,
        f"Payment of {shown} {order.currency}",
        {"amount": shown, "reference": reference},
    )
    conn.execute(
        insert(OutboxMessage).values(
            topic="order.paid", payload={"number": order.number, "amount": shown}
        )
    )
    audit_order(conn, actor, "payment", order, amount=shown, payment_id=str(pid))
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return {**payment_view(row, order.currency), "order": view(conn, fetch(conn, order.number))}


def record_refund(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    errors = FieldErrors()
    _text(body.get("reason"), "reason", 500, True, errors)
    _text(body.get("reference"), "reference", 200, False, errors)
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number, lock=True)
        amount = _amount(body.get("amount"), order.currency)
        return refund_in(conn, actor, order, amount, body["reason"], body.get("reference"))

    return db.write(work)


def refund_in(
    conn: Connection,
    actor: Actor,
    order: Any,
    amount: int,
    reason: str,
    reference: str | None,
    *,
    method: str | None = None,
) -> dict[str, Any]:
    """A refund inside the caller's transaction (returns use it too). ``method`` other than
    the order's (store credit) moves no money through the payment provider."""
    done = conn.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.refunded_minor + amount <= Order.paid_minor,
        )
        .values(refunded_minor=Order.refunded_minor + amount)
    ).rowcount
    if not done:
        left = format_amount(order.paid_minor - order.refunded_minor, order.currency)
        raise ValidationFailed.on("amount", "exceeds_refundable", left=left)
    original = conn.execute(
        select(Payment.reference, Payment.provider)
        .where(Payment.order_id == order.id, Payment.kind == "payment")
        .order_by(Payment.id)
    ).first()
    gateway = provider(original.provider if original else None)
    if method is None or method == order.payment_method:
        result = gateway.refund(original.reference if original else None, amount, order.currency)
        _succeeded(result)
        reference = reference or result.reference
    pid = _insert(
        conn,
        actor,
        order,
        "refund",
        amount,
        method or order.payment_method,
        reference,
        gateway.code if method is None else "internal",
        reason=reason,
    )
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "refunded",
        actor.name,
        f"Refund of {shown} {order.currency}: {reason}",
        {"amount": shown, "reason": reason},
    )
    conn.execute(
        insert(OutboxMessage).values(
            topic="order.refunded", payload={"number": order.number, "amount": shown}
        )
    )
    audit_order(conn, actor, "refund", order, amount=shown, reason=reason)
    row = conn.execute(select(Payment).where(Payment.id == pid)).one()
    return {**payment_view(row, order.currency), "order": view(conn, fetch(conn, order.number))}


def payments_of(db: Database, number: str) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number)
        rows = conn.execute(
            select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
        ).all()
        return {"items": [payment_view(p, order.currency) for p in rows], "next_cursor": None}

    return db.read(work)


def authorize(db: Database, actor: Actor, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """Hold money with the provider; it counts in ``paid`` only when captured."""

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number, lock=True)
        if order.status != "open":
            raise InvalidTransition(detail=f"Order {number} is {order.status}.")
        amount = _amount(body.get("amount"), order.currency)
        due = order.total_minor - order.paid_minor
        if amount > due:
            raise ValidationFailed.on(
                "amount",
                "exceeds_balance",
                due=format_amount(max(0, due), order.currency),
            )
        gateway = provider(body.get("provider"))
        result = _succeeded(
            gateway.authorize(number, amount, order.currency, body.get("reference"))
        )
        pid = _insert(
            conn,
            actor,
            order,
            "authorization",
            amount,
            order.payment_method,
            result.reference,
            gateway.code,
            status="authorized",
        )
        event(
            conn,
            order.id,
            "authorized",
            actor.name,
            f"{format_amount(amount, order.currency)} {order.currency} authorized",
        )
        row = conn.execute(select(Payment).where(Payment.id == pid)).one()
        return payment_view(row, order.currency)

    return db.write(work)


def _authorization(conn: Connection, payment_id: str) -> tuple[Any, Any]:
    pid = int(payment_id) if payment_id.isdigit() and len(payment_id) < 19 else -1
    row = conn.execute(
        select(Payment).where(Payment.id == pid, Payment.kind == "authorization")
    ).first()
    if row is None:
        raise NotFound(detail=f"No authorization with id {payment_id!r}.")
    order = conn.execute(select(Order).where(Order.id == row.order_id)).one()
    if row.status != "authorized":
        raise InvalidTransition(detail=f"Authorization {payment_id} is {row.status}.")
    return row, order


def _close_authorization(conn: Connection, auth: Any, status: str) -> None:
    done = conn.execute(
        update(Payment)
        .where(Payment.id == auth.id, Payment.status == "authorized")
        .values(status=status)
    ).rowcount
    if not done:  # a concurrent capture or void got there first
        raise InvalidTransition(detail=f"Authorization {auth.id} is no longer open.")


def capture(db: Database, actor: Actor, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        auth, order = _authorization(conn, payment_id)
        amount = auth.amount_minor
        if body.get("amount") is not None:
            amount = _amount(body["amount"], order.currency)
            if amount > auth.amount_minor:
                raise ValidationFailed.on("amount", "exceeds_authorized")
        _close_authorization(conn, auth, "captured")
        _take(conn, order, amount)
        gateway = provider(auth.provider)
        result = _succeeded(gateway.capture(auth.reference, amount, order.currency))
        pid = _insert(
            conn, actor, order, "payment", amount, auth.method, result.reference, gateway.code
        )
        return _paid(conn, actor, order, pid, amount, result.reference)

    return db.write(work)


def void(db: Database, actor: Actor, payment_id: str) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        auth, order = _authorization(conn, payment_id)
        _close_authorization(conn, auth, "voided")
        _succeeded(provider(auth.provider).void(auth.reference))
        event(conn, order.id, "voided", actor.name, f"Authorization {payment_id} voided")
        row = conn.execute(select(Payment).where(Payment.id == auth.id)).one()
        return payment_view(row, order.currency)

    return db.write(work)


def record_cod_remittance(db: Database, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """A carrier's COD remittance: one payment per order it lists, all or none."""
    errors = FieldErrors()
    _text(body.get("reference"), "reference", 200, True, errors)
    _text(body.get("carrier"), "carrier", 50, True, errors)
    items = body.get("orders")
    if not isinstance(items, list) or not items:
        errors.add("orders", "no_orders")
    errors.raise_if_any()

    def work(conn: Connection) -> dict[str, Any]:
        settled = []
        for i, item in enumerate(items or []):
            order = conn.execute(select(Order).where(Order.number == item.get("number"))).first()
            if order is None:
                raise ValidationFailed.on(
                    f"orders[{i}].number", "unknown_order", number=item.get("number")
                )
            if order.payment_method != "cod":
                raise ValidationFailed.on(f"orders[{i}].number", "not_cod")
            try:
                amount = _amount(item.get("amount"), order.currency)
                _take(conn, order, amount)
            except ValidationFailed as exc:
                bad = exc.errors[0]
                raise ValidationFailed.on(f"orders[{i}].amount", bad.code, **bad.params) from None
            pid = _insert(conn, actor, order, "payment", amount, "cod", body["reference"], "manual")
            _paid(conn, actor, order, pid, amount, body["reference"])
            settled.append(
                {"number": order.number, "amount": format_amount(amount, order.currency)}
            )
        return {"carrier": body["carrier"], "reference": body["reference"], "orders": settled}

    return db.write(work)
