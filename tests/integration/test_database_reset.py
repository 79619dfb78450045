"""tests/conftest.py's ``Reset``: a PostgreSQL test database used by a test is given back
exactly what the template holds (rows, the migrations' rows, sequences) before the next test
uses it, and a database whose schema a test changed is not reused. (On SQLite each test
copies the template's file: nothing is reused, nothing to check.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests import conftest
from tests.builders import order_body
from tests.helpers import location, product, receive

pytestmark = pytest.mark.skipif(
    conftest.BACKEND != "postgresql", reason="only PostgreSQL test databases are reused"
)


def _contents(name: str) -> dict[str, Any]:
    """Every table's rows (as JSON text, ordered) and every sequence's position."""
    engine = create_engine(conftest._pg_url(name), poolclass=NullPool)
    with engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).scalars()
        found: dict[str, Any] = {
            t: conn.execute(
                text(f"SELECT coalesce(json_agg(r ORDER BY r::text), '[]')::text FROM \"{t}\" r")
            ).scalar_one()
            for t in tables
        }
        found["sequences"] = conn.execute(
            text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
        ).all()
    engine.dispose()
    return found


@pytest.fixture
def spare(template: str) -> Any:
    name = conftest._make(template)
    yield name
    conftest._drop(name)


def test_a_used_database_holds_what_the_template_holds_again(template: str, spare: str) -> None:
    from dingdan.db.engine import Database

    before = _contents(template)
    db = Database(str(conftest._pg_url(spare)), pool_size=2)
    try:
        location(db, "TPE")
        product(db, "TEA-001")
        receive(db, "TPE", {"TEA-001": 10})
        from dingdan.services.orders import capture

        capture.place_order(db, conftest.ADMIN, order_body())
        with db.engine.begin() as conn:  # the migrations' rows changed, too
            conn.execute(text("UPDATE counters SET value = value + 7"))
    finally:
        db.dispose()
    used = _contents(spare)
    assert used != before and used["orders"] != "[]"
    assert conftest._RESETS[template](spare) is True
    assert _contents(spare) == before


def test_a_database_whose_schema_changed_is_not_reused(template: str, spare: str) -> None:
    engine = create_engine(conftest._pg_url(spare), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate"))
    engine.dispose()
    assert conftest._RESETS[template](spare) is False
