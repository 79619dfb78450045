"""PDF documents: the worker renders the packing slips people asked for with WeasyPrint, once
each even with two workers, stores them outside the database by checksum, retries a failure
and then gives up; the PDF is served to staff who fulfil, and to no one else."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from dingdan.db.document_tables import Document
from dingdan.domain.access.roles import Role
from dingdan.services.access import accounts, audit_log
from dingdan.services.jobs import worker
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.services.shared import documents
from tests.builders import ADMIN, LIN, location, order_body, product, receive
from tests.helpers import run_threads
from tests.pages.conftest import PASSWORD, Browser


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def paid(db) -> list[str]:
    """Two paid orders holding stock at TPE, and a user of each role."""
    product(db, "TEA-001", price="350.00", name="凍頂烏龍茶")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    for role in Role:
        accounts.create_user(
            db, ADMIN, email=f"{role.value}@example.com", role=role.value, password=PASSWORD
        )
    numbers = []
    for qty in (1, 2):
        order, _ = capture.place_order(
            db, ADMIN, order_body(buyer=LIN, lines=[{"sku": "TEA-001", "quantity": qty}])
        )
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
        numbers.append(order["number"])
    return numbers


@pytest.fixture
def signed_in(app):
    clients: list[TestClient] = []

    def make(role: str) -> Browser:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        b = Browser(client)
        assert b.sign_in(f"{role}@example.com").status_code == 303
        return b

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def _rows(db) -> list[Any]:
    return db.read(lambda c: c.execute(select(Document).order_by(Document.id)).all())


def _pages(pdf: bytes) -> int:
    """Pages of a PDF whose objects may sit in compressed object streams."""
    count = 0
    for m in re.finditer(rb"stream\r?\n", pdf):
        try:
            body = zlib.decompressobj().decompress(pdf[m.end() : m.end() + 10_000_000])
        except zlib.error:
            continue
        count += len(re.findall(rb"/Type\s*/Page(?![s\w])", body))
    return count


def test_the_worker_renders_a_real_pdf_stored_by_checksum(paid, signed_in, db, upload_dir):
    number = paid[0]
    wh = signed_in("warehouse")
    assert wh.post(f"/orders/{number}/packing-slip.pdf").status_code == 303
    [doc] = _rows(db)
    assert doc.status == "pending" and number in doc.html and doc.order_numbers == [number]
    assert doc.requested_by == "user:warehouse@example.com"
    assert worker.run_once(db, 72)["documents"] == 1
    [doc] = _rows(db)
    assert doc.status == "ready" and doc.html is None and doc.attempts == 1
    stored = (upload_dir / doc.storage_path).read_bytes()
    assert stored.startswith(b"%PDF") and len(stored) > 1000 and doc.size_bytes == len(stored)
    assert hashlib.sha256(stored).hexdigest() == doc.sha256
    assert doc.storage_path == f"documents/{doc.sha256}.pdf"
    assert _pages(stored) == 1
    # Nothing left to do: a second round renders nothing.
    assert documents.render_pending(db) == 0

    r = wh.get(f"/orders/{number}/packing-slip.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == stored and r.headers["cache-control"] == "private, no-store"
    assert f'filename="packing-slip-{number}.pdf"' in r.headers["content-disposition"]
    views = audit_log.list_entries(db, action="view", entity_type="order", entity_id=number)
    assert [e["actor"] for e in views.items] == ["user:warehouse@example.com"]
    assert "Download PDF" in wh.get(f"/orders/{number}/packing-slip").text


@pytest.mark.parametrize("role", ["finance", "customer_service"])
def test_the_pdf_is_refused_to_roles_that_do_not_fulfil(paid, signed_in, db, role):
    number = paid[0]
    assert signed_in("manager").post(f"/orders/{number}/packing-slip.pdf").status_code == 303
    assert documents.render_pending(db) == 1
    r = signed_in(role).get(f"/orders/{number}/packing-slip.pdf")
    assert r.status_code == 403 and not r.content.startswith(b"%PDF")
    assert audit_log.list_entries(db, action="view", entity_id=number).items == []


def test_no_pdf_yet_is_a_not_found_page(paid, signed_in):
    r = signed_in("warehouse").get(f"/orders/{paid[0]}/packing-slip.pdf")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_the_pick_lists_pdf_has_a_page_per_order(paid, signed_in, db):
    wh = signed_in("warehouse")
    assert wh.post("/warehouse/TPE/packing-slips.pdf", {"size": "label"}).status_code == 303
    assert documents.render_pending(db) == 1
    r = wh.get("/warehouse/TPE/packing-slips.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and _pages(r.content) == 2
    [doc] = _rows(db)
    assert doc.kind == "packing_slips" and doc.subject == "TPE" and doc.order_numbers == paid
    # Serving it is a view of both orders' names and addresses.
    for number in paid:
        assert len(audit_log.list_entries(db, action="view", entity_id=number).items) == 1


def test_a_second_request_before_the_worker_replaces_the_waiting_one(paid, signed_in, db):
    wh = signed_in("warehouse")
    wh.post(f"/orders/{paid[0]}/packing-slip.pdf", {"size": "a4"})
    wh.post(f"/orders/{paid[0]}/packing-slip.pdf", {"size": "label"})
    [doc] = _rows(db)
    assert "size: 100mm 150mm" in doc.html


def test_a_failing_render_is_retried_then_given_up(paid, signed_in, db):
    number = paid[0]
    wh = signed_in("warehouse")
    wh.post(f"/orders/{number}/packing-slip.pdf")

    def broken(html: str) -> bytes:
        raise RuntimeError("no fonts")

    for attempt in range(1, documents.MAX_ATTEMPTS + 1):
        assert documents.render_pending(db, render=broken) == 0
        [doc] = _rows(db)
        assert doc.attempts == attempt and doc.last_error == "no fonts"
        # Retried a minute later, not at once.
        assert documents.render_pending(db, render=broken) == 0
        db.write(lambda c: c.execute(text("UPDATE documents SET claimed_at = NULL")))
    [doc] = _rows(db)
    assert doc.status == "failed" and doc.html is None
    assert documents.pdf_state(db, "packing_slip", number)["failed"] is True
    assert "The PDF could not be made" in wh.get(f"/orders/{number}/packing-slip").text
    # Asking again queues a new one.
    wh.post(f"/orders/{number}/packing-slip.pdf")
    assert documents.render_pending(db) == 1
    assert documents.pdf_state(db, "packing_slip", number)["ready"] is not None


def test_two_workers_render_each_document_once(paid, signed_in, db):
    wh = signed_in("warehouse")
    for number in paid:
        wh.post(f"/orders/{number}/packing-slip.pdf")
    calls: list[str] = []
    lock = threading.Lock()

    def slow(html: str) -> bytes:
        with lock:
            calls.append(html)
        threading.Event().wait(0.3)
        return b"%PDF-1.7 test " + hashlib.sha256(html.encode()).hexdigest().encode()

    made: list[int] = []
    errors = run_threads(2, lambda i: made.append(documents.render_pending(db, render=slow)))
    assert errors == [] and sum(made) == 2 and len(calls) == 2
    assert [d.status for d in _rows(db)] == ["ready", "ready"]


def test_the_renderer_fetches_nothing_from_outside():
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        pdf = documents.html_to_pdf(
            f'<link rel="stylesheet" href="{url}/a.css"><img src="{url}/b.png">'
            '<img src="file:///etc/hostname"><p>DD-1</p>'
        )
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF") and hits == []
