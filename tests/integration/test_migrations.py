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
