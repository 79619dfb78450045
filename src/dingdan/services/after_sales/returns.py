"""Returns: request (under the policy), approve, reject, receive, refund, exchange.

Every step is one transaction and moves the status with one conditional UPDATE (``WHERE
status = <the status it was read in>``), so two clerks racing on one return cannot both
succeed: the loser gets ``invalid_transition``. A request locks its order row first so two
requests for the same line cannot both be granted the last returnable units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine, Shipment
from dingdan.db.return_tables import QuarantinedUnit, Return, ReturnLine
from dingdan.db.tables import Product
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Action
from dingdan.domain.after_sales import returns as rules
from dingdan.domain.after_sales.returns import Condition, ReturnStatus
from dingdan.domain.inventory.stock import MovementKind, check_lines, check_quantity
from dingdan.domain.shared.errors import (
    FieldError,
    FieldErrors,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.text import check_clean
from dingdan.services.after_sales import return_policy
from dingdan.services.after_sales.return_queries import fetch_return, return_view
from dingdan.services.after_sales.shapes import (
    ReceiptLineIn,
    ReturnLineIn,
    ReturnReceipt,
    ReturnRequest,
    ReturnView,
)
from dingdan.services.inventory.locations import receiving
from dingdan.services.orders import backorders
from dingdan.services.orders.events import event
from dingdan.services.shared.common import Actor
from dingdan.services.shared.outbox_events import emit


def check_text(value: Any, field: str, max_len: int, errors: FieldErrors) -> None:
    if value is not None and (
        not isinstance(value, str) or not value.strip() or len(value) > max_len
    ):
        errors.add(field, "text_length", max=max_len)
    else:
        check_clean(value, field, errors, multiline=True)


def _check_request(actor: Actor, body: ReturnRequest) -> None:
    errors = FieldErrors()
    check_lines(body.get("lines"), errors)
    for i, ln in enumerate(body.get("lines") or []):
        if isinstance(ln, dict) and not isinstance(ln.get("reason"), str):
            errors.add(f"lines[{i}].reason", "reason_required")
    check_text(body.get("note"), "note", 1000, errors)
    check_text(body.get("override_reason"), "override_reason", 500, errors)
    if body.get("override") and not body.get("override_reason"):
        errors.add("override_reason", "override_reason_required")
    errors.raise_if_any()
    if body.get("override") and not actor.may(Action.MANAGE_SETTINGS):
        raise Forbidden(detail=f"The role {actor.role.value!r} may not override the policy.")


def _lock_order(conn: Connection, number: str) -> Any:
    row = conn.execute(select(Order).where(Order.number == number).with_for_update()).first()
    if row is None:
        raise NotFound(detail=f"No order numbered {number!r}.")
    return row


def _order_lines(conn: Connection, order_id: int) -> dict[str, Any]:
    rows = conn.execute(
        select(OrderLine, Product.category)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.position)
    ).all()
    return {r.sku: r for r in rows}


def _covered(conn: Connection, order_id: int) -> dict[int, int]:
    """Order line id → units that earlier returns account for."""
    rows = conn.execute(
        select(
            ReturnLine.order_line_id,
            Return.status,
            ReturnLine.quantity,
            ReturnLine.resellable + ReturnLine.damaged,
        )
        .join(Return, Return.id == ReturnLine.return_id)
        .where(Return.order_id == order_id)
    ).all()
    out: dict[int, int] = defaultdict(int)
    for line_id, status, qty, received in rows:
        out[line_id] += rules.covered(status, qty, received)
    return out


def _check_lines(
    conn: Connection, order: Any, lines: list[ReturnLineIn], policy: rules.Policy
) -> list[Any]:
    by_sku = _order_lines(conn, order.id)
    covered = _covered(conn, order.id)
    errors = FieldErrors()
    for i, ln in enumerate(lines):
        row = by_sku.get(ln["sku"])
        if ln["reason"] not in policy.reasons:
            errors.add(f"lines[{i}].reason", "not_one_of", choices=", ".join(policy.reasons))
        if row is None:
            errors.add(f"lines[{i}].sku", "not_on_order", sku=ln["sku"], number=order.number)
            continue
        left = rules.returnable(row.shipped, [covered[row.id]])
        if ln["quantity"] > left:
            errors.add(
                f"lines[{i}].quantity",
                "not_returnable_quantity",
                left=left,
                sku=ln["sku"],
                shipped=row.shipped,
                covered=covered[row.id],
            )
    only_quantities = all(e.code == "not_returnable_quantity" for e in errors.items)
    errors.raise_if_any(
        "The return asks for more than can be returned."
        if only_quantities
        else "The request has invalid fields."
    )
    return [by_sku[ln["sku"]] for ln in lines]


def _breaches(
    conn: Connection, order: Any, rows: list[Any], policy: rules.Policy
) -> list[rules.Breach]:
    shipments = conn.execute(
        select(Shipment.lines, Shipment.delivered_at).where(Shipment.order_id == order.id)
    ).all()
    facts = [
        rules.LineFacts(
            r.sku,
            r.category,
            [d for lines, d in shipments if any(x.get("sku") == r.sku for x in lines)],
        )
        for r in rows
    ]
    return rules.breaches(policy, facts, utcnow())


def _refuse_or_override(breaches: list[rules.Breach], body: ReturnRequest) -> str | None:
    if not breaches:
        return None
    names = sorted({b.rule for b in breaches})
    if not body.get("override"):
        raise ValidationFailed(
            detail=f"The return is outside the return policy ({', '.join(names)}).",
            errors=[_breach_error(b) for b in breaches],
        )
    return ",".join(names)


def _breach_error(b: rules.Breach) -> FieldError:
    return FieldError.of(b.field, b.rule, **b.params)


def request_return(db: Database, actor: Actor, number: str, body: ReturnRequest) -> ReturnView:
    _check_request(actor, body)
    lines = body.get("lines")
    assert lines is not None  # _check_request refused a request without lines

    def work(conn: Connection) -> ReturnView:
        order = _lock_order(conn, number)
        policy = return_policy.load(conn)
        rows = _check_lines(conn, order, lines, policy)
        overridden = _refuse_or_override(_breaches(conn, order, rows, policy), body)
        rid = _insert_return(conn, actor, order, body, overridden)
        conn.execute(
            insert(ReturnLine),
            [
                {
                    "return_id": rid,
                    "order_line_id": r.id,
                    "product_id": r.product_id,
                    "sku": r.sku,
                    "quantity": ln["quantity"],
                    "reason": ln["reason"],
                }
                for r, ln in zip(rows, lines, strict=True)
            ],
        )
        _requested_events(conn, actor, order, rid, lines, overridden, body)
        return return_view(conn, fetch_return(conn, str(rid)))

    return db.write(work)


def _insert_return(
    conn: Connection, actor: Actor, order: Any, body: ReturnRequest, overridden: str | None
) -> int:
    return int(
        conn.execute(
            insert(Return)
            .values(
                order_id=order.id,
                status=ReturnStatus.REQUESTED.value,
                note=body.get("note"),
                requested_by=actor.name,
                override_rules=overridden,
                override_reason=body.get("override_reason") if overridden else None,
                overridden_by=actor.name if overridden else None,
            )
            .returning(Return.id)
        ).scalar_one()
    )


def _requested_events(
    conn: Connection,
    actor: Actor,
    order: Any,
    rid: int,
    lines: list[ReturnLineIn],
    overridden: str | None,
    body: ReturnRequest,
) -> None:
    listed = [
        {"sku": ln["sku"], "quantity": ln["quantity"], "reason": ln["reason"]} for ln in lines
    ]
    summary = ", ".join(f"{ln['quantity']} × {ln['sku']} ({ln['reason']})" for ln in lines)
    event(
        conn,
        order.id,
        "return_requested",
        actor.name,
        f"Return {rid} requested: {summary}",
        {"return_id": str(rid), "lines": listed},
    )
    emit(conn, "return.requested", {"number": order.number, "return_id": str(rid)})
    if overridden:
        event(
            conn,
            order.id,
            "return_policy_overridden",
            actor.name,
            f"Return {rid}: policy ({overridden}) overridden: {body['override_reason']}",
            {
                "return_id": str(rid),
                "rules": overridden.split(","),
                "reason": body["override_reason"],
            },
        )


def _return_event(conn: Connection, ret: Any) -> dict[str, Any]:
    number = conn.execute(select(Order.number).where(Order.id == ret.order_id)).scalar_one()
    return {"number": number, "return_id": str(ret.id)}


def move_status(conn: Connection, ret: Any, target: ReturnStatus, **values: Any) -> None:
    """The one writer of a return's status: checked against the table, then conditional on
    the status it was read in."""
    rules.check_return_transition(ret.status, target, str(ret.id))
    done = conn.execute(
        update(Return)
        .where(Return.id == ret.id, Return.status == ret.status)
        .values(status=target.value, updated_at=utcnow(), **values)
    ).rowcount
    if not done:
        current = conn.execute(select(Return.status).where(Return.id == ret.id)).scalar_one()
        rules.check_return_transition(current, target, str(ret.id))


def approve_return(db: Database, actor: Actor, return_id: str) -> ReturnView:
    def work(conn: Connection) -> ReturnView:
        ret = fetch_return(conn, return_id)
        move_status(conn, ret, ReturnStatus.APPROVED)
        event(
            conn,
            ret.order_id,
            "return_approved",
            actor.name,
            f"Return {ret.id} approved",
            {"return_id": str(ret.id)},
        )
        emit(conn, "return.approved", _return_event(conn, ret))
        return return_view(conn, fetch_return(conn, return_id))

    return db.write(work)


def reject_return(db: Database, actor: Actor, return_id: str, reason: Any) -> ReturnView:
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise ValidationFailed.on("reason", "required_text", max=500)

    def work(conn: Connection) -> ReturnView:
        ret = fetch_return(conn, return_id)
        move_status(conn, ret, ReturnStatus.REJECTED, reject_reason=reason.strip())
        event(
            conn,
            ret.order_id,
            "return_rejected",
            actor.name,
            f"Return {ret.id} rejected: {reason.strip()}",
            {"return_id": str(ret.id), "reason": reason.strip()},
        )
        emit(conn, "return.rejected", _return_event(conn, ret))
        return return_view(conn, fetch_return(conn, return_id))

    return db.write(work)


def _check_receipt(body: ReturnReceipt) -> None:
    errors = FieldErrors()
    if not isinstance(body.get("location"), str) or not body["location"]:
        errors.add("location", "required")
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        errors.add("lines", "no_lines")
    seen: set[tuple[str, str]] = set()
    for i, sent in enumerate(lines or []):
        ln: Mapping[str, object] = sent if isinstance(sent, dict) else {}
        _check_receipt_line(ln, i, errors)
        key = (str(ln.get("sku")), str(ln.get("condition")))
        if key in seen:
            errors.add(f"lines[{i}].sku", "duplicate_line")
        seen.add(key)
    errors.raise_if_any()


def _check_receipt_line(ln: Mapping[str, object], i: int, errors: FieldErrors) -> None:
    if not isinstance(ln.get("sku"), str) or not ln["sku"]:
        errors.add(f"lines[{i}].sku", "required")
    check_quantity(ln.get("quantity"), f"lines[{i}].quantity", errors)
    if ln.get("condition") not in {c.value for c in Condition}:
        errors.add(f"lines[{i}].condition", "not_one_of", choices="resellable, damaged")


def _received(ret_lines: dict[str, Any], lines: list[ReceiptLineIn]) -> dict[str, list[int]]:
    """SKU → [resellable, damaged], checked against what the return asked for."""
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = FieldErrors()
    for i, ln in enumerate(lines):
        if ln["sku"] not in ret_lines:
            errors.add(f"lines[{i}].sku", "not_in_return", sku=ln["sku"])
            continue
        got[ln["sku"]][0 if ln["condition"] == Condition.RESELLABLE else 1] += ln["quantity"]
        wanted = ret_lines[ln["sku"]].quantity
        if sum(got[ln["sku"]]) > wanted:
            errors.add(f"lines[{i}].quantity", "more_than_requested", requested=wanted)
    errors.raise_if_any("The receipt takes more than the return asked for.")
    return dict(got)


def receive_return(db: Database, actor: Actor, return_id: str, body: ReturnReceipt) -> ReturnView:
    _check_receipt(body)

    def work(conn: Connection) -> ReturnView:
        ret = fetch_return(conn, return_id)
        rules.check_return_transition(ret.status, ReturnStatus.RECEIVED, return_id)
        location = body.get("location")
        assert location is not None  # _check_receipt refused a receipt without one
        loc = receiving(conn, location, field="location")
        ret_lines = {
            r.sku: r for r in conn.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id))
        }
        got = _received(ret_lines, body["lines"])
        move_status(conn, ret, ReturnStatus.RECEIVED, location_id=loc.id, received_at=utcnow())
        for sku, (good, bad) in got.items():
            _receive_line(conn, actor, ret, ret_lines[sku], loc.id, good, bad)
        restocked = [(ret_lines[s].product_id, loc.id) for s, (good, _) in got.items() if good]
        backorders.allocate(conn, actor, restocked)
        _received_events(conn, actor, ret, loc.code, got)
        return return_view(conn, fetch_return(conn, return_id))

    return db.write(work)


def _receive_line(
    conn: Connection, actor: Actor, ret: Any, line: Any, location_id: int, good: int, bad: int
) -> None:
    conn.execute(
        update(ReturnLine).where(ReturnLine.id == line.id).values(resellable=good, damaged=bad)
    )
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == line.order_line_id)
        .values(returned=OrderLine.returned + good + bad)
    )
    ref = f"return:{ret.id}"
    if good:
        move = stock_sql.Move(line.product_id, location_id, MovementKind.RETURN_RESTOCK, good)
        stock_sql.apply(conn, [move], actor=actor.name, reason="return", reference=ref)
    if bad:
        conn.execute(
            insert(QuarantinedUnit).values(
                product_id=line.product_id,
                location_id=location_id,
                return_id=ret.id,
                quantity=bad,
                actor=actor.name,
            )
        )


def _received_events(
    conn: Connection, actor: Actor, ret: Any, code: str, got: dict[str, list[int]]
) -> None:
    lines = [{"sku": s, "resellable": g, "damaged": b} for s, (g, b) in got.items()]
    summary = ", ".join(f"{g + b} × {s}" for s, (g, b) in got.items())
    event(
        conn,
        ret.order_id,
        "return_received",
        actor.name,
        f"Return {ret.id} received at {code}: {summary}",
        {"return_id": str(ret.id), "location": code, "lines": lines},
    )
    emit(conn, "return.received", _return_event(conn, ret))
    damaged = [{"sku": s, "quantity": b} for s, (_, b) in got.items() if b]
    if damaged:
        listed = ", ".join(f"{d['quantity']} × {d['sku']}" for d in damaged)
        event(
            conn,
            ret.order_id,
            "return_quarantined",
            actor.name,
            f"Return {ret.id}: damaged units quarantined at {code}, not on hand: {listed}",
            {"return_id": str(ret.id), "location": code, "lines": damaged},
        )
