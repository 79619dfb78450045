"""Hypothesis drives random orders through their lives: placing (with backorders and cash on
delivery), cancelling, paying, refunding, shipping, delivering and receiving stock. After
every step the database must agree with itself: reservations equal allocations, the levels
equal the ledger, money stays within bounds, every stored status is the one the domain
derives from the order's records, and every unit of every line is accounted for once."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from dingdan.db.order_tables import Allocation, Order, OrderLine, Payment, Shipment
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.orders import status as derive
from dingdan.domain.shared.errors import (
    InsufficientStock,
    InvalidTransition,
    PaymentRequired,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount
from dingdan.services.fulfilment import shipments as fulfilment
from dingdan.services.inventory import stock
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, address, location, order_body, product, receive

# sku -> (price, allow_backorder)
SKUS = {"A": ("350.00", False), "B": ("120.00", True), "C": ("45.50", True), "D": ("80.00", False)}
LOCS = ["TPE", "KHH"]
METHODS = ["bank_transfer", "card", "cod", "e_wallet", "cash"]
# Each example starts with this stock: enough for a few orders, short of some.
SEED = {"TPE": {"A": 6, "B": 1, "D": 8}, "KHH": {"A": 5, "B": 2, "C": 1}}
share = st.one_of(st.just(100), st.integers(1, 100))
over = st.integers(0, 5).map(lambda n: n == 0)
RESET = [
    "DELETE FROM pack_records",
    "DELETE FROM order_events",
    "DELETE FROM payment_attempts",
    "DELETE FROM payments",
    "DELETE FROM shipments",
    "DELETE FROM allocations",
    "DELETE FROM order_lines",
    "DELETE FROM idempotency_keys",
    "DELETE FROM orders",
    "DELETE FROM stock_movements",
    "DELETE FROM outbox",
    "UPDATE stock_levels SET on_hand = 0, reserved = 0",
]


LIN_KAOHSIUNG = {
    "customer": {"email": "lin@example.com", "name": "林小姐"},
    "shipping_address": address(
        name="林小姐", line1="中山路一段1號", city="高雄市", postal_code="800"
    ),
}


def _body(lines, method, shipping):
    return order_body(lines, shipping_price=shipping, payment_method=method, **LIN_KAOHSIUNG)


def _available(db):
    """sku -> total available over active locations."""
    rows = db.read(
        lambda c: c.execute(
            select(Product.sku, func.sum(StockLevel.on_hand - StockLevel.reserved))
            .join(Product, Product.id == StockLevel.product_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.active.is_(True))
            .group_by(Product.sku)
        ).all()
    )
    return {sku: int(a) for sku, a in rows}


def _order(db, number):
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def _held(db, number):
    """location code -> {sku: [units of each allocation there]} for one order."""
    rows = db.read(
        lambda c: c.execute(
            select(Location.code, OrderLine.sku, Allocation.quantity)
            .join(Location, Location.id == Allocation.location_id)
            .join(OrderLine, OrderLine.id == Allocation.line_id)
            .join(Order, Order.id == Allocation.order_id)
            .where(Order.number == number)
        ).all()
    )
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for code, sku, q in rows:
        out[code][sku].append(q)
    return out


def run_machine(db):
    for sku, (price, back) in SKUS.items():
        product(db, sku, price=price, allow_backorder=back)
    for i, code in enumerate(LOCS):
        location(db, code, priority=i)
    receive(db, "TPE", dict.fromkeys(SKUS, 1))  # every level row exists from the start

    class OrderLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.write(lambda c: [c.exec_driver_sql(sql) for sql in RESET])
            for code, quantities in SEED.items():
                receive(db, code, quantities)
            self.numbers: list[str] = []
            self.shipments: list[str] = []

        # ------------------------------------------------------------ rules

        @rule(
            picked=st.lists(
                st.tuples(st.sampled_from(sorted(SKUS)), st.integers(1, 5)),
                min_size=2,
                max_size=3,
            ),  # two lines of one SKU happen too
            method=st.sampled_from(METHODS),
            shipping=st.sampled_from(["0", "60.00", "85.50"]),
        )
        def place(self, picked, method, shipping):
            before = _available(db)
            lines = [{"sku": s, "quantity": q} for s, q in picked]
            # Lines take what is available in their order; a later line of the same SKU
            # gets what the earlier ones left.
            left = {s: max(0, before.get(s, 0)) for s in SKUS}
            expect = []
            for s, q in picked:
                expect.append(min(q, left[s]))
                left[s] -= expect[-1]
            short = {
                f"lines[{i}].quantity"
                for i, ((s, q), got) in enumerate(zip(picked, expect, strict=True))
                if got < q and not SKUS[s][1]
            }
            try:
                view, created = capture.place_order(db, ADMIN, _body(lines, method, shipping))
            except InsufficientStock as exc:
                assert short, f"refused although every line could be served: {picked} {before}"
                assert {e.field for e in exc.errors} == short
                return
            assert not short, f"accepted although {short} could not be served"
            assert created and view["status"] == "open"
            for (sku, q), got, ln in zip(picked, expect, view["lines"], strict=True):
                assert ln["sku"] == sku and ln["quantity"] == q
                assert ln["allocated"] == got
                assert ln["backordered"] == q - got
            self.numbers.append(view["number"])

        @precondition(lambda self: self.numbers)
        @rule(data=st.data())
        def cancel(self, data):
            number = self._pick(data)
            o = _order(db, number)
            shipped = self._shipped(number)
            try:
                view = fulfilment.cancel_order(db, ADMIN, number, "customer asked")
            except InvalidTransition:
                assert o.status != "open" or shipped, "refused to cancel an open, unshipped order"
                return
            assert o.status == "open" and not shipped
            assert view["status"] == "cancelled" and view["allocations"] == []
            assert all(ln["cancelled"] == ln["quantity"] for ln in view["lines"])

        @precondition(lambda self: self.numbers)
        @rule(data=st.data(), share=share, over=over)
        def pay(self, data, share, over):
            number = self._pick(data)
            o = _order(db, number)
            due = o.total_minor - o.paid_minor
            amount = due + 1 if over or due == 0 else max(1, due * share // 100)
            try:
                r = transactions.record_payment(
                    db, ADMIN, number, {"amount": format_amount(amount, "TWD")}
                )
            except InvalidTransition:
                assert o.status == "cancelled"
                return
            except ValidationFailed as exc:
                assert [e.field for e in exc.errors] == ["amount"]
                assert amount > due
                return
            assert amount <= due and o.status != "cancelled"
            assert r["order"]["paid"] == format_amount(o.paid_minor + amount, "TWD")

        @precondition(lambda self: self.numbers)
        @rule(data=st.data(), share=share, over=over)
        def refund(self, data, share, over):
            number = self._pick(data)
            o = _order(db, number)
            left = o.paid_minor - o.refunded_minor
            amount = left + 1 if over or left == 0 else max(1, left * share // 100)
            body = {"amount": format_amount(amount, "TWD"), "reason": "partial refund"}
            try:
                r = transactions.refund(db, ADMIN, number, body)
            except ValidationFailed as exc:
                assert [e.field for e in exc.errors] == ["amount"]
                assert amount > left
                return
            assert amount <= left
            assert r["order"]["refunded"] == format_amount(o.refunded_minor + amount, "TWD")

        @precondition(lambda self: self.numbers)
        @rule(data=st.data(), partial=st.booleans())
        def ship(self, data, partial):
            number = self._pick(data, ready=True)
            o = _order(db, number)
            held = _held(db, number)
            code = data.draw(st.sampled_from(sorted(held) or LOCS))
            body: dict = {"carrier": "tcat", "location": code}
            if partial and held.get(code):
                skus = data.draw(
                    st.lists(st.sampled_from(sorted(held[code])), min_size=1, unique=True)
                )
                # At most one allocation's units: see the test of two lines of one SKU below.
                body["lines"] = [
                    {"sku": s, "quantity": data.draw(st.integers(1, min(held[code][s])))}
                    for s in skus
                ]
            try:
                s = fulfilment.create_shipment(db, ADMIN, number, body)
            except InvalidTransition:
                assert o.status != "open" or not held.get(code)
                return
            except PaymentRequired:
                assert o.payment_method != "cod" and o.paid_minor < o.total_minor
                return
            assert o.status == "open" and held.get(code)
            assert o.payment_method == "cod" or o.paid_minor >= o.total_minor
            want = body.get("lines") or [
                {"sku": k, "quantity": q} for k, qs in held[code].items() for q in qs
            ]
            assert sorted((ln["sku"], ln["quantity"]) for ln in s["lines"]) == sorted(
                (ln["sku"], ln["quantity"]) for ln in want
            )
            assert s["location"] == code and s["status"] == "shipped"
            self.shipments.append(s["id"])

        @precondition(lambda self: self.shipments)
        @rule(data=st.data())
        def deliver(self, data):
            sid = data.draw(st.sampled_from(self.shipments))
            before = db.read(
                lambda c: c.execute(select(Shipment.status).where(Shipment.id == int(sid)))
            ).scalar_one()
            try:
                s = fulfilment.mark_delivered(db, ADMIN, sid)
            except InvalidTransition:
                assert before == "delivered"
                return
            assert before != "delivered" and s["status"] == "delivered"

        @rule(sku=st.sampled_from(sorted(SKUS)), loc=st.sampled_from(LOCS), q=st.integers(1, 8))
        def receive_stock(self, sku, loc, q):
            receive(db, loc, {sku: q})

        def _pick(self, data, ready=False):
            """An order this run made; mostly an open one (``ready``: one that may ship
            now), so that most steps do something and some try what must be refused."""
            query = select(Order.number).where(
                Order.number.in_(self.numbers), Order.status == "open"
            )
            if ready:
                query = query.where(
                    (Order.payment_method == "cod") | (Order.paid_minor >= Order.total_minor),
                    Order.id.in_(select(Allocation.order_id)),
                )
            good = db.read(lambda c: c.execute(query).scalars().all())
            prefer = good and data.draw(st.integers(0, 4)) > 0
            return data.draw(st.sampled_from(sorted(good) if prefer else self.numbers))

        def _shipped(self, number):
            return db.read(
                lambda c: c.execute(
                    select(func.coalesce(func.sum(OrderLine.shipped), 0))
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(Order.number == number)
                ).scalar_one()
            )

        # ------------------------------------------------------------ invariants

        @invariant()
        def reservations_equal_allocations_and_levels_equal_the_ledger(self):
            assert stock.verify(db) == []
            levels = db.read(
                lambda c: c.execute(
                    select(
                        StockLevel.product_id,
                        StockLevel.location_id,
                        StockLevel.on_hand,
                        StockLevel.reserved,
                    )
                ).all()
            )
            rows = db.read(
                lambda c: c.execute(
                    select(
                        Allocation.product_id,
                        Allocation.location_id,
                        func.sum(Allocation.quantity),
                    ).group_by(Allocation.product_id, Allocation.location_id)
                ).all()
            )
            allocated = {(p, loc): int(q) for p, loc, q in rows}
            for p, loc, on_hand, reserved in levels:
                assert 0 <= reserved <= on_hand
                assert reserved == allocated.pop((p, loc), 0), (p, loc)
            assert not allocated, f"allocations without a stock level: {allocated}"

        @invariant()
        def every_order_agrees_with_its_own_records(self):
            def work(c):
                orders_ = c.execute(select(Order)).all()
                lines = defaultdict(list)
                for ln in c.execute(select(OrderLine)).all():
                    lines[ln.order_id].append(ln)
                money = defaultdict(int)
                for oid, kind, amount in c.execute(
                    select(Payment.order_id, Payment.kind, func.sum(Payment.amount_minor)).group_by(
                        Payment.order_id, Payment.kind
                    )
                ):
                    money[(oid, kind)] = int(amount)
                held = defaultdict(int)
                for line_id, q in c.execute(select(Allocation.line_id, Allocation.quantity)):
                    held[line_id] += q
                shipments = defaultdict(list)
                for s in c.execute(select(Shipment)).all():
                    shipments[s.order_id].append(s)
                return orders_, lines, money, held, shipments

            orders_, lines, money, held, shipments = db.read(work)
            for o in orders_:
                paid, refunded = money[(o.id, "payment")], money[(o.id, "refund")]
                assert (o.paid_minor, o.refunded_minor) == (paid, refunded), o.number
                assert 0 <= refunded <= paid <= o.total_minor, o.number
                assert paid - refunded >= 0
                cancelled = o.cancel_reason is not None
                qty = [derive.LineQty(ln.quantity, ln.shipped, ln.cancelled) for ln in lines[o.id]]
                ful = derive.fulfillment(qty)
                delivered = all(s.delivered_at is not None for s in shipments[o.id])
                want = (
                    derive.status(
                        cancelled=cancelled,
                        total=o.total_minor,
                        paid=paid,
                        fulfilled=ful,
                        all_delivered=delivered,
                    ).value,
                    derive.financial(o.total_minor, paid, refunded).value,
                    ful.value,
                )
                got = (o.status, o.financial_status, o.fulfillment_status)
                assert got == want, o.number
                sent = defaultdict(int)
                for s in shipments[o.id]:
                    for sl in s.lines:
                        sent[sl["sku"]] += sl["quantity"]
                by_sku = defaultdict(int)
                for ln in lines[o.id]:
                    assert min(ln.allocated, ln.backordered, ln.shipped, ln.cancelled) >= 0
                    assert ln.allocated + ln.backordered + ln.shipped + ln.cancelled == ln.quantity
                    assert ln.allocated == held[ln.id], (o.number, ln.sku)
                    assert ln.backordered == 0 or SKUS[ln.sku][1], (o.number, ln.sku)
                    by_sku[ln.sku] += ln.shipped
                    if cancelled:
                        assert ln.allocated == ln.backordered == 0
                        assert ln.cancelled == ln.quantity
                    else:
                        assert ln.cancelled == 0
                assert {k: v for k, v in by_sku.items() if v} == dict(sent), o.number

        @invariant()
        def no_open_backorder_waits_while_its_product_is_available(self):
            waiting = db.read(
                lambda c: (
                    c.execute(
                        select(OrderLine.sku)
                        .join(Order, Order.id == OrderLine.order_id)
                        .where(Order.status == "open", OrderLine.backordered > 0)
                    )
                    .scalars()
                    .all()
                )
            )
            free = _available(db)
            for sku in set(waiting):
                assert free.get(sku, 0) == 0, f"{sku} is available while a backorder waits"

    OrderLifecycle.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    OrderLifecycle.TestCase().runTest()


def test_random_order_lifecycles_keep_stock_money_and_statuses_consistent(db):
    run_machine(db)


def test_an_order_with_two_lines_of_one_sku_ships_any_part_of_what_is_held_there(db):
    product(db, "A")
    location(db, "TPE")
    receive(db, "TPE", {"A": 10})
    lines = [{"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 2}]
    view, _ = capture.place_order(db, ADMIN, _body(lines, "cod", "0"))
    assert [ln["allocated"] for ln in view["lines"]] == [2, 2]
    body = {"carrier": "tcat", "lines": [{"sku": "A", "quantity": 3}]}
    shipment = fulfilment.create_shipment(db, ADMIN, view["number"], body)
    assert sum(ln["quantity"] for ln in shipment["lines"]) == 3
    assert stock.stock_of(db, "A")["reserved"] == 1
