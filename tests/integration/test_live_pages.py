"""Live pages (docs/architecture.md, "Live pages"): what the worker's drain changed reaches
the streams of every app process through the database alone, each stream carrying only the
names its reader may see; the stream endpoint needs a session and ends when the server stops.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dingdan.db.engine import Database
from dingdan.domain.access.roles import Role, may
from dingdan.services.access import accounts
from dingdan.services.fulfilment import picking
from dingdan.services.jobs import worker
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.services.shared import live_changes
from dingdan.web.pages.shared.live import Broker
from tests.builders import ADMIN, LIN, order_body
from tests.pages.conftest import PAGES_SHOP, PASSWORD, csrf_of


def _names(role: Role) -> frozenset[str]:
    return live_changes.allowed_names(lambda action: may(role, action))


def test_what_a_role_may_hear_leaves_out_other_roles_work() -> None:
    assert _names(Role.WAREHOUSE) == {"orders", "warehouse", "returns", "stock"}
    assert _names(Role.FINANCE) == {"orders", "payments", "returns", "stock"}
    assert _names(Role.CUSTOMER_SERVICE) == {"orders", "returns", "disputes", "stock"}
    assert _names(Role.ADMIN) == set(live_changes.NAMES)


def test_a_change_reaches_two_app_processes_each_stream_with_its_own_names(
    db: Database, db_url: str
) -> None:
    PAGES_SHOP.build(db)
    worker.run_frequent(db)  # the shop's own events, published before anyone listens
    other = Database(db_url)  # a second app process: nothing shared but the database
    first, second = Broker(db, 10), Broker(other, 10)

    async def scenario() -> dict[str, list[set[str]]]:
        subs = {
            "admin": first.subscribe(_names(Role.ADMIN)),
            "warehouse": second.subscribe(_names(Role.WAREHOUSE)),
            "finance": second.subscribe(_names(Role.FINANCE)),
        }
        for broker in (first, second):
            assert await asyncio.to_thread(broker.listening.wait, 30)
        heard: dict[str, list[set[str]]] = {who: [] for who in subs}

        async def step(work: Any, *who: str) -> None:
            await asyncio.to_thread(work)
            for name in who:  # each named stream hears this step (a bound, not a timing)
                got = await subs[name].next(30)
                assert got is not None, f"{name} heard nothing"
                heard[name].append(got)

        order: dict[str, Any] = {}

        def place() -> None:
            order.update(capture.place_order(db, ADMIN, order_body(buyer=LIN))[0])
            worker.run_frequent(db)

        def pay() -> None:
            transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
            worker.run_frequent(db)

        def pick() -> None:  # no outbox event: the pick list is touched in its transaction
            picking.mark_picked(db, ADMIN, "TPE", [order["number"]])

        await step(place, "admin", "warehouse", "finance")
        await step(pay, "admin", "warehouse", "finance")
        await step(pick, "admin", "warehouse")
        for broker in (first, second):
            broker.close()
        return heard

    try:
        heard = asyncio.run(scenario())
    finally:
        other.dispose()
    placed, paid, picked = heard["admin"]
    assert {"orders", "warehouse"} <= placed and "payments" not in placed
    assert {"orders", "payments", "warehouse"} <= paid
    assert picked == {"warehouse"}
    # The warehouse's stream heard the order and the payment's effect on the pick list, never
    # the money; finance heard the money and not the pick list.
    picker = _names(Role.WAREHOUSE)
    assert all("payments" not in got and got <= picker for got in heard["warehouse"])
    assert {"orders", "warehouse"} <= heard["warehouse"][1]
    assert heard["warehouse"][2] == {"warehouse"}
    assert "payments" in heard["finance"][1]
    assert all("warehouse" not in got for got in heard["finance"])


def test_each_change_counts_once_whether_its_names_come_from_the_outbox_or_not(
    db: Database,
) -> None:
    """An order picked, a dispute reassigned or moved on write no outbox event: they count
    their names in their own transaction, and the worker's drain adds nothing more; an
    event the outbox carries (a dispute opened) is counted by the drain alone."""
    from dingdan.services.after_sales import disputes

    PAGES_SHOP.build(db)
    order = capture.place_order(db, ADMIN, order_body(buyer=LIN))[0]
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    worker.run_frequent(db)

    def counted(work: Any) -> dict[str, int]:
        before = live_changes.marks(db)
        work()
        worker.run_frequent(db)
        after = live_changes.marks(db)
        return {n: after[n] - before.get(n, 0) for n in after if after[n] != before.get(n, 0)}

    assert counted(lambda: picking.mark_picked(db, ADMIN, "TPE", [order["number"]])) == {
        "warehouse": 1
    }
    opened: dict[str, Any] = {}
    body = {"type": "chargeback", "summary": "x", "owner": "amy"}
    assert counted(
        lambda: opened.update(disputes.open_dispute(db, ADMIN, order["number"], body))
    ) == {"disputes": 1}
    did = opened["id"]
    assert counted(lambda: disputes.reassign(db, ADMIN, did, {"owner": "ben"})) == {"disputes": 1}
    move = {"status": "investigating"}
    assert counted(lambda: disputes.transition(db, ADMIN, did, move)) == {"disputes": 1}


def test_the_listener_thread_stops_with_its_app(db: Database, db_url: str) -> None:
    from fastapi.testclient import TestClient

    from dingdan.app import create_app
    from dingdan.config import Settings
    from dingdan.web.pages.shared.live import broker_of

    app = create_app(Settings(database_url=db_url, run_worker=False), db=db)
    before = set(threading.enumerate())
    with TestClient(app):
        broker = broker_of(app)

        async def a_stream_never_ended() -> None:  # its loop ends, it never unsubscribes
            broker.subscribe(_names(Role.ADMIN))

        asyncio.run(a_stream_never_ended())
        assert broker.listening.wait(30)
        listeners = [t for t in set(threading.enumerate()) - before if t.name == "dingdan-live"]
        assert listeners and all(t.is_alive() for t in listeners)
    # The app's shutdown stopped its listener before it let its database go.
    assert not any(t.is_alive() for t in listeners)
    assert getattr(app.state, "live_broker", None) is None
    with TestClient(app):  # started again: a broker of its own, which takes streams
        assert broker_of(app) is not broker and broker_of(app).streams == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(db: Database, db_url: str) -> Iterator[dict[str, Any]]:
    """The app under uvicorn with ``dingdan serve``'s protocol, in a thread."""
    import uvicorn

    from dingdan.app import create_app
    from dingdan.cli.serving import HTTP_PROTOCOL
    from dingdan.config import Settings

    PAGES_SHOP.build(db)
    accounts.create_user(
        db, ADMIN, email="picker@example.com", role=Role.WAREHOUSE.value, password=PASSWORD
    )
    app = create_app(Settings(database_url=db_url, run_worker=False), db=db)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", http=HTTP_PROTOCOL
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "server": server, "thread": thread, "app": app}
    server.should_exit = True
    thread.join(10)


