"""Real threads refunding one order at once, through returns and order refunds: the order's
refunded never exceeds what was paid, a return is refunded once, and store credit is never
spent below zero."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dingdan.db.order_tables import Order, Payment
from dingdan.db.return_tables import Return
from dingdan.domain.shared.errors import InvalidTransition, ValidationFailed
from dingdan.services.after_sales import return_settlement, returns
from dingdan.services.payments import store_credit, transactions
from tests.builders import ADMIN, RETURNS_SHOP, shipped_order
from tests.integration.test_order_concurrency import _run_threads

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")

stocked = RETURNS_SHOP.fixture()


def _received_return(api, n, qty=1):
    rid = api.post(
        f"/api/v1/orders/{n}/returns",
        json={"lines": [{"sku": "TEA-001", "quantity": qty, "reason": "defective"}]},
    ).json()["id"]
    api.post(f"/api/v1/returns/{rid}/approve")
    r = api.post(
        f"/api/v1/returns/{rid}/receive",
        json={
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": qty, "condition": "resellable"}],
        },
    )
    assert r.status_code == 200, r.text
    return rid


def _money(db, number):
    return db.read(
        lambda c: c.execute(
            select(Order.paid_minor, Order.refunded_minor).where(Order.number == number)
        ).one()
    )


def _refund_rows(db):
    return db.read(
        lambda c: c.execute(
            select(func.count(), func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                Payment.kind == "refund"
            )
        ).one()
    )


def test_two_returns_refunded_at_once_never_exceed_what_was_paid(api, stocked):  # noqa: F811
    for _ in range(3):
        n = shipped_order(api)  # 2 × 350 + 60 shipping, paid 760
        rids = [_received_return(api, n), _received_return(api, n)]
        outcomes: list[str] = []

        def refund(i, rids=rids, outcomes=outcomes):
            try:
                # More than one unit is worth: an admin's, with a reason.
                body = {"amount": "500.00", "reason": "goodwill"}
                return_settlement.refund_return(stocked, ADMIN, rids[i], body)
                outcomes.append("ok")
            except ValidationFailed:
                outcomes.append("refused")

        assert _run_threads(2, refund) == []
        assert sorted(outcomes) == ["ok", "refused"]
        paid, refunded = _money(stocked, n)
        assert refunded == 50000 <= paid


def test_one_return_refunded_by_many_threads_is_refunded_once(api, stocked):  # noqa: F811
    n = shipped_order(api)
    rid = _received_return(api, n, qty=2)
    outcomes: list[str] = []

    def refund(_i):
        try:
            return_settlement.refund_return(stocked, ADMIN, rid, {})
            outcomes.append("ok")
        except InvalidTransition:
            outcomes.append("409")

    assert _run_threads(6, refund) == []
    assert outcomes.count("ok") == 1 and outcomes.count("409") == 5
    assert _money(stocked, n)[1] == 70000
    assert _refund_rows(stocked) == (1, 70000)


def test_return_and_order_refunds_racing_stay_within_paid(api, stocked):  # noqa: F811
    n = shipped_order(api)
    rid = _received_return(api, n, qty=2)

    def refund(i):
        try:
            if i == 0:
                return_settlement.refund_return(stocked, ADMIN, rid, {})
            else:
                body = {"amount": "100.00", "reason": "goodwill"}
                transactions.refund(stocked, ADMIN, n, body)
        except ValidationFailed:
            pass

    assert _run_threads(4, refund) == []
    paid, refunded = _money(stocked, n)
    assert refunded <= paid
    assert _refund_rows(stocked)[1] == refunded


def test_two_requests_for_the_last_returnable_units_grant_one(api, stocked):  # noqa: F811
    n = shipped_order(api)
    outcomes: list[str] = []

    def ask(_i):
        try:
            returns.request_return(
                stocked,
                ADMIN,
                n,
                {"lines": [{"sku": "TEA-001", "quantity": 2, "reason": "defective"}]},
            )
            outcomes.append("ok")
        except ValidationFailed:
            outcomes.append("refused")

    assert _run_threads(4, ask) == []
    assert outcomes.count("ok") == 1
    assert stocked.read(lambda c: c.execute(select(func.count()).select_from(Return)).scalar()) == 1


def test_store_credit_spent_at_once_never_goes_below_zero(api, stocked):  # noqa: F811
    n = shipped_order(api)
    rid = _received_return(api, n)
    return_settlement.refund_return(stocked, ADMIN, rid, {"to": "store_credit"})  # 350.00
    cid = stocked.read(
        lambda c: c.execute(select(Order.customer_id).where(Order.number == n)).scalar_one()
    )
    outcomes: list[str] = []

    def spend(i):
        try:
            stocked.write(
                lambda c: store_credit.spend_store_credit(c, cid, "TWD", 10000, f"order:{i}")
            )
            outcomes.append("ok")
        except ValidationFailed:
            outcomes.append("refused")

    assert _run_threads(6, spend) == []
    assert outcomes.count("ok") == 3
    assert stocked.read(lambda c: store_credit.balance(c, cid, "TWD")) == 5000
