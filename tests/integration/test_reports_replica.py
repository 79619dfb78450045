"""Reports and exports read from a PostgreSQL streaming replica (DINGDAN_REPORTS_DATABASE_URL)
while orders are written to the primary; past the lag bound they read from the primary.

The replica is a real hot standby of the test server: `.ci/replica start DIR` makes one with
pg_basebackup and prints its URL. Give its URL as DINGDAN_TEST_REPLICA_URL, or a directory as
DINGDAN_TEST_REPLICA_DIR (what .ci/run does): then this module starts the replica there for
its own tests and stops it after them, so the rest of the suite's WAL (every test database
made from the template) is not streamed and replayed. It replicates the whole cluster, so
the test's own database (made on the primary from the template) is there once replayed: the
test waits for the primary's WAL position to be replayed, polling, before it reads.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from dingdan import bootstrap
from dingdan.config import Settings
from dingdan.db.engine import Database
from dingdan.db.replica import ReportsDatabase, caught_up, lsn
from dingdan.services.jobs import worker
from tests.builders import Shop, post_order
from tests.conftest import BACKEND
from tests.helpers import under_ci

REPLICA_URL = os.environ.get("DINGDAN_TEST_REPLICA_URL")
REPLICA_DIR = os.environ.get("DINGDAN_TEST_REPLICA_DIR")
REPLICA_SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "replica"
# Two of these tests pause the replica's replay: in one process, one after the other.
pytestmark = pytest.mark.xdist_group("replica")
stocked = Shop(
    products={"TEA-001": "350.00", "CUP-001": "500.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 50, "CUP-001": 50}},
).fixture()


def test_where_reports_read_follows_the_setting() -> None:
    assert lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert lsn("0/0") < lsn("0/10") < lsn("1/0")
    # The insert position past a page's header: a replay up to that page's start has it all.
    assert caught_up("0/2000", "0/2018") and caught_up("1/0", "1/28")
    assert caught_up("0/2018", "0/2018") and not caught_up("0/1FF0", "0/2018")
    assert not caught_up("0/2000", "0/2030") and not caught_up("0/2010", "0/2100")
    primary = Database("sqlite:///:memory:")
    try:
        assert bootstrap.reports_database(Settings(reports_database_url=""), primary) is primary
        with pytest.raises(ValueError, match="SQLite has no replicas"):
            bootstrap.reports_database(
                Settings(reports_database_url="postgresql+psycopg://postgres@127.0.0.1:5433/x"),
                primary,
            )
    finally:
        primary.dispose()


@pytest.fixture
def replica_url(db_url: str, replica_server: str) -> str:
    """The test's database on the replica."""
    name = make_url(db_url).database
    return make_url(replica_server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def replica_server() -> Iterator[str]:
    """The replica's URL: the one given, or one started in DINGDAN_TEST_REPLICA_DIR for this
    module's tests and stopped after them."""
    if BACKEND != "postgresql":
        pytest.skip("streaming replicas are PostgreSQL's")
    if REPLICA_URL:
        yield REPLICA_URL
        return
    if not REPLICA_DIR:
        reason = (
            "neither DINGDAN_TEST_REPLICA_URL nor DINGDAN_TEST_REPLICA_DIR is set"
            " (.ci/replica start DIR makes a replica)"
        )
        if under_ci():
            pytest.fail(f"{reason}; CI must have one", pytrace=False)
        pytest.skip(reason)
    started = subprocess.run(
        [str(REPLICA_SCRIPT), "start", REPLICA_DIR], capture_output=True, text=True, timeout=600
    )
    assert started.returncode == 0, f"the replica did not start: {started.stderr}"
    url = started.stdout.strip().splitlines()[-1]
    try:
        yield url
    finally:
        subprocess.run([str(REPLICA_SCRIPT), "stop", REPLICA_DIR], timeout=120, check=False)


@pytest.fixture
def replica_admin(replica_server: str) -> Iterator[Engine]:
    engine = create_engine(replica_server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    yield engine
    with engine.connect() as conn:  # whatever the test did, the replica replays again
        conn.execute(text("SELECT pg_wal_replay_resume()"))
    engine.dispose()


@pytest.fixture
def settings(db_url: str, replica_url: str) -> Settings:
    # Every read measures the lag (no cached verdict), so each step sees the state it made.
    return Settings(
        database_url=db_url,
        run_worker=False,
        reports_database_url=replica_url,
        reports_max_lag_seconds=30,
        reports_lag_check_seconds=0,
    )


def _replayed(db: Database, replica_admin: Engine) -> None:
    """Wait until the replica has replayed everything the primary has inserted so far (the
    tests commit without waiting for the flush: a commit is visible on the primary before
    the WAL writer writes it, and is sent once it is flushed)."""
    target = db.read(lambda c: c.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar())
    deadline = time.monotonic() + 120
    with replica_admin.connect() as conn:
        while not caught_up(
            conn.execute(text("SELECT pg_last_wal_replay_lsn()::text")).scalar(), target
        ):
            assert time.monotonic() < deadline, f"the replica did not replay up to {target}"
            time.sleep(0.05)


def _pause(replica_admin: Engine) -> None:
    with replica_admin.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))


