"""Voiding an allowance (G0501) end to end (issue 22): the API and its refusals, the G0501
message kept, the invoice's room for allowances given back for a correct one given by hand,
the refund left recorded, the audit trail; and the void sent to the centre after the
commit by the worker, against the local stand-ins of ECPay and Amego
(tests/einvoice_fakes.py): a centre that is down is tried again, and a worker that dies
after the centre took the void finds it void at the centre instead of failing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from dingdan.config import get_settings
from dingdan.db.invoice_tables import Allowance
from dingdan.db.tables import AuditEntry
from dingdan.services.invoicing import centre_exchanges, issuing, uploads
from dingdan.services.jobs import worker
from tests.einvoice_fakes import FakeAmego, FakeEcpay
from tests.integration.test_invoices import _codes, _invoices, _paid_order, _settings, _track, shop

__all__ = ["shop"]
G0501 = {"m": "urn:GEINV:eInvoiceMessage:G0501:4.0"}


def _refund(api: Any, n: str, amount: str) -> None:
    body = {"amount": amount, "reason": "破損"}
    r = api.post(f"/api/v1/orders/{n}/refunds", json=body, role="finance")
    assert r.status_code == 201, r.text


def _give(api: Any, inv: str, amount: str, reason: str) -> Any:
    body = {"amount": amount, "reason": reason}
    return api.post(f"/api/v1/invoices/{inv}/allowances", json=body, role="finance")


def _allowances(api: Any, number: str) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/invoices/{number}/allowances")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _void(api: Any, inv: str, allowance: str, role: str = "finance", **body: Any) -> Any:
    return api.post(
        f"/api/v1/invoices/{inv}/allowances/{allowance}/void",
        json=body if body else {"reason": "金額錯誤"},
        role=role,
    )


def _row(db: Any, number: str) -> Any:
    return db.read(lambda c: c.execute(select(Allowance).where(Allowance.number == number)).one())


@pytest.fixture
def refunded(api, shop, db):
    """A paid e-invoiced order (760.00) with a refund of 100.00 given as an allowance."""
    _settings(api)
    _track(api)
    n = _paid_order(api)
    worker.drain(db)
    [inv] = _invoices(api, n)
    _refund(api, n, "100.00")
    worker.drain(db)
    [a] = _allowances(api, inv["number"])
    return n, inv["number"], a["number"]


def test_an_allowance_is_voided_with_its_g0501_and_a_correct_one_takes_its_place(api, db, refunded):
    n, inv, al = refunded
    r = _void(api, inv, al, reason="  折讓金額錯誤  ")
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["number"], got["status"], got["void_reason"], got["invoice_number"]) == (
        al,
        "void",
        "折讓金額錯誤",
        inv,
    )
    assert got["voided_at"] and got["upload_status"] == "pending"  # no centre took it yet
    row = _row(db, al)
    root = etree.fromstring(row.void_xml.encode())
    assert root.findtext("m:CancelAllowanceNumber", namespaces=G0501) == al
    assert root.findtext("m:CancelReason", namespaces=G0501) == "折讓金額錯誤"
    assert row.mig_xml and "G0401" in row.mig_xml  # the allowance's own message is kept
    # Listed, void; the invoice has its whole total to allow again.
    assert [(a["number"], a["status"]) for a in _allowances(api, inv)] == [(al, "void")]
    # The refund stays recorded, and handling its event again gives it no new allowance.
    order = api.get(f"/api/v1/orders/{n}").json()
    assert order["refunded"] == "100.00"
    worker.drain(db)
    issuing.on_refund(db, n, "100.00", str(row.source).removeprefix("refund:"), "again")
    assert len(_allowances(api, inv)) == 1
    # The right allowance, by hand: beyond the invoice, or with cents, is refused.
    over = api.post(
        f"/api/v1/invoices/{inv}/allowances",
        json={"amount": "90.50", "reason": "退款"},
        role="finance",
    )
    assert over.status_code == 422 and ("amount", "einvoice_whole_twd") in _codes(over)
    over = _give(api, inv, "761", "退款")
    assert over.status_code == 422 and ("amount", "allowance_beyond_invoice") in _codes(over)
    right = _give(api, inv, "90", "退款")
    assert right.status_code == 201, right.text
    assert (right.json()["amount"], right.json()["status"]) == ("90.00", "issued")
    assert [(a["amount"], a["status"]) for a in _allowances(api, inv)] == [
        ("100.00", "void"),
        ("90.00", "issued"),
    ]
    # In the audit trail and the order's history, with who and why.
    entries = db.read(
        lambda c: c.execute(
            select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.after).where(
                AuditEntry.entity_type == "allowance"
            )
        ).all()
    )
    assert ("void", al) in {(e.action, e.entity_id) for e in entries}
    assert any(e.after.get("reason") == "折讓金額錯誤" for e in entries if e.action == "void")
    events = api.get(f"/api/v1/orders/{n}/events").json()["items"]
    assert any(e["kind"] == "invoice_allowance_voided" for e in events)


def test_voiding_an_allowance_is_refused_with_a_code_and_changes_nothing(api, db, refunded):
    _, inv, al = refunded
    assert _void(api, inv, al, role="warehouse").status_code == 403
    assert _void(api, inv, al, role="customer_service").status_code == 403
    blank = _void(api, inv, al, reason="   ")
    assert blank.status_code == 422 and ("reason", "required") in _codes(blank)
    assert _void(api, inv, al, reason="x", colour="red").status_code == 422
    assert _void(api, inv, "AL-1999-000001").json()["code"] == "not_found"
    assert _void(api, "ZZ99999999", al).status_code == 404
    assert _row(db, al).status == "issued"
    assert _void(api, inv, al, role="manager").status_code == 200
    again = _void(api, inv, al)
    assert again.status_code == 409 and ("allowance_number", "allowance_not_voidable") in _codes(
        again
    )


# ---- with a centre, over HTTP --------------------------------------------------------------


def _use(monkeypatch: pytest.MonkeyPatch, name: str, url: str) -> None:
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE", name)
    monkeypatch.setenv(f"DINGDAN_EINVOICE_{name.upper()}_URL", url)
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE_TIMEOUT", "5")
    get_settings.cache_clear()


@pytest.fixture
def ecpay(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEcpay]:
    fake = FakeEcpay()
    fake.start()
    _use(monkeypatch, "ecpay", fake.url)
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def amego(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAmego]:
    fake = FakeAmego()
    fake.start()
    _use(monkeypatch, "amego", fake.url)
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def _at_centre(api: Any, db: Any) -> tuple[str, str, str]:
    """A paid order issued by the centre, refunded 100.00, the allowance taken there."""
    _settings(api)
    n = _paid_order(api)
    worker.drain(db)
    uploads.upload_pending(db)
    [inv] = _invoices(api, n)
    assert inv["status"] == "issued", inv
    _refund(api, n, "100.00")
    worker.drain(db)
    uploads.upload_pending(db)
    [a] = _allowances(api, inv["number"])
    assert a["upload_status"] == "uploaded", a
    return n, inv["number"], a["number"]


def _outcomes(db: Any, number: str) -> list[tuple[str, str]]:
    return [(x["operation"], x["outcome"]) for x in centre_exchanges.exchanges_of(db, number)]


class Crash(BaseException):
    """The worker's process dying: nothing in it catches this."""


