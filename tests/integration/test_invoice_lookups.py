"""A buyer's mobile barcode (手機條碼) or donation code (愛心碼) is asked of the e-invoice
centre where the choice is taken (capture through the API, the order edit, the tracking
page), against the local ECPay stand-in (tests/einvoice_fakes.py): one the centre knows is
taken and recorded as verified; one it does not know is 422 with the format's code and a
message saying the centre does not know it, and nothing is written; a centre that is down,
slow or unclear never holds the order up: taken on its format, recorded as not verified,
the exchange kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from dingdan.config import get_settings
from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.db.order_tables import Order
from dingdan.services.orders import invoice_choice
from tests.builders import order_body
from tests.einvoice_fakes import ECPAY_BAD_FIELD, FakeEcpay
from tests.helpers import location, product, receive

KNOWN, UNKNOWN = "/TRM+O+P", "/ABC1234"
MOBILE = {"type": "b2c", "carrier_type": "mobile"}


@pytest.fixture
def shop(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    return db


@pytest.fixture
def ecpay(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEcpay]:
    fake = FakeEcpay()
    fake.start()
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE", "ecpay")
    monkeypatch.setenv("DINGDAN_EINVOICE_ECPAY_URL", fake.url)
    monkeypatch.setenv("DINGDAN_EINVOICE_LOOKUP_TIMEOUT", "0.5")
    get_settings.cache_clear()
    yield fake
    fake.stop()
    monkeypatch.undo()
    get_settings.cache_clear()


def _order(api: Any, invoice: dict[str, Any]) -> Any:
    return api.post("/api/v1/orders", json=order_body(invoice=invoice))


def _request(db: Any, number: str) -> dict[str, Any]:
    def read(conn: Any) -> dict[str, Any]:
        order_id = conn.execute(select(Order.id).where(Order.number == number)).scalar_one()
        return invoice_choice.current_request(conn, order_id)

    return dict(db.read(read))


def _orders(db: Any) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(Order)).scalar()))


def _exchanges(db: Any, code: str) -> list[tuple[str, str]]:
    rows = db.read(
        lambda c: c.execute(
            select(EinvoiceExchange.operation, EinvoiceExchange.outcome)
            .where(EinvoiceExchange.document_number == code)
            .order_by(EinvoiceExchange.id)
        ).all()
    )
    return [(r.operation, r.outcome) for r in rows]


def _refused(r: Any) -> tuple[str, str, str]:
    assert r.status_code == 422, r.text
    [e] = r.json()["errors"]
    return e["field"], e["code"], e["message"]


def test_a_barcode_the_centre_knows_is_taken_and_recorded_verified(api, shop, db, ecpay):
    r = _order(api, {**MOBILE, "carrier_id": KNOWN})
    assert r.status_code == 201, r.text
    assert _request(db, r.json()["number"]) == {**MOBILE, "carrier_id": KNOWN, "verified": "centre"}
    [sent] = [x.data for x in ecpay.received if x.path == "/B2CInvoice/CheckBarcode"]
    assert sent["BarCode"] == KNOWN
    assert _exchanges(db, KNOWN) == [("check_barcode", "ok")]


def test_a_barcode_the_centre_does_not_know_is_refused_and_nothing_is_written(api, shop, db, ecpay):
    r = _order(api, {**MOBILE, "carrier_id": UNKNOWN})
    field, code, message = _refused(r)
    assert (field, code) == ("invoice.carrier_id", "invalid_carrier_id")
    assert "not known to the e-invoice centre" in message
    assert _orders(db) == 0
    assert _exchanges(db, UNKNOWN) == [("check_barcode", "ok")]  # the answer kept


def test_a_donation_code_is_asked_too(api, shop, db, ecpay):
    ok = _order(api, {"type": "b2c", "donation_code": "168001"})
    assert ok.status_code == 201, ok.text
    assert _request(db, ok.json()["number"])["verified"] == "centre"
    field, code, message = _refused(_order(api, {"type": "b2c", "donation_code": "9999"}))
    assert (field, code) == ("invoice.donation_code", "invalid_donation_code")
    assert "not known" in message
    # A bad format is refused by the rule alone: the centre is not asked.
    asked = len(ecpay.received)
    assert _refused(_order(api, {"type": "b2c", "donation_code": "12"}))[1] == (
        "invalid_donation_code"
    )
    assert len(ecpay.received) == asked


@pytest.mark.parametrize("mode", ["down", "hang", "garbage", "unclear"])
def test_a_centre_down_slow_or_unclear_never_holds_the_order_up(api, shop, db, ecpay, mode):
    if mode == "unclear":
        ecpay.refuse_next["/B2CInvoice/CheckBarcode"] = (ECPAY_BAD_FIELD, "系統忙碌")
    else:
        ecpay.mode = mode
    r = _order(api, {**MOBILE, "carrier_id": UNKNOWN})
    assert r.status_code == 201, r.text
    assert _request(db, r.json()["number"])["verified"] == "format"
    assert len(_exchanges(db, UNKNOWN)) == 1  # asked once, kept


def test_without_a_centre_the_format_decides_and_says_so(api, shop, db):
    r = _order(api, {**MOBILE, "carrier_id": UNKNOWN})
    assert r.status_code == 201, r.text
    assert _request(db, r.json()["number"])["verified"] == "format"
    assert _exchanges(db, UNKNOWN) == []


def test_certificates_and_company_invoices_are_not_asked(api, shop, db, ecpay):
    r = _order(
        api, {"type": "b2c", "carrier_type": "certificate", "carrier_id": "AB12345678901234"}
    )
    assert r.status_code == 201, r.text
    assert "verified" not in _request(db, r.json()["number"])
    assert not ecpay.received


def test_the_order_edit_and_the_tracking_page_ask_the_centre(api, shop, db, ecpay):
    r = _order(api, None)
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    refused = api.patch(f"/api/v1/orders/{n}", json={"invoice": {**MOBILE, "carrier_id": UNKNOWN}})
    assert _refused(refused)[:2] == ("invoice.carrier_id", "invalid_carrier_id")
    assert _request(db, n) == {"type": "b2c"}
    done = api.patch(f"/api/v1/orders/{n}", json={"invoice": {**MOBILE, "carrier_id": KNOWN}})
    assert done.status_code == 200, done.text
    assert _request(db, n)["verified"] == "centre"
    token = db.read(
        lambda c: c.execute(select(Order.tracking_token).where(Order.number == n)).scalar_one()
    )
    from dingdan.domain.shared.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused_there:
        invoice_choice.ask(db, token, {"type": "b2c", "donation_code": "9999"})
    assert refused_there.value.errors[0].code == "invalid_donation_code"
    ecpay.mode = "down"
    kept = invoice_choice.ask(db, token, {"type": "b2c", "donation_code": "9999"})
    assert kept == {"type": "b2c", "donation_code": "9999", "verified": "format"}
