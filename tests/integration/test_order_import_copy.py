"""The historical import's COPY path on PostgreSQL (issue 21, part 4) stores exactly what the
generic path (INSERTs through SQLAlchemy, as on SQLite) stores: the same file imported both
ways from the same starting point gives the same rows, column by column, in every table it
writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Text, cast, select, text

from dingdan.db import bulk
from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order, OrderEvent, OrderLine, Payment, Shipment
from dingdan.db.tables import table_of
from dingdan.domain.shared.errors import Conflict
from dingdan.services.catalog import order_imports
from tests.conftest import BACKEND
from tests.integration.test_order_import import SHOP, line, run, write_csv

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="COPY: PostgreSQL only")

stocked = SHOP.fixture()

TABLES = [table_of(m) for m in (Customer, Order, OrderLine, Payment, Shipment, OrderEvent)]
# What differs between two imports of the same file however they write: a random token, and
# the time a customer row was written (now, not the order's).
UNEQUAL = {("orders", "tracking_token"), ("customers", "created_at"), ("customers", "updated_at")}

SEED = [line("S-1", customer_email="old@example.com", customer_phone="0933333333")]
ROWS = [
    line("S-1", customer_email="old@example.com", customer_phone="0933333333"),  # stored
    # a new customer, then changed by the next order of the same batch (another address)
    line("B-1", customer_email="b1@example.com", customer_phone="0911111111"),
    line("B-1", "CUP-001", 3, unit_price="500.00", customer_email="b1@example.com"),
    line(
        "B-2",
        customer_email="B1@Example.com",
        city="新北市",
        postal_code="220",
        line1="文化路一段2號",
        created_at="2024-05-02T23:30:00+00:00",
    ),
    # no email: found by phone (a customer of an earlier batch), with a new address
    line(
        "B-3",
        customer_email="",
        customer_phone="0911111111",
        customer_name="陳大文",
        line1='復興路 "3" 號\\5樓',
    ),
    # the customer there before the import, with a new address
    line("B-4", customer_email="old@example.com", line1="信義路5號", shipping_price="0"),
    # no email, a phone not seen: a customer without an email
    line("B-5", customer_email="", customer_phone="0922222222", payment_method="cod"),
    # an address left empty (a past order's): stand-ins checked, nothing stored
    line("B-6", customer_email="b6@example.com", city="", postal_code="", line1=""),
    # nothing to pay: no payment row
    line("B-7", customer_email="b7@example.com", unit_price="0", shipping_price="0"),
    line("B-8", "CUP-001", 2, unit_price="480.00", customer_email="b1@example.com"),
]


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the import writes, each column as PostgreSQL's text of it."""

    def read(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for t in TABLES:
            cols = [cast(c, Text) for c in t.c if (t.name, c.name) not in UNEQUAL]
            out[t.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(t.c.id))]
        return out

    return db.read(read)


def sequences(db: Database) -> list[tuple[str, Any, bool]]:
    names = [f"{t.name}_id_seq" for t in TABLES] + ["order_number_seq"]
    out = []
    for name in names:
        last, called = db.read(
            lambda c, name=name: c.execute(text(f"SELECT last_value, is_called FROM {name}")).one()
        )
        out.append((name, last, called))
    return out


def restore(db: Database, before: dict[str, list[tuple[Any, ...]]], seqs: list[Any]) -> None:
    """Back to ``before`` (the seeded database): the rows the import added deleted, the
    customers it changed as they were, the sequences where they stood."""
    kept = {t: {r[0] for r in rows} for t, rows in before.items()}

    def work(conn: Any) -> None:
        for t in reversed(TABLES):
            ids = sorted(int(i) for i in kept[t.name])
            conn.execute(t.delete().where(t.c.id.notin_(ids)))
        c = table_of(Customer)
        names = [col.name for col in c.c if ("customers", col.name) not in UNEQUAL]
        for row in before["customers"]:
            values = dict(zip(names, row, strict=True))
            conn.execute(
                text(
                    "UPDATE customers SET email = :email, phone = :phone, name = :name, "
                    "addresses = CAST(:addresses AS json) WHERE id = CAST(:id AS bigint)"
                ),
                values,
            )
        for name, last, called in seqs:
            conn.execute(text("SELECT setval(:s, :v, :c)"), {"s": name, "v": last, "c": called})

    db.write(work)


