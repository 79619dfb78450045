"""A `dingdan worker` killed with SIGKILL in the middle of posting a webhook: after a restart
the delivery arrives (the same webhook-id and body), and what the receiver had already
acknowledged is not sent again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from bench.server import dingdan_bin, env_for
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookDelivery
from dingdan.services.integrations import webhooks
from tests.builders import ADMIN, TEA_SHOP, order_body
from tests.integration.test_webhooks import private_ok  # noqa: F401 - a fixture
from tests.integration.webhook_receiver import Receiver


def _start_worker(db_url: str, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [dingdan_bin(), "worker", "--interval", "0.2"],
        env=env_for(db_url, DINGDAN_WEBHOOK_ALLOW_PRIVATE="true"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _status(db: Any, number: str) -> str | None:
    return db.read(
        lambda c: c.execute(
            select(WebhookDelivery.status).where(WebhookDelivery.order_number == number)
        ).scalar()
    )


@pytest.mark.serial
def test_a_worker_killed_mid_send_loses_nothing_and_resends_nothing_acknowledged(
    db,
    db_url,
    tmp_path,
    private_ok,  # noqa: F811
):
    from dingdan.services.orders import capture

    TEA_SHOP.build(db)
    hung = threading.Event()
    release = threading.Event()
    blocked: set[str] = set()

    def script(got: Any, _n: int) -> tuple[int, str]:
        if got.json["data"]["number"] == second and got.webhook_id not in blocked:
            blocked.add(got.webhook_id)
            hung.set()
            release.wait(30)
            raise ConnectionAbortedError  # the sender is gone: nobody reads an answer
        return 200, "ok"

    with Receiver(script) as receiver, open(tmp_path / "worker.log", "wb") as log:
        webhooks.create_endpoint(db, ADMIN, {"url": receiver.url, "events": ["order.created"]})
        first = capture.place_order(db, ADMIN, order_body())[0]["number"]
        second = ""
        worker = _start_worker(db_url, log)
        try:
            receiver.wait_for(lambda: _status(db, first) == "delivered")
            second = capture.place_order(db, ADMIN, order_body())[0]["number"]
            assert hung.wait(20), "the second delivery never reached the receiver"
            _kill(worker)  # mid-request: the receiver has the request, nobody has an answer
            release.set()
            assert _status(db, second) == "pending"
            # The dead worker's lease (a minute) runs out: time passes.
            db.write(
                lambda c: c.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.status == "pending")
                    .values(claimed_until=utcnow())
                )
            )
            worker = _start_worker(db_url, log)
            receiver.wait_for(lambda: _status(db, second) == "delivered")
        finally:
            _kill(worker)

    by_order: dict[str, list[Any]] = {}
    for got in receiver.received:
        by_order.setdefault(got.json["data"]["number"], []).append(got)
    assert len(by_order[first]) == 1  # acknowledged and recorded: never sent again
    killed, again = by_order[second]
    assert killed.webhook_id == again.webhook_id and killed.body == again.body