@pytest.mark.serial  # a real server and its shutdown
def test_a_stream_needs_a_session_carries_names_only_and_ends_when_the_server_stops(
    served: dict[str, Any], db: Database
) -> None:
    base = served["url"]
    assert httpx.get(f"{base}/live", timeout=10).status_code == 401
    with httpx.Client(base_url=base, timeout=30) as client:
        csrf = csrf_of(client.get("/login").text)
        signed = client.post(
            "/login",
            data={"email": "picker@example.com", "password": PASSWORD, "csrf_token": csrf},
        )
        assert signed.status_code in (200, 303)
        lines: list[str] = []
        with client.stream("GET", "/live?names=payments warehouse disputes") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            reading = stream.iter_lines()
            while (line := next(reading)) != "":  # the opening: retry and a comment
                lines.append(line)
            # Money, the pick list and disputes change at once; a picker hears the pick list.
            db.write(lambda conn: live_changes.touch(conn, ("payments", "warehouse", "disputes")))
            while (line := next(reading)) != "":
                lines.append(line)
            served["server"].should_exit = True  # the stream ends by itself: no hang
            rest = list(reading)
        served["thread"].join(10)
    assert not served["thread"].is_alive()
    assert lines == ["retry: 2000", ": live", "event: warehouse", "data: warehouse"]
    assert rest == []
    assert not re.search(r"DD\d|@", "".join(lines))  # no order number, no person
