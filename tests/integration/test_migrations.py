"""The migrations and the models agree: autogenerate finds nothing to change."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import dingdan.db.all_tables  # noqa: F401
from dingdan.db.tables import Base
from dingdan.migrations.env_filters import include_object


def test_autogenerate_finds_no_difference_between_migrations_and_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_the_schema_refuses_reserved_above_on_hand(db):
    import pytest
    from sqlalchemy import text

    from dingdan.domain.shared.errors import Conflict
    from tests.builders import location, product, receive

    product(db, "A")
    location(db, "TPE")
    receive(db, "TPE", {"A": 2})
    with pytest.raises(Conflict):
        db.write(lambda c: c.execute(text("UPDATE stock_levels SET reserved = 3")))


def test_old_backorder_reservations_are_renamed_by_order_number(db, db_url):
    from alembic import command
    from sqlalchemy import select, update

    from dingdan import bootstrap
    from dingdan.db.order_tables import Order
    from dingdan.db.tables import StockMovement
    from dingdan.services.orders import capture
    from tests.builders import ADMIN, location, order_body, product, receive

    product(db, "TEA-001", allow_backorder=True)
    location(db, "TPE")
    order, _ = capture.place_order(db, ADMIN, order_body(lines=[{"sku": "TEA-001", "quantity": 2}]))
    receive(db, "TPE", {"TEA-001": 5})  # fills the backorder: a reservation in the ledger
    oid = db.read(
        lambda c: c.execute(select(Order.id).where(Order.number == order["number"])).scalar_one()
    )
    # As the code before 0017 wrote it.
    db.write(
        lambda c: c.execute(
            update(StockMovement)
            .where(StockMovement.reason == "backorder")
            .values(reference=f"order:{oid}")
        )
    )
    db.dispose()
    config = bootstrap.alembic_config(db_url)
    command.downgrade(config, "0016")
    command.upgrade(config, "head")
    refs = db.read(
        lambda c: (
            c.execute(select(StockMovement.reference).where(StockMovement.reason == "backorder"))
            .scalars()
            .all()
        )
    )
    assert refs == [order["number"]]


def test_old_search_text_and_customer_emails_are_folded(db, db_url):
    from alembic import command
    from sqlalchemy import select, update

    from dingdan import bootstrap
    from dingdan.db.order_tables import Customer, Order
    from dingdan.services.orders import capture, queries
    from tests.builders import ADMIN, Buyer, location, order_body, product, receive

    product(db, "TEA-001")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    buyer = Buyer("ｑｕｉｎｎ@example.jp", "ＱＵＩＮＮ", None)
    body = order_body([{"sku": "TEA-001", "quantity": 1}], buyer=buyer)
    order, _ = capture.place_order(db, ADMIN, body)
    # As the code before 0018 wrote them: lower case, the full-width forms kept.
    old = f"{order['number'].lower()} ｑｕｉｎｎ@example.jp ｑｕｉｎｎ"
    db.write(lambda c: c.execute(update(Order).values(search_text=old)))
    db.write(lambda c: c.execute(update(Customer).values(email="ｑｕｉｎｎ@example.jp")))
    db.dispose()
    config = bootstrap.alembic_config(db_url)
    command.downgrade(config, "0017")
    command.upgrade(config, "head")
    texts = db.read(lambda c: c.execute(select(Order.search_text)).scalars().all())
    assert texts == [f"{order['number'].lower()} quinn@example.jp quinn"]
    emails = db.read(lambda c: c.execute(select(Customer.email)).scalars().all())
    assert emails == ["quinn@example.jp"]
    assert [o["number"] for o in queries.list_orders(db, q="quinn").items] == [order["number"]]


def test_the_yearly_rollups_start_as_the_monthly_rows_summed_by_year(db, db_url):
    """0050: report_yearly is filled from the months rolled up before it existed."""
    from datetime import date

    from alembic import command
    from sqlalchemy import insert

    from dingdan import bootstrap
    from dingdan.db.report_tables import ReportMonthly
    from dingdan.services.reports import rollups

    config = bootstrap.alembic_config(db_url)
    db.dispose()
    command.downgrade(config, "0049")
    rows = [("customer", date(2025, 12, 1), "TWD", "7", 1, 2, 700),
            ("customer", date(2026, 1, 1), "TWD", "7", 2, 3, 900),
            ("customer", date(2026, 3, 1), "TWD", "7", 1, 1, 100),
            ("customer", date(2026, 3, 1), "USD", "7", 1, 1, 5),
            ("product", date(2026, 3, 1), "TWD", "A", 1, -1, 0),
            ("product", date(2026, 4, 1), "TWD", "A", -1, 1, 0)]  # fmt: skip
    cols = ("dimension", "month", "currency", "key", "orders", "units", "revenue_minor")
    values = [dict(zip(cols, r, strict=True)) for r in rows]
    db.write(lambda c: c.execute(insert(ReportMonthly), values))
    db.dispose()
    command.upgrade(config, "head")
    assert db.read(rollups.yearly_rows) == {
        ("customer", date(2025, 1, 1), "TWD", "7"): (1, 2, 700),
        ("customer", date(2026, 1, 1), "TWD", "7"): (3, 4, 1000),
        ("customer", date(2026, 1, 1), "USD", "7"): (1, 1, 5),
    }
