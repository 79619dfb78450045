"""One truth for order capture on PostgreSQL: the database's function writes only what
Python decided (services/orders/capture.py), its text is the one in
``dingdan/db/sql/place_order.sql``, and the same captures, run once through the function and
once statement by statement (SQLite's path, on PostgreSQL), store the same rows."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

import dingdan.db
from dingdan.db.engine import Database
from dingdan.domain.shared.errors import InsufficientStock, ValidationFailed
from dingdan.services.orders import capture
from tests.builders import ADMIN, LIN, WANG, Buyer, Shop, order_body
from tests.conftest import BACKEND, PG_URL, _pg_admin

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="SQLite has no stored function: one path only"
)

SQL_FILE = Path(dingdan.db.__file__).with_name("sql") / "place_order.sql"

# SPLIT-1 has 2 units in TPE and 4 in KHH (an order of 4 is split); BACK-1 one unit and
# backorders; NONE-1 no stock and no backorders (refused).
SHOP = Shop(
    products={
        "SPLIT-1": "350.00",
        "BACK-1": {"price": "120.00", "allow_backorder": True},
        "NONE-1": "80.00",
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"SPLIT-1": 2, "BACK-1": 1}, "KHH": {"SPLIT-1": 4}},
)
PHONE_ONLY = Buyer(None, "陳大文", "+886987654321")


def _scenarios(db: Database) -> list[str]:
    """Every kind of capture the function writes, and the refusals; the numbers answered."""
    place = functools.partial(capture.place_order, db, ADMIN)
    answers: list[str] = []

    def keep(result: tuple[Any, bool]) -> None:
        answers.append(f"{result[0]['number']}:{result[1]}")

    # A split over two locations and a backorder, a new customer by email.
    keep(place(order_body([{"sku": "SPLIT-1", "quantity": 4}, {"sku": "BACK-1", "quantity": 3}])))
    # The same email in another case, another address: the same customer, address first.
    keep(
        place(
            order_body(
                [{"sku": "SPLIT-1", "quantity": 1, "unit_price": "300.00"}],
                customer={"email": "A@Example.com", "name": "王", "phone": None},
                shipping_address=WANG.address(line1="中山路1號"),
            )
        )
    )
    # A customer by phone only, then the same phone again with a name: matched, name kept.
    keep(place(order_body([{"sku": "BACK-1", "quantity": 1}], buyer=PHONE_ONLY)))
    keep(
        place(
            order_body(
                [{"sku": "BACK-1", "quantity": 1}],
                customer={"phone": PHONE_ONLY.phone, "name": "Someone else"},
                shipping_address=PHONE_ONLY.address(),
            )
        )
    )
    # An Idempotency-Key, then its replay; an external id, then its replay.
    keyed = order_body([{"sku": "BACK-1", "quantity": 2}], buyer=LIN)
    keep(place(keyed, idempotency_key="key-1"))
    keep(place(keyed, idempotency_key="key-1"))
    external = order_body([{"sku": "SPLIT-1", "quantity": 1}], buyer=LIN, external_id="ext-1")
    keep(place(external))
    keep(place(external))
    # Refusals: no stock and no backorders; an unknown SKU. Nothing is written.
    with pytest.raises(InsufficientStock):
        place(order_body([{"sku": "NONE-1", "quantity": 1}]))
    with pytest.raises(ValidationFailed):
        place(order_body([{"sku": "NOPE-1", "quantity": 1}]))
    return answers


def _stored(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, without times and tracking tokens (random by design)."""
    meta = MetaData()

    def read(conn: Any) -> dict[str, list[dict[str, Any]]]:
        meta.reflect(conn)
        out = {}
        for table in meta.sorted_tables:
            if table.name in ("alembic_version", "audit_log"):
                continue  # the audit log's entries (of the setup) carry times in their JSON
            keep = [
                c
                for c in table.columns
                if not c.name.endswith("_at") and c.name != "tracking_token"
            ]
            order = list(table.primary_key.columns) or keep
            rows = conn.execute(select(*keep).order_by(*order)).mappings().all()
            out[table.name] = [dict(r) for r in rows]
        return out

    return db.read(read)


@pytest.fixture
def second_db(template: str) -> Iterator[Database]:
    """Another copy of the migrated template, beside the test's ``db``."""
    assert PG_URL
    name = f"dd_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    database = Database(make_url(PG_URL).set(database=name).render_as_string(False))
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_database_function_is_the_one_in_the_sql_file(db: Database) -> None:
    source = SQL_FILE.read_text(encoding="utf-8")
    body = source.split("$fn$")[1]
    stored = db.read(
        lambda c: (
            c.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'dingdan_place_order'"))
            .scalars()
            .all()
        )
    )
    assert stored == [body]


def test_the_function_and_the_statements_store_the_same_rows(
    db: Database, second_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    SHOP.build(db)
    SHOP.build(second_db)
    by_function = _scenarios(db)

    # The same captures statement by statement in one transaction, as on SQLite.
    monkeypatch.setattr(capture, "_create", functools.partial(capture._create, one_call=False))
    monkeypatch.setattr(second_db, "write_statement", second_db.write)
    by_statements = _scenarios(second_db)

    assert by_function == by_statements
    assert [a.endswith(":True") for a in by_function] == [True] * 5 + [False, True, False]
    stored, expected = _stored(db), _stored(second_db)
    assert stored.keys() == expected.keys()
    for table in expected:
        assert stored[table] == expected[table], table
    # What the scenarios were meant to make, so that an empty comparison cannot pass.
    assert len(stored["orders"]) == 6 and len(stored["customers"]) == 3
    assert {r["location_id"] for r in stored["allocations"]} == {1, 2}
    assert sum(r["backordered"] for r in stored["order_lines"]) > 0
