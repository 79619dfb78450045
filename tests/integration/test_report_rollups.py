"""Hypothesis: random sequences of orders (two currencies, placed either side of Taipei's
midnight), edits, payments, refunds, shipments, deliveries and cancellations, with the
worker draining the outbox at random moments. After the last drain the daily rollups equal
a recomputation from the orders; ``rebuild`` from nothing gives the same rows, and a second
rebuild changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import DomainError
from dingdan.services.fulfilment import shipments
from dingdan.services.jobs import worker
from dingdan.services.orders import capture, edits
from dingdan.services.payments import transactions
from dingdan.services.reports import rollup_reads, rollups
from tests.builders import ADMIN, address, location, order_body, product, receive

RESET = [
    "DELETE FROM report_order_facts",
    "DELETE FROM report_yearly",
    "DELETE FROM report_monthly",
    "DELETE FROM report_daily",
    "DELETE FROM pack_records",
    "DELETE FROM order_events",
    "DELETE FROM payment_attempts",
    "DELETE FROM payments",
    "DELETE FROM shipments",
    "DELETE FROM allocations",
    "DELETE FROM order_lines",
    "DELETE FROM idempotency_keys",
    "DELETE FROM orders",
    "DELETE FROM outbox",
]
# 23:59 and 00:01 in Taipei on either side of three midnights (one ends February, one 2025).
TIMES = [
    datetime(2026, 2, 28, 15, 59, tzinfo=UTC),
    datetime(2026, 2, 28, 16, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 15, 59, tzinfo=UTC),
    datetime(2026, 3, 1, 16, 1, tzinfo=UTC),
    datetime(2025, 12, 31, 15, 59, tzinfo=UTC),
    datetime(2025, 12, 31, 16, 1, tzinfo=UTC),
]
# Ranges whose ends fall on and beside those days, months and years.
RANGES = [(date(2025, 1, 1), date(2026, 12, 31)), (date(2025, 12, 2), date(2026, 3, 30)),
          (date(2025, 12, 31), date(2026, 1, 1)), (date(2026, 1, 1), date(2026, 3, 1)),
          (date(2026, 1, 2), date(2026, 3, 2)), (date(2026, 2, 28), date(2026, 3, 1)),
          (date(2026, 3, 1), date(2026, 3, 30)), (date(2026, 3, 2), date(2026, 12, 31)),
          (date(2025, 12, 2), date(2026, 1, 2)), (date(2026, 3, 1), date(2026, 3, 1))]  # fmt: skip
ODD = (date(2026, 1, 2), date(2026, 3, 2))
DIMS = ("product", "customer", "total")
CITIES = [("台北市", "110"), ("高雄市", "800")]

place = st.tuples(
    st.just("place"),
    st.lists(st.tuples(st.sampled_from(["A", "B"]), st.integers(1, 3)), min_size=1, max_size=2),
    st.sampled_from(["TWD", "USD"]),
    st.sampled_from(TIMES),
    st.sampled_from(CITIES),
)
act = st.tuples(
    st.sampled_from(["edit", "pay", "refund", "cancel", "ship", "deliver", "drain"]),
    st.integers(0, 20),
    st.integers(0, 3),
)
steps = st.lists(st.one_of(place, act, act), min_size=1, max_size=16)


def _place(db, picked, currency, when, city):
    lines = [
        {"sku": s, "quantity": q, **({"unit_price": "3.50"} if currency == "USD" else {})}
        for s, q in picked
    ]
    body = order_body(
        lines,
        currency=currency,
        shipping_price="1.00" if currency == "USD" else "60.00",
        shipping_address=address(city=city[0], postal_code=city[1]),
    )
    view, _ = capture.place_order(db, ADMIN, body)
    number = view["number"]
    db.write(
        lambda c: c.execute(update(Order).where(Order.number == number).values(created_at=when))
    )
    return number


def _pay(db, o):
    if o.total_minor > o.paid_minor and o.status == "open":
        due = o.total_minor - o.paid_minor
        amount = f"{due // 100}.{due % 100:02d}"
        transactions.record_payment(db, ADMIN, o.number, {"amount": amount})


def _act(db, kind, number, n):
    o = db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())
    money = "1.00" if o.currency == "USD" else "10.00"
    if kind == "edit":
        edits.edit_order(db, ADMIN, number, {"lines": [{"sku": "A", "quantity": n}]})
    elif kind == "pay":
        _pay(db, o)
    elif kind == "refund":
        _pay(db, o)
        transactions.refund(db, ADMIN, number, {"amount": money, "reason": "goodwill"})
    elif kind == "cancel":
        shipments.cancel_order(db, ADMIN, number, "customer asked")
    elif kind == "ship":
        _pay(db, o)
        shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})
    elif kind == "deliver":
        sid = db.read(
            lambda c: c.exec_driver_sql(
                f"SELECT id FROM shipments WHERE order_id = {o.id} ORDER BY id LIMIT 1"
            ).scalar()
        )
        if sid is not None:
            shipments.mark_delivered(db, ADMIN, str(sid))


def test_rollups_equal_a_recomputation_after_random_histories(db):
    product(db, "A", price="350.00", category="tea", brand="Ali")
    product(db, "B", price="120.00", allow_backorder=True)
    location(db, "TPE")
    receive(db, "TPE", {"A": 1})

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=steps)
    def run(steps):
        db.write(lambda c: [c.exec_driver_sql(sql) for sql in RESET])
        db.write(lambda c: c.exec_driver_sql("UPDATE stock_levels SET on_hand = 8, reserved = 0"))
        numbers: list[str] = []
        for step in steps:
            try:
                if step[0] == "place":
                    numbers.append(_place(db, *step[1:]))
                elif step[0] == "drain":
                    worker.drain(db)
                elif numbers:
                    _act(db, step[0], numbers[step[1] % len(numbers)], step[2])
            except DomainError:
                pass  # a refused step (nothing paid to refund, shipped, out of stock ...)
        worker.drain(db)
        expected = db.read(rollups.recomputed)
        assert db.read(rollups.daily_rows) == expected
        assert db.read(rollups.monthly_rows) == rollups.by_month(expected)
        assert db.read(rollups.yearly_rows) == rollups.by_year(expected)
        _ranges_read_as_the_days_sum(db, expected)
        db.write(lambda c: [c.exec_driver_sql(sql) for sql in RESET[:4]])
        rollups.rebuild(db, batch=2)
        assert db.read(rollups.daily_rows) == expected
        assert db.read(rollups.monthly_rows) == rollups.by_month(expected)
        assert db.read(rollups.yearly_rows) == rollups.by_year(expected)
        assert rollups.rebuild(db) == 0

    run()


def _ranges_read_as_the_days_sum(db, expected):
    """Ranges read as the reports read them (signed years, months and days) equal the
    recomputed days of the range summed by key."""

    def read(conn):
        # A form that subtracts days, months and years that hold orders, as the weights
        # choose on a larger shop: 2 January to 2 March 2026 as 2026 less 1 January, less
        # March's days after the 2nd, less April to December.
        odd = [("year", date(2026, 1, 1), date(2026, 1, 1), 1),
               ("day", date(2026, 1, 1), date(2026, 1, 1), -1),
               ("day", date(2026, 3, 3), date(2026, 3, 31), -1),
               ("month", date(2026, 4, 1), date(2026, 12, 1), -1)]  # fmt: skip
        for cur in ("TWD", "USD"):
            rollup_reads.remember(conn, rollup_reads.Range(*ODD, cur), odd)
        return {(r, cur): {m: rollup_reads.by_key(conn, rollup_reads.Range(*r, cur), m)
                           for m in DIMS}
                for r in [*RANGES, ODD] for cur in ("TWD", "USD")}  # fmt: skip

    got = db.read(read)
    for (start, end), cur in got:
        for dim in DIMS:
            want: dict[str, list[int]] = {}
            for (d, day, c, key), v in expected.items():
                if d == dim and c == cur and start <= day <= end:
                    acc = want.setdefault(key, [0, 0, 0])
                    for i in range(3):
                        acc[i] += v[i]
            read_back = got[((start, end), cur)][dim]
            assert {k: [s.orders, s.units, s.revenue] for k, s in read_back.items()} == {
                k: v for k, v in want.items() if v != [0, 0, 0]
            }, (start, end, cur, dim)


def test_the_rebuild_command_rolls_up_orders_that_sent_no_event(db, db_url, monkeypatch):
    """As after a historical import: orders in the database, nothing in the rollups."""
    from typer.testing import CliRunner

    from dingdan.cli.main import app
    from dingdan.config import get_settings

    product(db, "A", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"A": 5})
    for when in TIMES[:2]:
        _place(db, [("A", 1)], "TWD", when, CITIES[0])
    db.write(lambda c: c.exec_driver_sql("DELETE FROM outbox"))  # no event reaches the worker
    assert db.read(rollups.daily_rows) == {}
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["reports", "rebuild", "--batch", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2 order(s) changed" in result.output
    rows = db.read(rollups.daily_rows)
    assert rows == db.read(rollups.recomputed)
    feb, mar = TIMES[0].date(), TIMES[1].date() + timedelta(days=1)  # Taipei: 28 Feb, 1 Mar
    assert rows[("total", feb, "TWD", "")] == (1, 1, 41000)
    assert rows[("total", mar, "TWD", "")] == (1, 1, 41000)


def test_rebuilds_racing_in_threads_count_every_order_once(db):
    """Four rebuilds at once over the same orders (as workers handling events of the same
    orders): each order's share is swapped under its lock, so none is counted twice."""
    import threading

    product(db, "A", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"A": 20})
    for i in range(8):
        _place(db, [("A", 1)], "TWD", TIMES[i % len(TIMES)], CITIES[i % 2])
    db.write(lambda c: c.exec_driver_sql("DELETE FROM outbox"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            rollups.rebuild(db, batch=3)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = db.read(rollups.daily_rows)
    assert rows == db.read(rollups.recomputed)
    assert sum(v[0] for k, v in rows.items() if k[0] == "total") == 8