def test_copy_stores_what_the_inserts_store(stocked, tmp_path, monkeypatch):
    monkeypatch.setattr(order_imports, "BATCH", 3)  # customers met again in later batches
    monkeypatch.setattr(order_imports, "COPY_ON_POSTGRESQL", False)
    run(stocked, write_csv(tmp_path / "seed.csv", SEED), historical=True)
    before, seqs = snapshot(stocked), sequences(stocked)
    path = write_csv(tmp_path / "o.csv", ROWS)

    generic = run(stocked, path, historical=True)
    by_inserts = snapshot(stocked)
    restore(stocked, before, seqs)
    assert snapshot(stocked) == before
    monkeypatch.setattr(order_imports, "COPY_ON_POSTGRESQL", True)
    copied = run(stocked, path, historical=True)
    by_copy = snapshot(stocked)

    assert (generic.imported, generic.existing, generic.errors) == (8, 1, [])
    assert (copied.imported, copied.existing, copied.errors) == (8, 1, [])
    for t in TABLES:
        assert by_copy[t.name] == by_inserts[t.name], t.name
    # what was compared is what the file says: 8 orders, 9 lines, 4 new customers (b1,
    # b6, b7 and the phone-only one), 7 payments (B-7's total is 0), old@'s new address
    assert [len(by_copy[t.name]) - len(before[t.name]) for t in TABLES] == [4, 8, 9, 7, 8, 8]
    old = next(r for r in by_copy["customers"] if r[1] == "old@example.com")
    assert "信義路5號" in old[4] and old != next(
        r for r in before["customers"] if r[1] == "old@example.com"
    )
    phone_only = [r for r in by_copy["customers"] if r[1] is None]
    assert [r[2] for r in phone_only] == ["+886922222222"]


def test_a_copy_that_breaks_a_constraint_is_refused_and_writes_nothing(stocked):
    customers = table_of(Customer)
    rows = [{"email": "same@example.com", "phone": None, "name": "A", "addresses": []}] * 2

    with pytest.raises(Conflict):  # the unique email: an IntegrityError, as an INSERT's
        stocked.write(lambda conn: bulk.copy_rows(conn, customers, rows))
    assert snapshot(stocked)["customers"] == []
    # and the defaults an INSERT fills are filled: the times, an empty address book as JSON
    assert stocked.write(lambda conn: bulk.copy_rows(conn, customers, rows[:1])) == 1
    got = stocked.read(
        lambda c: c.execute(
            select(
                cast(customers.c.addresses, Text), customers.c.created_at, customers.c.updated_at
            )
        ).one()
    )
    assert got[0] == "[]"
    assert got[1] is not None and got[1] <= got[2]


def test_a_batch_that_fails_stops_the_import_with_nothing_after_it(stocked, tmp_path, monkeypatch):
    """The writer thread writes a batch while the next is checked: the next is handed over
    only once the last is committed, so nothing after a failed batch is written."""
    monkeypatch.setattr(order_imports, "BATCH", 2)
    write_batch, calls = order_imports._write_batch, []

    def failing_second(conn: Any, actor: Any, batch: list[Any], *rest: Any) -> Any:
        calls.append([o.body["external_id"] for o in batch])
        if len(calls) == 2:
            raise RuntimeError("the second batch fails")
        return write_batch(conn, actor, batch, *rest)

    monkeypatch.setattr(order_imports, "_write_batch", failing_second)
    path = write_csv(tmp_path / "o.csv", [line(f"W-{i}") for i in range(7)])
    with pytest.raises(RuntimeError):
        run(stocked, path, historical=True)
    assert calls == [["W-0", "W-1"], ["W-2", "W-3"]]  # none after the failed one
    orders = table_of(Order)
    ext = stocked.read(lambda c: c.execute(select(orders.c.external_id)).scalars().all())
    assert sorted(ext) == ["W-0", "W-1"]
