"""T-cat and HCT labels from the seller's pre-assigned number ranges: ranges checked as
typed, numbers taken gaplessly at shipment creation (threads included), and the printed
label's barcode read back from the rendered PDF by a barcode reader."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dingdan.domain.access.roles import Role
from dingdan.domain.fulfilment import labels as rules
from dingdan.domain.shared.errors import Conflict
from dingdan.services.fulfilment import labels, shipments
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.services.shared.common import Actor
from tests.builders import ADMIN, Shop, lines, order_body, pay, post_order
from tests.helpers import run_threads
from tests.pages.conftest import PASSWORD, Browser

WAREHOUSE = Actor("test:warehouse", Role.WAREHOUSE)

stocked = Shop(
    products={"TEA-001": {"price": "350.00", "name": "凍頂烏龍茶 150g"}},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 200}},
).fixture()


def tcat(serial: int) -> str:
    return f"{serial:011d}{serial % 7}"


def add(api, role="admin", **body):
    return api.post("/api/v1/label-ranges", json=body, role=role)


def paid_order(api, *, method="bank_transfer", quantity=1):
    o = post_order(api, order_body(lines(("TEA-001", quantity)), payment_method=method))
    if method != "cod":
        pay(api, o)
    return o


def ship(api, number, carrier="tcat", **extra):
    return api.post(
        f"/api/v1/orders/{number}/shipments", json={"carrier": carrier, **extra}, role="warehouse"
    )


# ---- ranges ---------------------------------------------------------------------------------


def test_a_tcat_number_ends_in_the_rest_of_its_serial_divided_by_7():
    assert rules.number_of(12345678901, 12, "mod7") == "123456789013"
    assert rules.has_valid_mod7("123456789013") and not rules.has_valid_mod7("123456789014")
    assert rules.number_of(42, 10, "none") == "0000000042"


def test_ranges_are_refused_field_by_field_and_overlaps_are_conflicts(api, stocked):
    r = add(api, carrier="tcat", start="123456789016", end=tcat(12345678999))
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("start", "label_check_digit")]
    r = add(api, carrier="tcat", start="12345", end="12345")
    assert {e["code"] for e in r.json()["errors"]} == {"invalid_label_number"}
    r = add(api, carrier="tcat", start=tcat(20), end=tcat(10))
    assert [e["code"] for e in r.json()["errors"]] == ["track_end_before_start"]
    r = add(api, carrier="dhl", start="12345678", end="12345679")
    assert r.status_code == 422
    r = add(api, carrier="tcat", start=tcat(100), end=tcat(199))
    assert r.status_code == 201, r.text
    assert r.json() | {"id": "", "created_at": "", "created_by": ""} == {
        "id": "",
        "carrier": "tcat",
        "start": tcat(100),
        "end": tcat(199),
        "check_digit": "mod7",
        "next": tcat(100),
        "used": 0,
        "remaining": 100,
        "created_by": "",
        "created_at": "",
    }
    assert add(api, carrier="tcat", start=tcat(150), end=tcat(250)).status_code == 409
    assert add(api, carrier="tcat", start=tcat(200), end=tcat(250)).status_code == 201
    assert add(api, carrier="tcat", start=tcat(1), end=tcat(2), role="warehouse").status_code == 403
    listed = api.get("/api/v1/label-ranges?carrier=tcat").json()["items"]
    assert [i["start"] for i in listed] == [tcat(100), tcat(200)]


def test_hct_ranges_are_plain_consecutive_numbers(api, stocked):
    r = add(api, carrier="hct", start="8800000001", end="8800000002")
    assert r.status_code == 201, r.text
    assert r.json()["check_digit"] == "none"
    numbers = [
        ship(api, paid_order(api)["number"], "hct").json()["tracking_number"] for _ in range(2)
    ]
    assert numbers == ["8800000001", "8800000002"]


# ---- numbers at shipment creation ------------------------------------------------------------


def test_a_shipment_without_a_number_takes_the_next_in_order_until_the_ranges_are_used_up(
    api, stocked
):
    # No range for the carrier: the shipment goes without a number, as before.
    assert ship(api, paid_order(api)["number"]).json()["tracking_number"] is None
    add(api, carrier="tcat", start=tcat(500), end=tcat(501))
    add(api, carrier="tcat", start=tcat(900), end=tcat(900))
    got = [ship(api, paid_order(api)["number"]).json()["tracking_number"] for _ in range(3)]
    assert got == [tcat(500), tcat(501), tcat(900)]
    # A number typed by staff is kept and takes nothing from the ranges.
    typed = ship(api, paid_order(api)["number"], tracking_number="987654321098")
    assert typed.json()["tracking_number"] == "987654321098"
    # Used up: the shipment is refused whole (nothing shipped), the order still open to ship.
    last = paid_order(api)["number"]
    r = ship(api, last)
    assert r.status_code == 409, r.text
    assert api.get(f"/api/v1/orders/{last}").json()["fulfillment_status"] == "unfulfilled"
    add(api, carrier="tcat", start=tcat(1000), end=tcat(1000))
    assert ship(api, last).json()["tracking_number"] == tcat(1000)
    ranges = api.get("/api/v1/label-ranges").json()["items"]
    assert [(i["used"], i["remaining"], i["next"]) for i in ranges] == [
        (2, 0, None),
        (1, 0, None),
        (1, 0, None),
    ]


def test_numbers_are_gapless_and_unique_under_concurrent_shipments(db, stocked):
    labels.add_range(db, ADMIN, {"carrier": "tcat", "start": tcat(7000), "end": tcat(7099)})
    numbers = []
    for _ in range(8):
        order, _ = capture.place_order(db, ADMIN, order_body(lines(("TEA-001", 1))))
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
        numbers.append(order["number"])
    taken: list[str] = []

    def one(i: int) -> None:
        s = shipments.create_shipment(db, WAREHOUSE, numbers[i], {"carrier": "tcat"})
        taken.append(s["tracking_number"])

    assert run_threads(len(numbers), one) == []
    assert sorted(taken) == [tcat(7000 + i) for i in range(8)]
    view = labels.list_ranges(db, "tcat")["items"][0]
    assert (view["used"], view["next"]) == (8, tcat(7008))


def test_a_shipment_refused_after_taking_its_number_gives_the_number_back(db, stocked):
    labels.add_range(db, ADMIN, {"carrier": "tcat", "start": tcat(300), "end": tcat(301)})
    order, _ = capture.place_order(db, ADMIN, order_body(lines(("TEA-001", 1))))
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    with pytest.raises(Conflict):
        db.write(lambda conn: _take_then_fail(conn))
    s = shipments.create_shipment(db, WAREHOUSE, order["number"], {"carrier": "tcat"})
    assert s["tracking_number"] == tcat(300)


def _take_then_fail(conn):
    assert labels.take_number(conn, "tcat").number == tcat(300)
    raise Conflict(detail="rolled back")


# ---- the label -------------------------------------------------------------------------------


def test_the_label_carries_the_number_the_recipient_and_the_amount_to_collect(api, stocked):
    add(api, carrier="tcat", start=tcat(4000), end=tcat(4010))
    o = paid_order(api, method="cod", quantity=3)
    s = ship(api, o["number"]).json()
    r = api.get(f"/api/v1/shipments/{s['id']}/label", role="warehouse")
    assert r.status_code == 200, r.text
    label = r.json()
    assert label["number"] == s["tracking_number"] == tcat(4000)
    assert label["recipient"]["name"] == "王小明" and label["recipient"]["phone"] == "+886912345678"
    assert label["recipient"]["line1"] == "信義路五段7號"
    assert label["cod"] is True and label["cod_amount"] == o["total"]
    assert label["pieces"] == 3 and label["order"] == o["number"]
    assert (label["width_mm"], label["height_mm"]) == (100, 100)
    assert api.get(f"/api/v1/shipments/{s['id']}/label", role="viewer").status_code == 403
    audit = api.get(f"/api/v1/audit?resource=order:{o['number']}").json()["items"]
    assert any(a["action"] == "view" for a in audit)
    paid = ship(api, paid_order(api)["number"]).json()
    assert api.get(f"/api/v1/shipments/{paid['id']}/label").json()["cod"] is False
    typed = ship(api, paid_order(api)["number"], tracking_number="987654321098").json()
    assert api.get(f"/api/v1/shipments/{typed['id']}/label").status_code == 404
    assert api.get("/api/v1/shipments/x²/label").status_code == 404


@pytest.mark.skipif(not shutil.which("zbarimg") or not shutil.which("pdftoppm"), reason="no zbar")
def test_the_printed_label_barcode_reads_back_as_the_tracking_number(
    api, stocked, client, tmp_path
):
    from dingdan.services.access import accounts

    add(api, carrier="tcat", start=tcat(123456), end=tcat(123460))
    o = paid_order(api, method="cod")
    s = ship(api, o["number"]).json()
    accounts.create_user(
        api.db, ADMIN, email="pack@example.com", role="warehouse", password=PASSWORD
    )
    browser = Browser(client)
    assert browser.sign_in("pack@example.com").status_code == 303
    order_page = client.get(f"/orders/{o['number']}")
    assert f'href="/shipments/{s["id"]}/label"' in order_page.text
    html = client.get(f"/shipments/{s['id']}/label")
    assert html.status_code == 200
    assert tcat(123456) in html.text and "<svg" in html.text and "王小明" in html.text
    pdf = client.get(f"/shipments/{s['id']}/label.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "label.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "300",
            "-png",
            "-singlefile",
            str(tmp_path / "label.pdf"),
            str(tmp_path / "label"),
        ],
        check=True,
    )
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "label.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout.split() == [tcat(123456)]
