"""Hypothesis drives random receipts, adjustments, transfers, reservations, releases and
shipments; after every step the levels equal the ledger and 0 <= reserved <= on_hand, and
they equal a plain model of what the steps should have done."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from dingdan.db import stock as stock_sql
from dingdan.db.tables import StockLevel
from dingdan.domain.shared.errors import InsufficientStock
from dingdan.services.inventory import stock
from dingdan.services.shared.common import SYSTEM
from tests.builders import location, product

SKUS = ["A", "B"]
LOCS = ["TPE", "KHH"]
qty = st.integers(min_value=1, max_value=6)


def run_machine(db):
    for s in SKUS:
        product(db, s)
    for loc in LOCS:
        location(db, loc)
    pid = {s: i + 1 for i, s in enumerate(SKUS)}
    lid = {c: i + 1 for i, c in enumerate(LOCS)}

    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.write(
                lambda c: [c.execute(StockLevel.__table__.update().values(on_hand=0, reserved=0))]
            )
            db.write(lambda c: c.exec_driver_sql("DELETE FROM stock_movements"))
            self.model = {(s, loc): [0, 0] for s in SKUS for loc in LOCS}

        def _move(self, sku, loc, kind, doh, dres):
            try:
                db.write(
                    lambda c: stock_sql.apply(
                        c, [stock_sql.Move(pid[sku], lid[loc], kind, doh, dres)], actor="hyp"
                    )
                )
            except InsufficientStock:
                oh, rs = self.model[(sku, loc)]
                assert oh + doh < rs + dres or rs + dres < 0, "refused a legal move"
                return
            self.model[(sku, loc)][0] += doh
            self.model[(sku, loc)][1] += dres

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=qty)
        def receipt(self, sku, loc, q):
            stock.receive(db, SYSTEM, {"location": loc, "lines": [{"sku": sku, "quantity": q}]})
            self.model[(sku, loc)][0] += q

        @rule(
            sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), d=st.integers(-6, 6).filter(bool)
        )
        def adjustment(self, sku, loc, d):
            try:
                stock.adjust(
                    db, SYSTEM, {"location": loc, "sku": sku, "delta": d, "reason": "cycle_count"}
                )
                self.model[(sku, loc)][0] += d
            except InsufficientStock:
                oh, rs = self.model[(sku, loc)]
                assert oh + d < rs

        @rule(sku=st.sampled_from(SKUS), src=st.sampled_from(LOCS), q=qty)
        def transfer(self, sku, src, q):
            dst = LOCS[1 - LOCS.index(src)]
            try:
                stock.transfer(
                    db,
                    SYSTEM,
                    {
                        "from_location": src,
                        "to_location": dst,
                        "lines": [{"sku": sku, "quantity": q}],
                    },
                )
                self.model[(sku, src)][0] -= q
                self.model[(sku, dst)][0] += q
            except InsufficientStock:
                oh, rs = self.model[(sku, src)]
                assert oh - q < rs

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=qty)
        def reserve(self, sku, loc, q):
            self._move(sku, loc, "reservation", 0, q)

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=qty)
        def release(self, sku, loc, q):
            self._move(sku, loc, "release", 0, -q)

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=qty)
        def ship(self, sku, loc, q):
            self._move(sku, loc, "shipment", -q, -q)

        @invariant()
        def levels_equal_ledger_and_model(self):
            assert stock.verify(db) == []
            rows = db.read(
                lambda c: c.execute(
                    select(
                        StockLevel.product_id,
                        StockLevel.location_id,
                        StockLevel.on_hand,
                        StockLevel.reserved,
                    )
                ).all()
            )
            for p, loc, oh, rs in rows:
                assert 0 <= rs <= oh
                sku, code = SKUS[p - 1], LOCS[loc - 1]
                assert [oh, rs] == self.model[(sku, code)]

    StockMachine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    StockMachine.TestCase().runTest()


def test_random_stock_operations_keep_levels_equal_to_the_ledger(db):
    run_machine(db)
