"""Uploading e-invoice documents to a value-added centre (a test double here): a centre
that is down leaves the document pending and says why, the next round sends it; a refusal
is failed and visible; a void goes after its invoice; allowances go too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db.invoice_tables import Allowance, Invoice
from dingdan.domain.invoicing.centres import CentreAnswer
from dingdan.services.invoicing import uploads
from dingdan.services.jobs import worker
from tests.integration.test_invoices import _invoices, _paid_order, _settings, _track, shop

__all__ = ["shop"]


@dataclass
class FakeCentre:
    """Answers from ``script`` in turn (then ok); an exception in it is raised."""

    script: list[Any] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    name: str = "fake"
    assigns_numbers: bool = False

    def _answer(self, kind: str, number: str) -> CentreAnswer:
        self.calls.append((kind, number))
        step = self.script.pop(0) if self.script else CentreAnswer(ok=True)
        if isinstance(step, Exception):
            raise step
        return step

    def issue(self, invoice: Any) -> CentreAnswer:
        return self._answer("issue", invoice.number)

    def void(self, void: Any) -> CentreAnswer:
        return self._answer("void", void.number)

    def allowance(self, allowance: Any) -> CentreAnswer:
        return self._answer("allowance", allowance.number)

    def void_allowance(self, void: Any) -> CentreAnswer:
        return self._answer("void_allowance", void.number)


def _state(db: Any, number: str) -> tuple[str, str | None]:
    return tuple(
        db.read(
            lambda c: c.execute(
                select(Invoice.upload_status, Invoice.upload_error).where(Invoice.number == number)
            ).one()
        )
    )


@pytest.fixture
def issued(api, shop, db):
    _settings(api)
    _track(api)
    n = _paid_order(api)
    worker.drain(db)
    return n, _invoices(api, n)[0]["number"]


def test_without_a_centre_documents_wait(api, db, issued):
    _, number = issued
    assert uploads.upload_pending(db) == 0
    assert _state(db, number) == ("pending", None)


def test_a_centre_that_is_down_is_tried_again_and_nothing_is_lost(api, db, issued):
    _, number = issued
    centre = FakeCentre(
        [
            TimeoutError("read timed out"),
            CentreAnswer(ok=False, code="9999", message="busy", retryable=True),
        ]
    )
    assert uploads.upload_pending(db, centre) == 0
    status, error = _state(db, number)
    assert status == "pending" and "timed out" in (error or "")
    assert uploads.upload_pending(db, centre) == 0
    assert _state(db, number) == ("pending", "9999 busy")
    assert uploads.upload_pending(db, centre) == 1
    assert _state(db, number) == ("uploaded", None)
    assert centre.calls == [("issue", number)] * 3


def test_a_refusal_is_failed_and_visible(api, db, issued):
    _, number = issued
    centre = FakeCentre([CentreAnswer(ok=False, code="2000080", message="重複開立")])
    uploads.upload_pending(db, centre)
    assert _state(db, number) == ("failed", "2000080 重複開立")
    assert api.get(f"/api/v1/invoices/{number}").json()["upload_status"] == "failed"


def test_a_void_goes_after_its_invoice_and_allowances_go_too(api, db, issued):
    n, number = issued
    centre = FakeCentre()
    r = api.post(f"/api/v1/invoices/{number}/void", json={"reason": "取消"}, role="finance")
    assert r.status_code == 200
    assert uploads.upload_pending(db, centre) == 1
    assert centre.calls == [("issue", number), ("void", number)]
    assert _state(db, number) == ("uploaded", None)
    other = _paid_order(api)
    worker.drain(db)
    second = _invoices(api, other)[0]["number"]
    r = api.post(
        f"/api/v1/orders/{other}/refunds",
        json={"amount": "100.00", "reason": "破損"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    worker.drain(db)
    centre.calls.clear()
    uploads.upload_pending(db, centre)
    [allowance] = db.read(
        lambda c: c.execute(select(Allowance.number, Allowance.upload_status)).all()
    )
    assert centre.calls == [("issue", second), ("allowance", allowance.number)]
    assert allowance.upload_status == "uploaded"
