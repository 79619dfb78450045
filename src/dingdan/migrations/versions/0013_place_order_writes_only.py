"""PostgreSQL: dingdan_place_order only writes what Python decided

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:30:00

Until now the function restated part of the capture's rules: it matched the customer (by
email, by phone without one), merged the customer's addresses and contact fields, numbered
the order, built its search text and the ledger's reason and reference. Python now decides
all of that (services/orders/capture.py) and passes it in; the function inserts the rows as
given and makes the conditional stock updates, nothing else. The function's text lives in
one file, ``dingdan/db/sql/place_order.sql``, which this migration runs and a test compares
with the database's function. The measurements behind keeping a function at all are in
docs/benchmarks.md ("One truth for order capture").

SQLite has no stored functions: nothing to do there.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SQL_FILE = Path(__file__).resolve().parents[2] / "db" / "sql" / "place_order.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS dingdan_place_order(json)")
        op.execute(SQL_FILE.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        path = Path(__file__).with_name("0009_place_order_jsonb.py")
        spec = importlib.util.spec_from_file_location("dingdan_migration_0009", path)
        assert spec is not None and spec.loader is not None
        earlier = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(earlier)
        op.execute("DROP FUNCTION IF EXISTS dingdan_place_order(json)")
        op.execute(earlier.FUNCTION)
