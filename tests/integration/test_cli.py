"""The contract's commands, run as a person would (Typer's runner on a migrated database)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dingdan.cli.main import app
from dingdan.config import get_settings
from dingdan.services.access import accounts
from dingdan.services.orders import queries

runner = CliRunner()


@pytest.fixture
def cli_db(db, db_url, monkeypatch):
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_token_create_prints_the_token_alone_on_the_last_line(cli_db):
    result = runner.invoke(app, ["token", "create", "--name", "shop", "--role", "warehouse"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ddk_") and " " not in token
    assert accounts.authenticate_token(cli_db, token).role == "warehouse"


def test_a_bad_role_exits_non_zero_with_a_reason(cli_db):
    result = runner.invoke(app, ["token", "create", "--name", "x", "--role", "boss"])
    assert result.exit_code == 1 and "role" in result.output


def test_user_create_reads_the_password_from_stdin(cli_db):
    result = runner.invoke(
        app,
        ["user", "create", "--email", "Ming@Example.com", "--role", "finance"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert [u["email"] for u in accounts.list_users(cli_db)] == ["ming@example.com"]
    short = runner.invoke(
        app, ["user", "create", "--email", "b@example.com", "--role", "viewer"], input="short\n"
    )
    assert short.exit_code == 1 and "password" in short.output


def test_demo_fills_every_state_and_refuses_a_database_with_data(cli_db):
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    statuses = {
        (o["status"], o["fulfillment_status"]) for o in queries.list_orders(cli_db, limit=100).items
    }
    assert {
        ("open", "unfulfilled"),
        ("completed", "fulfilled"),
        ("cancelled", "unfulfilled"),
        ("open", "partially_fulfilled"),
        ("open", "fulfilled"),
    } <= statuses
    assert runner.invoke(app, ["inventory", "verify"]).exit_code == 0
    assert runner.invoke(app, ["demo"]).exit_code == 1
    assert runner.invoke(app, ["demo", "--if-empty"]).exit_code == 0


def test_inventory_verify_lists_each_difference_and_exits_non_zero(cli_db):
    runner.invoke(app, ["demo"])
    cli_db.write(
        lambda c: c.execute(
            text(
                "UPDATE stock_levels SET on_hand = on_hand + 1"
                " WHERE location_id = 1 AND product_id = 1"
            )
        )
    )
    result = runner.invoke(app, ["inventory", "verify"])
    assert result.exit_code == 1
    assert "TEA-OOLONG-150 at TPE" in result.output and "1 stock level(s) differ" in result.output


def test_db_upgrade_is_idempotent(cli_db):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_one_worker_round_reports_what_it_did(cli_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    runner.invoke(app, ["demo"])  # the demo's orders wrote outbox messages
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "documents rendered: 0" in result.output
    # Every event has a consumer (the webhooks' fan-out, which finds no endpoint here): the
    # round says it handled them, and none was left without a handler. Customer messages
    # are written for the orders' events, but no mail server is set: the round says they
    # are kept undelivered, never that they were sent.
    left = cli_db.read(lambda c: c.execute(text("SELECT COUNT(*) FROM outbox")).scalar())
    assert left == 0 and "sent" not in result.output
    handled = int(result.output.split("outbox: ")[1].split(" ")[0])
    assert handled > 0
    assert "0 message(s) had no handler and were marked done" in result.output
    assert "webhook deliveries started: 0" in result.output
    kept = cli_db.read(
        lambda c: c.execute(
            text("SELECT COUNT(*) FROM messages WHERE status = 'not_configured'")
        ).scalar()
    )
    assert kept > 0 and "customer emails: 0 delivered" in result.output
    assert f"{kept} kept undelivered (no DINGDAN_SMTP_URL)" in result.output
    # SQLite's search index takes the demo's orders (PostgreSQL's index needs no worker).
    indexed = int(result.output.split("orders indexed for search: ")[1].split(",")[0])
    orders = cli_db.read(lambda c: c.execute(text("SELECT COUNT(*) FROM orders")).scalar())
    assert indexed == (orders if cli_db.is_sqlite else 0) and orders > 0


def test_a_command_on_a_database_never_migrated_says_to_upgrade_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    get_settings.cache_clear()
    try:
        for command in (
            ["demo"],
            ["inventory", "verify"],
            ["token", "create", "--name", "x", "--role", "viewer"],
        ):
            result = runner.invoke(app, command)
            assert result.exit_code == 1, command
            assert "dingdan db upgrade" in result.output and "Traceback" not in result.output
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        assert runner.invoke(app, ["demo"]).exit_code == 0
    finally:
        get_settings.cache_clear()


def test_a_database_that_cannot_be_reached_is_a_reason_not_a_traceback(monkeypatch):
    monkeypatch.setenv("DINGDAN_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/x")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["inventory", "verify"])
        assert result.exit_code == 1 and "cannot read the database" in result.output
    finally:
        get_settings.cache_clear()