def test_ecpay_hears_of_the_void_after_the_commit_down_then_up(api, shop, db, ecpay):
    _, inv, al = _at_centre(api, db)
    [(allow_no, held)] = ecpay.allowances.items()
    assert ecpay._by_number(inv)["remaining"] == 660
    ecpay.mode = "down"
    r = _void(api, inv, al)
    assert r.status_code == 200 and r.json()["upload_status"] == "pending_void"
    assert not [x for x in ecpay.received if x.path == "/B2CInvoice/AllowanceInvalid"]
    # Down: the void waits, with why, and is not lost.
    uploads.upload_pending(db)
    row = _row(db, al)
    assert (row.upload_status, row.status) == ("pending_void", "void")
    assert "503" in (row.upload_error or "")
    ecpay.mode = "up"
    uploads.upload_pending(db)
    row = _row(db, al)
    assert (row.upload_status, row.upload_error) == ("uploaded", None)
    assert held["void"] and ecpay._by_number(inv)["remaining"] == 760
    [sent] = [x.data for x in ecpay.received if x.path == "/B2CInvoice/AllowanceInvalid"]
    assert (sent["InvoiceNo"], sent["AllowanceNo"], sent["Reason"]) == (inv, allow_no, "金額錯誤")
    assert _outcomes(db, al) == [
        ("allowance", "ok"),
        ("void_allowance", "retry"),
        ("void_allowance", "ok"),
    ]
    # Nothing more goes out.
    uploads.upload_pending(db)
    assert len([x for x in ecpay.received if x.path == "/B2CInvoice/AllowanceInvalid"]) == 1
    # The right allowance, by hand, goes to ECPay with the room the void gave back.
    right = _give(api, inv, "760", "退貨")
    assert right.status_code == 201, right.text
    uploads.upload_pending(db)
    assert _row(db, right.json()["number"]).upload_status == "uploaded"
    assert ecpay._by_number(inv)["remaining"] == 0


