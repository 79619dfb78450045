"""Hypothesis drives random sequences of orders, payments, shipments, returns (requested,
approved, rejected, received in any condition), refunds (to the payment method or to store
credit, by return or by order) and exchanges. After every step: refunded <= paid on every
order, returned <= shipped on every line and equal to what its returns received, no line is
covered by returns beyond what shipped, the stock levels equal the ledger, and every store
credit balance equals its ledger."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import case, func, select

from dingdan.db.order_tables import Order, OrderLine, Payment
from dingdan.db.return_tables import Return, ReturnLine, StoreCreditBalance, StoreCreditEntry
from dingdan.domain.after_sales import returns as rules
from dingdan.domain.shared.errors import Conflict, DomainError
from dingdan.domain.shared.money import format_amount
from dingdan.services.after_sales import return_settlement, returns
from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, address, location, order_body, product, receive

SKUS = {"A": "350.00", "B": "120.00"}
LOCS = ["TPE", "KHH"]
pick = st.integers(0, 1000)
# Each example starts from empty orders and this stock, so that examples replay exactly.
SEED = {"A": 20, "B": 5}
RESET = [
    "DELETE FROM quarantine",
    "DELETE FROM return_lines",
    "DELETE FROM returns",
    "DELETE FROM store_credit",
    "DELETE FROM store_credit_balances",
    "DELETE FROM order_events",
    "DELETE FROM payment_attempts",
    "DELETE FROM payments",
    "DELETE FROM shipments",
    "DELETE FROM allocations",
    "DELETE FROM order_lines",
    "DELETE FROM orders",
    "DELETE FROM stock_movements",
    "DELETE FROM outbox",
    "UPDATE stock_levels SET on_hand = 0, reserved = 0",
]
qty = st.integers(1, 3)


LIN_TAICHUNG = {
    "customer": {"email": "lin@example.com", "name": "林小姐"},
    "shipping_address": address(
        name="林小姐", line1="中山路一段1號", city="台中市", postal_code="400", phone=None
    ),
}


def _body(lines):
    return order_body(lines, shipping_price="30.00", **LIN_TAICHUNG)


def _attempt(fn, *args):
    """Run a step; refusals are fine, a constraint violation (409 conflict) is a bug."""
    try:
        return fn(*args)
    except Conflict:
        raise
    except DomainError:
        return None


def run_machine(db):
    for sku, price in SKUS.items():
        product(db, sku, price=price, allow_backorder=sku == "B")
    for code in LOCS:
        location(db, code)

    class ReturnsMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.write(lambda c: [c.exec_driver_sql(sql) for sql in RESET])
            receive(db, "TPE", SEED)
            self.orders: list[str] = []
            self.returns: list[str] = []

        @rule(a=st.integers(0, 3), b=st.integers(0, 3), ship_now=st.booleans())
        def place(self, a, b, ship_now):
            lines = [{"sku": s, "quantity": q} for s, q in (("A", a), ("B", b)) if q]
            got = _attempt(capture.place_order, db, ADMIN, _body(lines)) if lines else None
            if got:
                n = got[0]["number"]
                self.orders.append(n)
                if ship_now:  # most returns need a paid, shipped order: get there often
                    _attempt(transactions.record_payment, db, ADMIN, n, {"amount": got[0]["total"]})
                    for loc in LOCS:
                        _attempt(
                            shipments.create_shipment,
                            db,
                            ADMIN,
                            n,
                            {"carrier": "tcat", "location": loc},
                        )

        @precondition(lambda self: self.orders)
        @rule(i=pick, share=st.integers(1, 100))
        def pay(self, i, share):
            n = self.orders[i % len(self.orders)]
            o = orders_view(db, n)
            due = o.total_minor - o.paid_minor
            if due > 0:
                amount = max(1, due * share // 100)
                _attempt(
                    transactions.record_payment,
                    db,
                    ADMIN,
                    n,
                    {"amount": format_amount(amount, "TWD")},
                )

        @precondition(lambda self: self.orders)
        @rule(i=pick, loc=st.sampled_from(LOCS))
        def ship(self, i, loc):
            n = self.orders[i % len(self.orders)]
            _attempt(shipments.create_shipment, db, ADMIN, n, {"carrier": "tcat", "location": loc})

        @rule(sku=st.sampled_from(list(SKUS)), loc=st.sampled_from(LOCS), q=qty)
        def restock(self, sku, loc, q):
            receive(db, loc, {sku: q})

        @precondition(lambda self: self.orders)
        @rule(
            i=pick,
            sku=st.sampled_from(list(SKUS)),
            q=st.integers(0, 3),
            reason=st.sampled_from(rules.DEFAULT_REASONS),
            then=st.integers(0, 3),
            good=st.integers(0, 2),
            bad=st.integers(0, 1),
            to=st.sampled_from(["original", "store_credit"]),
        )
        def request(self, i, sku, q, reason, then, good, bad, to):
            """Mostly within what shipped (q == 0: all of a shipped line), sometimes beyond;
            ``then`` carries the new return on through approval, receipt and refund, so that
            deep sequences are common."""
            candidates = [n for n in self.orders if shipped_lines(db, n)]
            if candidates and i % 5:
                n = candidates[i % len(candidates)]
            else:
                n = self.orders[i % len(self.orders)]
            shipped = shipped_lines(db, n)
            if q == 0 and shipped:
                sku, q = shipped[i % len(shipped)]
            got = _attempt(
                returns.request_return,
                db,
                ADMIN,
                n,
                {"lines": [{"sku": sku, "quantity": q or 1, "reason": reason}]},
            )
            if not got:
                return
            rid = got["id"]
            self.returns.append(rid)
            if then >= 1:
                _attempt(returns.approve_return, db, ADMIN, rid)
            if then >= 2:
                self.receive_return(0, good, bad, LOCS[i % 2])
            if then >= 3:
                self.refund(0, None, to)

        @precondition(lambda self: self.returns)
        @rule(i=pick, approve=st.integers(0, 3))
        def decide(self, i, approve):
            rid = self.returns[-1 - i % len(self.returns)]
            if approve:
                _attempt(returns.approve_return, db, ADMIN, rid)
            else:
                _attempt(returns.reject_return, db, ADMIN, rid, "no")

        @precondition(lambda self: self.returns)
        @rule(i=pick, good=st.integers(0, 2), bad=st.integers(0, 1), loc=st.sampled_from(LOCS))
        def receive_return(self, i, good, bad, loc):
            rid = self.returns[-1 - i % len(self.returns)]
            sku = return_sku(db, rid)
            lines = [
                {"sku": sku, "quantity": q, "condition": c}
                for q, c in ((good, "resellable"), (bad, "damaged"))
                if q
            ]
            if lines:
                _attempt(returns.receive_return, db, ADMIN, rid, {"location": loc, "lines": lines})

        @precondition(lambda self: self.returns)
        @rule(
            i=pick,
            amount=st.one_of(st.none(), st.none(), st.integers(1, 80000)),
            to=st.sampled_from(["original", "store_credit"]),
        )
        def refund(self, i, amount, to):
            rid = self.returns[-1 - i % len(self.returns)]
            body = {"to": to}
            if amount is not None:
                body["amount"] = format_amount(amount, "TWD")
            _attempt(return_settlement.refund_return, db, ADMIN, rid, body)

        @precondition(lambda self: self.returns)
        @rule(i=pick, sku=st.sampled_from(list(SKUS)), q=qty)
        def exchange(self, i, sku, q):
            rid = self.returns[-1 - i % len(self.returns)]
            got = _attempt(
                return_settlement.exchange_return,
                db,
                ADMIN,
                rid,
                {"lines": [{"sku": sku, "quantity": q}]},
            )
            if got:
                self.orders.append(got["replacement_order"])

        @precondition(lambda self: self.orders)
        @rule(i=pick, amount=st.integers(1, 50000))
        def order_refund(self, i, amount):
            n = self.orders[i % len(self.orders)]
            _attempt(
                transactions.refund,
                db,
                ADMIN,
                n,
                {"amount": format_amount(amount, "TWD"), "reason": "goodwill"},
            )

        @invariant()
        def money_stays_within_paid(self):
            for paid, refunded, refunds in db.read(money_rows):
                assert 0 <= refunded <= paid
                assert refunded == refunds

        @invariant()
        def returned_stays_within_shipped_and_equals_receipts(self):
            for shipped, returned, received, covered in db.read(line_rows):
                assert 0 <= returned <= shipped
                assert returned == received
                assert covered <= shipped

        @invariant()
        def stock_equals_the_ledger(self):
            assert stock.verify(db) == []

        @invariant()
        def store_credit_equals_its_ledger(self):
            for balance, ledger in db.read(credit_rows):
                assert balance == ledger >= 0

    ReturnsMachine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    ReturnsMachine.TestCase().runTest()


def orders_view(db, number):
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def shipped_lines(db, number):
    return db.read(
        lambda c: c.execute(
            select(OrderLine.sku, OrderLine.shipped)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.number == number, OrderLine.shipped > 0)
        ).all()
    )


def return_sku(db, rid):
    return db.read(
        lambda c: c.execute(
            select(ReturnLine.sku).where(ReturnLine.return_id == int(rid))
        ).scalar_one()
    )


def money_rows(conn):
    refunds = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(Payment.order_id == Order.id, Payment.kind == "refund")
        .scalar_subquery()
    )
    return conn.execute(select(Order.paid_minor, Order.refunded_minor, refunds)).all()


def line_rows(conn):
    covered = defaultdict(int)
    received = defaultdict(int)
    for line_id, status, q, got in conn.execute(
        select(
            ReturnLine.order_line_id,
            Return.status,
            ReturnLine.quantity,
            ReturnLine.resellable + ReturnLine.damaged,
        ).join(Return, Return.id == ReturnLine.return_id)
    ):
        covered[line_id] += rules.covered(status, q, got)
        received[line_id] += got
    return [
        (shipped, returned, received[i], covered[i])
        for i, shipped, returned in conn.execute(
            select(OrderLine.id, OrderLine.shipped, OrderLine.returned)
        )
    ]


def credit_rows(conn):
    signed = case(
        (StoreCreditEntry.kind == "earn", StoreCreditEntry.amount_minor),
        else_=-StoreCreditEntry.amount_minor,
    )
    ledger = (
        select(func.coalesce(func.sum(signed), 0))
        .where(
            StoreCreditEntry.customer_id == StoreCreditBalance.customer_id,
            StoreCreditEntry.currency == StoreCreditBalance.currency,
        )
        .scalar_subquery()
    )
    return conn.execute(select(StoreCreditBalance.balance_minor, ledger)).all()


def test_random_returns_and_refunds_keep_money_quantities_and_stock_consistent(db):
    run_machine(db)
