"""Convenience-store pickup through ECPay logistics, against the local stand-in
(tests/ecpay_logistics_fake.py): the store chosen on the map, the parcel made, ECPay's
signed status notices through pickup, the COD payout report settled; the parcel not picked
up; notices with a wrong MAC refused; a notice replayed changes nothing; a closed store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dingdan.config import Settings
from dingdan.db.cvs_logistics_tables import EcpayLogisticsExchange, EcpayParcel
from dingdan.db.message_tables import Message
from dingdan.db.order_tables import Order, OrderEvent, Shipment
from dingdan.db.tracking_tables import TrackingEventRow
from dingdan.domain.shared.errors import DomainError
from dingdan.services.fulfilment import ecpay_logistics
from dingdan.services.jobs import worker
from tests.builders import Buyer, order_body, post_order
from tests.ecpay_logistics_fake import FakeEcpayLogistics, map_reply
from tests.helpers import ADMIN, location, product, receive, run_threads

HOOK = "/hooks/ecpay/logistics/status"
SEVEN = {"type": "cvs_pickup", "brand": "FamilyMart", "store_id": "006598", "store_name": "南港"}


@pytest.fixture
def ecpay() -> Iterator[FakeEcpayLogistics]:
    fake = FakeEcpayLogistics().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(db_url: str, ecpay: FakeEcpayLogistics) -> Settings:
    return Settings(
        database_url=db_url,
        run_worker=False,
        max_body_bytes=1024 * 1024,
        public_url="http://testserver",
        ecpay_logistics_url=ecpay.url,
        ecpay_logistics_sender_name="茶行",
        ecpay_logistics_sender_phone="0987654321",
    )


@pytest.fixture
def shop(db: Any) -> Any:
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 50})
    return db


def _cod_order(api: Any, **over: Any) -> dict[str, Any]:
    body = order_body(payment_method="cod", delivery=dict(SEVEN), **over)
    return post_order(api, body)


def _order_row(db: Any, number: str) -> Any:
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def _choose_on_map(api: Any, ecpay: FakeEcpayLogistics, number: str, brand: str) -> Any:
    """Staff open ECPay's map from the order, the stand-in picks its store, and the
    browser posts the choice back to us."""
    r = api.get(f"/api/v1/orders/{number}/cvs-map", params={"brand": brand})
    assert r.status_code == 200, r.text
    form = r.json()
    page = httpx.post(form["url"], data=form["fields"]).text
    action, fields = map_reply(page)
    assert action.startswith("http://testserver/hooks/ecpay/logistics/map/")
    path = action.removeprefix("http://testserver")
    return api.client.post(path, data=fields, follow_redirects=False)


def _ship(api: Any, number: str, **body: Any) -> dict[str, Any]:
    r = api.post(f"/api/v1/orders/{number}/cvs-shipments", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _notice(api: Any, ecpay: FakeEcpayLogistics, lid: str, code: str, at: str) -> Any:
    form = ecpay.notice(lid, code, f"status {code}", at)
    return api.client.post(HOOK, data=form)


def _shipment(db: Any, sid: str) -> Any:
    return db.read(lambda c: c.execute(select(Shipment).where(Shipment.id == int(sid))).one())


def _count(db: Any, table: Any) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one()))


def test_a_cvs_pickup_order_from_the_map_to_pickup_and_cod_settlement(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    back = _choose_on_map(api, ecpay, number, "7-ELEVEN")
    assert back.status_code == 303 and back.headers["location"] == f"/orders/{number}/cvs"
    seen = api.get(f"/api/v1/orders/{number}").json()["delivery"]
    assert (seen["brand"], seen["store_id"], seen["store_name"]) == (
        "7-ELEVEN",
        "991182",
        "馥樺門市",
    )
    assert _order_row(db, number).delivery == {
        "type": "cvs_pickup",
        "brand": "7-ELEVEN",
        "store_id": "991182",
        "store_name": "馥樺門市",
        "address": "台北市南港區三重路23號1樓",
    }

    made = _ship(api, number)
    parcel, shipment = made["parcel"], made["shipment"]
    assert parcel["state"] == "created" and parcel["collection_amount"] == 760
    assert parcel["logistics_sub_type"] == "UNIMART"
    assert shipment["carrier"] == "seven_eleven"
    assert shipment["tracking_number"] == parcel["payment_no"]
    sent = [r for r in ecpay.received if r.path == "/Express/Create"]
    assert len(sent) == 1 and sent[0].form["IsCollection"] == "Y"
    assert sent[0].form["CollectionAmount"] == "760" and sent[0].form["ReceiverStoreID"] == "991182"
    kept = api.get(f"/api/v1/orders/{number}/cvs-parcels").json()["exchanges"]
    assert [(x["direction"], x["operation"], x["outcome"]) for x in kept] == [
        ("out", "create", "ok")
    ]
    assert "AllPayLogisticsID=" in kept[0]["response_body"]
    assert "CheckMacValue=" in kept[0]["request_body"]

    label = api.get(f"/api/v1/shipments/{shipment['id']}/cvs-label").json()
    assert label["url"].endswith("/helper/printTradeDocument")
    printed = httpx.post(label["url"], data=label["fields"]).text
    assert parcel["logistics_id"] in printed

    lid = parcel["logistics_id"]
    steps = [
        ("2030", "2026/12/08 09:00:00", "in_transit"),
        ("2073", "2026/12/09 10:00:00", "out_for_delivery"),
        ("2067", "2026/12/10 18:30:00", "delivered"),
    ]
    for code, at, status in steps:
        r = _notice(api, ecpay, lid, code, at)
        assert (r.status_code, r.text) == (200, "1|OK")
        assert _shipment(db, shipment["id"]).status == status
    worker.drain(db)
    told = db.read(
        lambda c: [
            m.kind
            for m in c.execute(
                select(Message.kind).where(Message.order_number == number).order_by(Message.id)
            )
        ]
    )
    assert told[-3:] == ["shipped", "out_for_delivery", "delivered"]

    report = (
        "廠商交易編號,物流交易編號,代收金額,撥款日期\n"
        f"{parcel['trade_no']},{lid},760,2026/12/15\n"
        "NOSUCH1,,120,2026/12/15\n"
    ).encode()
    r = api.post(
        "/api/v1/cod-payouts",
        files={"file": ("ecpay-cod-20261215.csv", report, "text/csv")},
        role="finance",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["matched"], r.json()["differences"]) == (1, 1)
    after = api.get(f"/api/v1/orders/{number}").json()
    assert after["financial_status"] == "paid" and after["status"] == "completed"
    diffs = api.get("/api/v1/cod-payouts/differences", role="finance").json()["items"]
    assert [(d["trade_no"], d["outcome"]) for d in diffs] == [("NOSUCH1", "unknown_parcel")]
    again = api.post(
        "/api/v1/cod-payouts",
        files={"file": ("other.csv", report, "text/csv")},
        role="finance",
    )
    assert again.status_code == 201 and again.json()["matched"] == 0
    assert _order_row(db, number).paid_minor == 76000


def test_a_parcel_not_picked_up_goes_back_to_the_sender(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    made = _ship(api, number)
    lid, sid = made["parcel"]["logistics_id"], made["shipment"]["id"]
    assert made["parcel"]["logistics_sub_type"] == "FAMI"
    assert _notice(api, ecpay, lid, "3018", "2026/12/09 10:00:00").text == "1|OK"
    assert _notice(api, ecpay, lid, "3020", "2026/12/16 10:00:00").text == "1|OK"
    s = _shipment(db, sid)
    assert (s.status, s.exception) == ("exception", "returned_to_sender")
    late = _notice(api, ecpay, lid, "3022", "2026/12/17 10:00:00")
    assert late.text == "1|OK" and _shipment(db, sid).status == "exception"
    assert _order_row(db, number).paid_minor == 0


def test_a_notice_with_a_wrong_mac_is_refused_and_the_order_unchanged(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    made = _ship(api, number)
    lid, sid = made["parcel"]["logistics_id"], made["shipment"]["id"]
    events_before = _count(db, OrderEvent)
    form = ecpay.notice(lid, "3022", "picked up", "2026/12/10 10:00:00")
    tampered = {**form, "RtnCode": "3022", "GoodsAmount": "1"}
    unsigned = {k: v for k, v in form.items() if k != "CheckMacValue"}
    for bad in (tampered, unsigned, {**form, "CheckMacValue": "0" * 32}):
        r = api.client.post(HOOK, data=bad)
        assert r.status_code == 400 and r.text.startswith("0|")
    assert _shipment(db, sid).status == "shipped"
    assert _count(db, OrderEvent) == events_before
    assert _count(db, TrackingEventRow) == 0
    refused = db.read(
        lambda c: c.execute(
            select(func.count())
            .select_from(EcpayLogisticsExchange)
            .where(
                EcpayLogisticsExchange.direction == "in",
                EcpayLogisticsExchange.outcome == "refused",
            )
        ).scalar_one()
    )
    assert refused == 3


def test_a_replayed_notice_changes_nothing(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    made = _ship(api, number)
    lid, sid = made["parcel"]["logistics_id"], made["shipment"]["id"]
    assert _notice(api, ecpay, lid, "3018", "2026/12/09 10:00:00").text == "1|OK"
    events, tracked = _count(db, OrderEvent), _count(db, TrackingEventRow)
    for _ in range(2):
        assert _notice(api, ecpay, lid, "3018", "2026/12/09 10:00:00").text == "1|OK"
    assert (_count(db, OrderEvent), _count(db, TrackingEventRow)) == (events, tracked)
    assert _shipment(db, sid).status == "out_for_delivery"


def test_a_closed_store_asks_the_customer_to_choose_another(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    made = _ship(api, number)
    lid, sid = made["parcel"]["logistics_id"], made["shipment"]["id"]
    refused = api.post(
        f"/api/v1/orders/{number}/cvs-store",
        json={"brand": "FamilyMart", "store_id": "001779", "store_name": "新店"},
    )
    assert refused.status_code == 409
    worker.drain(db)
    assert _notice(api, ecpay, lid, "2101", "2026/12/09 10:00:00").text == "1|OK"
    assert _notice(api, ecpay, lid, "2101", "2026/12/09 10:00:00").text == "1|OK"  # again
    s = _shipment(db, sid)
    assert (s.status, s.exception) == ("exception", "address_issue")
    worker.drain(db)
    told = db.read(
        lambda c: c.execute(
            select(Message.kind, Message.text_body).where(Message.order_number == number)
        ).all()
    )
    choose = [t for k, t in told if k == "choose_store"]
    assert len(choose) == 1 and "/cvs-map" in choose[0]
    assert "delivery_exception" not in [k for k, _ in told]
    parcels = api.get(f"/api/v1/orders/{number}/cvs-parcels").json()["items"]
    assert parcels[0]["store_closed"] is True
    token = _order_row(db, number).tracking_token
    page = api.client.get(f"/track/{token}")
    assert f"/track/{token}/cvs-map" in page.text
    r = api.post(
        f"/api/v1/orders/{number}/cvs-store",
        json={"brand": "FamilyMart", "store_id": "001779", "store_name": "新店"},
    )
    assert r.status_code == 200, r.text
    assert _order_row(db, number).delivery["store_id"] == "001779"
    stored = db.read(lambda c: c.execute(select(EcpayParcel)).one())
    assert stored.store_closed_at is None


def test_ecpay_down_ships_nothing_and_the_same_parcel_goes_when_it_is_back(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    number = _cod_order(api)["number"]
    ecpay.mode = "down"
    r = api.post(f"/api/v1/orders/{number}/cvs-shipments", json={})
    assert r.status_code == 503, r.text
    assert _count(db, Shipment) == 0
    ecpay.mode = "up"
    made = _ship(api, number)
    trade_nos = {x.form["MerchantTradeNo"] for x in ecpay.received if x.path == "/Express/Create"}
    assert trade_nos == {made["parcel"]["trade_no"]}
    assert _count(db, EcpayParcel) == 1


def test_a_store_typed_by_staff_is_the_orders_delivery(api: Any, shop: Any) -> None:
    number = post_order(api, order_body())["number"]
    r = api.post(
        f"/api/v1/orders/{number}/cvs-store",
        json={"brand": "OK", "store_id": "1328", "store_name": "OK南港店", "address": "玉成街"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "type": "cvs_pickup",
        "brand": "OK",
        "store_id": "1328",
        "store_name": "OK南港店",
        "address": "玉成街",
    }
    bad = api.post(
        f"/api/v1/orders/{number}/cvs-store",
        json={"brand": "OK", "store_id": "13 28", "store_name": "x"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "store_id"


def test_two_requests_at_once_make_one_parcel_and_one_shipment(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics, settings: Settings
) -> None:
    number = _cod_order(api)["number"]
    client = ecpay_logistics.Client.from_settings(settings, db)
    errors = run_threads(3, lambda i: ecpay_logistics.ship(db, client, ADMIN, number, {}))
    assert len(errors) == 2 and all(isinstance(e, DomainError) for e in errors), errors
    assert _count(db, Shipment) == 1
    parcels = db.read(lambda c: c.execute(select(EcpayParcel)).all())
    assert [(p.state, p.shipment_id is not None) for p in parcels] == [("created", True)]
    made = [r for r in ecpay.received if r.path == "/Express/Create"]
    assert len(ecpay.parcels) == 1 and len(made) >= 1


def test_a_held_order_asks_ecpay_for_nothing(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    """A parcel is made at ECPay only for an order that may ship: an order held for risk
    review is refused before anything is sent, and ships once the hold is released."""
    r = api.post("/api/v1/risk/blocklist", json={"kind": "email", "value": "held@example.com"})
    assert r.status_code == 201, r.text
    number = _cod_order(api, buyer=Buyer("held@example.com", "王小明"))["number"]
    assert _order_row(db, number).hold == "risk_review"
    r = api.post(f"/api/v1/orders/{number}/cvs-shipments", json={})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "on_hold"
    assert [x for x in ecpay.received if x.path == "/Express/Create"] == []
    assert (_count(db, EcpayParcel), _count(db, Shipment)) == (0, 0)
    assert api.post(f"/api/v1/orders/{number}/risk/approve", json={}).status_code == 200
    made = _ship(api, number)
    assert _shipment(db, made["shipment"]["id"]).status == "shipped"
    parcel = db.read(lambda c: c.execute(select(EcpayParcel)).one())
    assert parcel.shipment_id == int(made["shipment"]["id"])


def test_a_notice_with_nul_characters_is_refused_and_kept(
    api: Any, db: Any, shop: Any, ecpay: FakeEcpayLogistics
) -> None:
    """PostgreSQL's text refuses U+0000: a hostile notice is answered 0|, not a 500, and
    still kept in the exchange log."""
    form = {"MerchantTradeNo": "X\x00Y", "RtnCode": "30\x0022", "CheckMacValue": "0" * 32}
    r = api.client.post(HOOK, data=form)
    assert r.status_code == 400 and r.text.startswith("0|"), r.text
    kept = db.read(
        lambda c: c.execute(
            select(EcpayLogisticsExchange).where(EcpayLogisticsExchange.direction == "in")
        ).one()
    )
    assert (kept.outcome, kept.trade_no, kept.code) == ("refused", "X\\x00Y", "30\\x0022")
