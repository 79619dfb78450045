"""A `dingdan worker` killed (SIGKILL) in the middle of sending customer email: what the
mail server acknowledged and the worker recorded is not sent again; the message it was
sending, and those it had leased, are sent once the lease runs out (at least once: the one
in flight may arrive twice, with the same Message-ID)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from dingdan.config import get_settings
from dingdan.db.message_tables import Message
from dingdan.services.jobs import outbox
from dingdan.services.messaging import sending
from dingdan.services.orders import capture
from tests.builders import ADMIN, TEA_SHOP, Buyer, order_body
from tests.integration.test_messages import _free_port

pytestmark = pytest.mark.serial


class HangsOnSecond:
    """Accepts the first message, then holds the second until released."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if len(self.ids) == 1 and not self.release.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 the client went away"
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0].decode()
        self.ids.append(next(h for h in head.split("\r\n") if h.startswith("Message-ID")))
        return "250 OK"


def _until(check: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_send_loses_nothing_and_resends_nothing_acknowledged(
    db: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    TEA_SHOP.build(db)
    for i in range(3):
        buyer = Buyer(f"c{i}@example.com", "王小明")
        capture.place_order(db, ADMIN, order_body(buyer=buyer))
    handler = HangsOnSecond()
    server = Controller(handler, hostname="127.0.0.1", port=_free_port())
    server.start()
    smtp = f"smtp://127.0.0.1:{server.port}"
    env = {
        **os.environ,
        "DINGDAN_DATABASE_URL": db_url,
        "DINGDAN_SMTP_URL": smtp,
        "DINGDAN_MAIL_FROM": "shop@example.com",
    }
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("dingdan")), "worker", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _until(handler.holding.is_set)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        handler.release.set()
    rows = db.read(lambda c: list(c.execute(select(Message).order_by(Message.id))))
    assert [r.status for r in rows] == ["sent", "pending", "pending"]
    assert rows[1].claimed_by is not None  # leased by the dead worker

    monkeypatch.setenv("DINGDAN_SMTP_URL", smtp)
    monkeypatch.setenv("DINGDAN_MAIL_FROM", "shop@example.com")
    get_settings.cache_clear()
    me = outbox.worker_name()
    assert sending.send_due(db, me).sent == 0  # the lease still holds
    db.write(lambda c: c.execute(update(Message).values(claimed_until=None)))  # it ran out
    assert sending.send_due(db, me).sent == 2
    server.stop()
    get_settings.cache_clear()
    rows = db.read(lambda c: list(c.execute(select(Message).order_by(Message.id))))
    assert [r.status for r in rows] == ["sent", "sent", "sent"]
    assert Counter(handler.ids) == Counter(f"Message-ID: {r.message_id}" for r in rows)
