"""SQLite group commit (`db/engine.py`): writers that queue while another holds the write lock
are run in one transaction, each in its own savepoint, and committed once. A unit that
fails leaves nothing and only its caller sees the error; the others are stored.

The same calls on PostgreSQL run one transaction each; the outcomes asserted here hold there
too, so the tests run on both databases and check the grouping only where it applies."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select

from dingdan.db.engine import Database, RetryTransaction
from dingdan.db.order_tables import Channel, Order
from dingdan.domain.shared.errors import (
    Conflict,
    InsufficientStock,
    ValidationFailed,
)
from dingdan.services.inventory import stock
from dingdan.services.orders import capture
from tests.builders import ADMIN, OMIT, address, location, order_body, product, receive
from tests.helpers import run_threads

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")


def _insert_channel(code: str) -> Any:
    def work(conn: Connection) -> str:
        conn.execute(insert(Channel).values(code=code, name=code, active=True))
        return code

    return work


def _insert_then_fail(code: str) -> Any:
    def work(conn: Connection) -> str:
        conn.execute(insert(Channel).values(code=code, name=code, active=True))
        raise ValidationFailed.on("code", "already_exists")

    return work


def _channels(db: Database) -> set[str]:
    return set(db.read(lambda c: c.execute(select(Channel.code)).scalars().all()))


def _queue_behind_lock(db: Database, works: list[Any]) -> tuple[list[Any], int]:
    """Hold the write lock (SQLite) while every work queues, then let them go; returns each
    caller's outcome (value or exception) and the number of commits the engine made."""
    commits = 0

    def count(_conn: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine, "commit", count)
    outcomes: list[Any] = [None] * len(works)

    def call(i: int) -> None:
        try:
            outcomes[i] = db.write(works[i])
        except BaseException as exc:  # noqa: BLE001 - every outcome is asserted on
            outcomes[i] = exc

    lock = getattr(db, "_write_lock", None)
    if lock is not None:
        lock.acquire()
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    try:
        for t in threads:
            t.start()
        if lock is not None:
            deadline = time.monotonic() + 10
            while len(db._queue) < len(works) and time.monotonic() < deadline:
                time.sleep(0.005)
            assert len(db._queue) == len(works), "the writers did not queue"
    finally:
        if lock is not None:
            lock.release()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a writer was left waiting"
    event.remove(db.engine, "commit", count)
    return outcomes, commits


def test_queued_writers_commit_once_and_a_failing_one_leaves_nothing(db: Database) -> None:
    works = [
        _insert_channel("grp_a"),
        _insert_then_fail("grp_b"),
        _insert_channel("grp_c"),
        _insert_channel("grp_a"),  # duplicate key: a conflict for this caller only
        _insert_channel("grp_d"),
    ]
    outcomes, commits = _queue_behind_lock(db, works)

    # The two writers of grp_a queue in whatever order their threads ran: one stores it,
    # the other gets a conflict.
    first, second = sorted([outcomes[0], outcomes[3]], key=lambda o: isinstance(o, Conflict))
    assert first == "grp_a" and isinstance(second, Conflict)
    assert isinstance(outcomes[1], ValidationFailed)
    assert outcomes[2] == "grp_c"
    assert outcomes[4] == "grp_d"
    stored = _channels(db)
    assert {"grp_a", "grp_c", "grp_d"} <= stored
    assert "grp_b" not in stored
    if db.is_sqlite:
        assert commits == 1, "the five queued writers should share one commit"
    else:
        assert commits == 3  # one per successful transaction


def test_a_stale_plan_is_retried_inside_its_savepoint(db: Database) -> None:
    tries = {"n": 0}

    def flaky(conn: Connection) -> str:
        tries["n"] += 1
        conn.execute(insert(Channel).values(code=f"grp_try{tries['n']}", name="x", active=True))
        if tries["n"] < 3:
            raise RetryTransaction(InsufficientStock(detail="stale"))
        return "ok"

    outcomes, _ = _queue_behind_lock(db, [_insert_channel("grp_first"), flaky])
    assert outcomes == ["grp_first", "ok"]
    stored = _channels(db)
    # Only the attempt that succeeded is stored; the rolled-back attempts left nothing.
    assert {"grp_first", "grp_try3"} <= stored
    assert not {"grp_try1", "grp_try2"} & stored


def test_racing_orders_in_groups_keep_stock_exact(db: Database) -> None:
    location(db, "WH")
    for sku in ("GC-1", "GC-2"):
        product(db, sku)
    receive(db, "WH", {"GC-1": 30, "GC-2": 1000})

    def body(i: int) -> dict[str, Any]:
        return order_body(
            [{"sku": "GC-1", "quantity": 1}, {"sku": "GC-2", "quantity": 2}],
            customer={"email": f"g{i}@example.com", "name": "王小明"},
            shipping_address=address(phone=None),
            shipping_price=OMIT,
            payment_method="card",
            backorder=False,
        )

    placed: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def buyer(t: int) -> None:
        for k in range(10):
            try:
                view, _ = capture.place_order(db, ADMIN, body(t * 100 + k))
            except InsufficientStock:
                with lock:
                    refused.append(f"{t}-{k}")
            else:
                with lock:
                    placed.append(view["number"])

    assert run_threads(8, buyer) == []

    assert len(placed) == 30 and len(refused) == 50
    assert stock.stock_of(db, "GC-1")["reserved"] == 30
    assert stock.stock_of(db, "GC-2")["reserved"] == 60
    stored = db.read(lambda c: c.execute(select(func.count()).select_from(Order)).scalar_one())
    assert stored == 30
    assert stock.verify(db) == [], "the ledger must equal the levels"


@pytest.mark.parametrize("group_max", [1, 3])
def test_more_writers_than_one_group_all_finish(
    db: Database, monkeypatch: Any, group_max: int
) -> None:
    monkeypatch.setattr("dingdan.db.engine.GROUP_MAX", group_max)
    works = [_insert_channel(f"grp_m{i}") for i in range(7)]
    outcomes, _ = _queue_behind_lock(db, works)
    assert outcomes == [f"grp_m{i}" for i in range(7)]
    assert {f"grp_m{i}" for i in range(7)} <= _channels(db)


def test_an_interrupt_in_one_unit_is_its_callers_alone_and_no_writer_is_left_waiting(
    db: Database,
) -> None:
    def interrupted(conn: Connection) -> str:
        conn.execute(insert(Channel).values(code="grp_x", name="x", active=True))
        raise KeyboardInterrupt

    works = [_insert_channel("grp_p"), interrupted, _insert_channel("grp_q")]
    outcomes, _ = _queue_behind_lock(db, works)
    assert isinstance(outcomes[1], KeyboardInterrupt)
    assert outcomes[0] == "grp_p" and outcomes[2] == "grp_q"
    stored = _channels(db)
    assert {"grp_p", "grp_q"} <= stored and "grp_x" not in stored