def _resume(replica_admin: Engine) -> None:
    with replica_admin.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_resume()"))


def _by_product(api: Any) -> list[tuple[str, int, int, str]]:
    r = api.get("/api/v1/reports/sales", params={"group_by": "product"}, role="viewer")
    assert r.status_code == 200, r.text
    return [(i["key"], i["orders"], i["units"], i["revenue"]) for i in r.json()["items"]]


def _exported(api: Any) -> list[str]:
    r = api.get("/api/v1/exports/orders", params={"format": "csv"})
    assert r.status_code == 200, r.text
    header, *rows = csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""))
    return sorted(row[header.index("number")] for row in rows)


def _order(api: Any, db: Database, sku: str, quantity: int) -> str:
    number = post_order(api, lines=[{"sku": sku, "quantity": quantity}])["number"]
    worker.drain(db)  # the worker keeps the reports' daily rollups
    return str(number)


def test_reports_read_the_replica_and_the_primary_past_the_lag_bound(
    api: Any, app: Any, stocked: Database, replica_admin: Engine, caplog: Any
) -> None:
    db = stocked
    reports = app.state.reports_db
    assert isinstance(reports, ReportsDatabase)
    first = _order(api, db, "TEA-001", 2)
    second = _order(api, db, "CUP-001", 1)
    _replayed(db, replica_admin)
    assert _by_product(api) == [("TEA-001", 1, 2, "700.00"), ("CUP-001", 1, 1, "500.00")]
    assert _exported(api) == sorted([first, second])
    assert reports.verdict().replica

    # Replay stopped: an order written now is on the primary only. Within the bound the
    # reports still read the replica, which does not show it yet.
    _pause(replica_admin)
    third = _order(api, db, "TEA-001", 3)
    assert _by_product(api) == [("TEA-001", 1, 2, "700.00"), ("CUP-001", 1, 1, "500.00")]
    assert _exported(api) == sorted([first, second])
    assert reports.verdict().replica and reports.verdict().lag is not None

    # Past the bound: the primary, with a warning, and the new order is there.
    reports.max_lag = 0
    with caplog.at_level(logging.WARNING, logger="dingdan.db.replica"):
        assert _by_product(api) == [("TEA-001", 2, 5, "1750.00"), ("CUP-001", 1, 1, "500.00")]
        assert _exported(api) == sorted([first, second, third])
    warned = [r.getMessage() for r in caplog.records if r.name == "dingdan.db.replica"]
    assert len(warned) == 1, warned  # once, when the reads moved, not at every read
    assert "reports read from the primary: the replica is " in warned[0]
    assert "behind" in warned[0] and "bound 0.0 s" in warned[0]
    assert not reports.verdict().replica

    # Replayed again: back to the replica, which now has the third order.
    _resume(replica_admin)
    _replayed(db, replica_admin)
    reports.max_lag = 30
    assert reports.verdict().replica
    assert _by_product(api) == [("TEA-001", 2, 5, "1750.00"), ("CUP-001", 1, 1, "500.00")]


def test_the_lag_is_measured_every_few_seconds_not_at_every_read(
    db: Database, replica_url: str, replica_admin: Engine
) -> None:
    now = [1000.0]
    replica = Database(replica_url, pool_size=2)
    reports = ReportsDatabase(db, replica, max_lag=0, check_every=5, clock=lambda: now[0])
    count = text("SELECT count(*) FROM orders")
    try:
        _replayed(db, replica_admin)
        _pause(replica_admin)
        # Something written after the pause: the replica is behind for certain.
        db.write(lambda c: c.execute(text("CREATE TABLE after_pause (id int)")))
        assert reports.read(lambda c: c.execute(count).scalar()) == 0
        assert reports.read(lambda c: c.execute(count).scalar()) == 0
        assert reports.checks == 1 and not reports.verdict().replica
        now[0] += 4.9
        reports.verdict()
        assert reports.checks == 1
        _resume(replica_admin)
        _replayed(db, replica_admin)
        reports.max_lag = 30  # other tests' writes may be in flight: not exactly caught up
        now[0] += 0.2
        assert reports.verdict().replica and reports.checks == 2
        # What the replica serves: the table made on the primary, replayed.
        assert (
            reports.read(lambda c: c.execute(text("SELECT count(*) FROM after_pause")).scalar())
            == 0
        )
    finally:
        reports.dispose()


def test_a_reports_database_that_is_no_standby_is_not_read(
    db: Database, db_url: str, caplog: Any
) -> None:
    if BACKEND != "postgresql":
        pytest.skip("streaming replicas are PostgreSQL's")
    not_a_replica = Database(db_url, pool_size=1)  # the primary itself
    reports = ReportsDatabase(db, not_a_replica, max_lag=30, check_every=5)
    try:
        with caplog.at_level(logging.WARNING, logger="dingdan.db.replica"):
            verdict = reports.verdict()
        assert not verdict.replica and verdict.reason == "is not a standby (not in recovery)"
        assert "the replica is not a standby" in caplog.text
    finally:
        reports.dispose()