def test_a_worker_that_dies_after_ecpay_took_the_void_finds_it_void(
    api, shop, db, ecpay, monkeypatch
):
    _, inv, al = _at_centre(api, db)
    assert _void(api, inv, al).status_code == 200
    real = centre_exchanges.Exchanges.finish

    def dies(self, sent, outcome, **kw):  # the answer arrives; the process dies
        if self.db is db and kw.get("code") == "1" and outcome == "ok":
            raise Crash
        return real(self, sent, outcome, **kw)

    monkeypatch.setattr(centre_exchanges.Exchanges, "finish", dies)
    with pytest.raises(Crash):
        uploads.upload_pending(db)
    monkeypatch.setattr(centre_exchanges.Exchanges, "finish", real)
    [(_, held)] = ecpay.allowances.items()
    assert held["void"]  # ECPay has it; we never recorded its answer
    assert _row(db, al).upload_status == "pending_void"
    assert _outcomes(db, al)[-1] == ("void_allowance", "pending")  # the intent, kept
    # The next round sends it again; ECPay refuses a second void, and is asked.
    uploads.upload_pending(db)
    assert (_row(db, al).upload_status, _row(db, al).upload_error) == ("uploaded", None)
    assert _outcomes(db, al)[-3:] == [
        ("void_allowance", "pending"),
        ("void_allowance", "refused"),
        ("get_allowance_invalid", "ok"),
    ]
    assert ecpay._by_number(inv)["remaining"] == 760  # voided once


def test_a_crash_between_the_commit_and_the_call_is_recovered_by_the_worker(
    api, shop, db, ecpay, monkeypatch, tmp_path
):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path))  # the round renders the PDFs
    _, inv, al = _at_centre(api, db)
    assert _void(api, inv, al).status_code == 200

    def dies(db: Any) -> Any:
        raise Crash

    monkeypatch.setattr(uploads, "centre_of", dies)
    with pytest.raises(Crash):
        worker.run_once(db, 72)
    monkeypatch.undo()
    _use(monkeypatch, "ecpay", ecpay.url)
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path))
    assert _row(db, al).upload_status == "pending_void"
    worker.run_once(db, 72)
    assert _row(db, al).upload_status == "uploaded"
    [(_, held)] = ecpay.allowances.items()
    assert held["void"]


def test_an_allowance_voided_before_the_centre_heard_of_it_sends_nothing(api, shop, db, ecpay):
    _settings(api)
    n = _paid_order(api)
    worker.drain(db)
    uploads.upload_pending(db)
    [inv] = _invoices(api, n)
    _refund(api, n, "100.00")
    worker.drain(db)  # the allowance is made; no upload round yet
    [a] = _allowances(api, inv["number"])
    assert _void(api, inv["number"], a["number"]).json()["upload_status"] == "pending"
    uploads.upload_pending(db)
    assert _row(db, a["number"]).upload_status == "not_required"
    assert not ecpay.allowances
    assert _outcomes(db, a["number"]) == []


def test_amego_hears_of_the_void_and_a_lost_answer_is_found_void(api, shop, db, amego, monkeypatch):
    _, inv, al = _at_centre(api, db)
    assert _void(api, inv, al).status_code == 200
    real = centre_exchanges.Exchanges.finish

    def dies(self, sent, outcome, **kw):  # the only document left is the void (g0501)
        if self.db is db and outcome == "ok":
            raise Crash
        return real(self, sent, outcome, **kw)

    monkeypatch.setattr(centre_exchanges.Exchanges, "finish", dies)
    with pytest.raises(Crash):
        uploads.upload_pending(db)
    monkeypatch.setattr(centre_exchanges.Exchanges, "finish", real)
    assert amego.allowances[al]["void"]
    uploads.upload_pending(db)
    assert _row(db, al).upload_status == "uploaded"
    ops = _outcomes(db, al)
    assert ops[-2:] == [("void_allowance", "refused"), ("query", "ok")]
    sent = [x.data for x in amego.received if x.path == "/json/g0501"]
    assert sent == [[{"CancelAllowanceNumber": al}]] * 2
