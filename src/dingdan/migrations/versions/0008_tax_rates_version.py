"""tax rates version: a counter every change of tax_rates bumps, kept by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:30:00

Order capture reads the seller's tax rates for every order; they change when an admin edits
them, a few times a year. `services/orders/capture.py` keeps them per process and reads only the
counter `tax_rates` (with the order's products, in the same statement) to know whether its
copy is still the table's. Triggers bump the counter on every insert, update and delete,
whoever writes (the API, the back office, psql), in the writer's own transaction.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION dingdan_tax_rates_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'tax_rates';
    RETURN NULL;
END
$fn$;
"""
PG_TRIGGER = """
CREATE TRIGGER tax_rates_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tax_rates
FOR EACH STATEMENT EXECUTE FUNCTION dingdan_tax_rates_changed();
"""
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.execute("INSERT INTO counters (name, value) VALUES ('tax_rates', 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
        return
    for event in SQLITE_EVENTS:
        op.execute(
            f"CREATE TRIGGER tax_rates_changed_{event.lower()} AFTER {event} ON tax_rates "
            "BEGIN UPDATE counters SET value = value + 1 WHERE name = 'tax_rates'; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tax_rates_changed ON tax_rates")
        op.execute("DROP FUNCTION IF EXISTS dingdan_tax_rates_changed()")
    else:
        for event in SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS tax_rates_changed_{event.lower()}")
    op.execute("DELETE FROM counters WHERE name = 'tax_rates'")
