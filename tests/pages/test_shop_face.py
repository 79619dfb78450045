"""The shop's own face (issue 21, part 8): its name, logo, colours, contact, return policy
and return address on the customer's tracking page, on packing slips and in messages,
instead of Dingdan's name; the logo uploaded, resized by Pillow and served by Dingdan."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from dingdan.db.order_tables import Order
from dingdan.services.fulfilment import packing_slips  # noqa: F401 - the slip's service
from dingdan.services.messaging import outbound
from dingdan.services.orders import queries
from dingdan.services.payments import transactions
from dingdan.services.shared import documents, shop
from tests.builders import ADMIN

FACE = {
    "name": "茶之鄉 Tea Corner",
    "email": "hello@teacorner.tw",
    "phone": "+886 2 2345 6789",
    "line_id": "@teacorner",
    "color": "#0F766E",
    "accent_color": "#b45309",
    "return_policy": "七天鑑賞期：未拆封商品可退。\nUnopened items within 7 days.",
    "return_address": "台北市大安區復興南路一段1號 退貨組",
}


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


def _png(width: int = 1200, height: int = 600, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _put_face(api: Any) -> dict[str, Any]:
    r = api.request("PUT", "/api/v1/settings/shop", json=FACE)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _upload(api: Any, data: bytes, name: str = "logo.png", role: str = "admin") -> Any:
    return api.request(
        "PUT",
        "/api/v1/settings/shop/logo",
        files={"file": (name, data, "application/octet-stream")},
        role=role,
    )


def test_the_logo_is_resized_stored_and_served_by_dingdan(api, client):
    _put_face(api)
    r = _upload(api, _png(fmt="JPEG"), "logo.jpg")
    assert r.status_code == 200, r.text
    logo = r.json()["logo"]
    assert logo.startswith("/shop/logo?v=")
    assert r.json()["name"] == FACE["name"] and r.json()["color"] == "#0f766e"
    served = client.get(logo)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.format == "PNG" and img.size == (512, 256)
    assert client.get(logo, headers={"If-None-Match": served.headers["etag"]}).status_code == 304
    # Saving the other fields keeps the logo; removing it removes it.
    assert _put_face(api)["logo"] == logo
    gone = api.request("DELETE", "/api/v1/settings/shop/logo")
    assert gone.status_code == 200 and gone.json()["logo"] == ""
    assert client.get("/shop/logo").status_code == 404


def test_a_logo_that_is_not_an_image_or_too_large_is_refused_and_nothing_changes(api):
    def refused(data: bytes, name: str = "logo.png") -> str:
        r = _upload(api, data, name)
        assert r.status_code == 422, r.text
        [error] = r.json()["errors"]
        assert error["field"] == "logo"
        return str(error["code"])

    assert refused(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg") == "wrong_file_type"
    assert refused(b"%PDF-1.7 not a logo") == "wrong_file_type"
    assert refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200) == "not_an_image"
    assert refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * (shop.LOGO_MAX_BYTES + 1)) == "file_too_large"
    assert refused(b"") == "empty_file"
    assert api.get("/api/v1/settings/shop").json()["logo"] == ""
    assert _upload(api, _png(), role="warehouse").status_code == 403


def test_a_colour_must_be_a_hex_colour(api):
    r = api.request("PUT", "/api/v1/settings/shop", json={**FACE, "color": "red; x: y"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["color"]


def test_the_tracking_page_shows_the_shops_name_logo_colours_and_contact(shop, api, client):
    del shop
    _put_face(api)
    logo = _upload(api, _png()).json()["logo"]
    token = api.db.read(lambda c: c.execute(select(Order.tracking_token)).scalars().first())
    page = client.get(f"/track/{token}")
    assert page.status_code == 200
    html = page.text
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and "茶之鄉 Tea Corner" in title.group(1) and "Dingdan" not in title.group(1)
    brand = re.search(r'<span class="brand shop-brand".*?</span></span>', html, re.S)
    assert brand and f'src="{logo.replace("&", "&amp;")}"' in brand.group(0)
    assert "Dingdan" not in brand.group(0) and "訂單" not in brand.group(0)
    for text in ("hello@teacorner.tw", "+886 2 2345 6789", "@teacorner", "七天鑑賞期"):
        assert text in html
    assert "復興南路一段1號" in html
    assert '<link rel="stylesheet" href="/shop/theme.css">' in html
    css = client.get("/shop/theme.css").text
    assert "--brand: #0f766e;" in css and "--accent: #b45309;" in css


def test_the_tracking_page_without_settings_still_works(shop, client, db):
    del shop
    token = db.read(lambda c: c.execute(select(Order.tracking_token)).scalars().first())
    html = client.get(f"/track/{token}").text
    assert 'id="shop-brand"' in html and "hello@" not in html
    assert client.get("/shop/theme.css").text == ""


def test_the_packing_slip_and_its_pdf_show_the_shop(shop, api, db, browser):
    _put_face(api)
    _upload(api, _png())
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    b = browser("warehouse")
    html = b.get(f"/orders/{number}/packing-slip").text
    for text in ("茶之鄉 Tea Corner", "hello@teacorner.tw", "LINE @teacorner", "七天鑑賞期"):
        assert text in html
    assert 'class="slip-logo"' in html and 'src="data:image/png;base64,' in html
    assert "<title>" in html and "· 茶之鄉 Tea Corner</title>" in html
    r = b.post(f"/orders/{number}/packing-slip.pdf", {"size": "a4"})
    assert r.status_code == 303
    assert documents.render_pending(db, render=lambda h: b"%PDF-1.7 " + h.encode()) == 1
    pdf = b.get(f"/orders/{number}/packing-slip.pdf").content
    assert "茶之鄉 Tea Corner".encode() in pdf and b"data:image/png;base64," in pdf
    assert "復興南路一段1號".encode() in pdf


def test_messages_carry_the_shops_contact_and_the_logo_dingdan_serves(shop, api, db):
    _put_face(api)
    logo = _upload(api, _png()).json()["logo"]
    number = shop["order"]["number"]

    def ctx(conn: Any) -> dict[str, Any]:
        order = queries.fetch(conn, number)
        return outbound.context(conn, order, {})

    face = db.read(ctx)["shop"]
    assert face["name"] == FACE["name"] and face["line_id"] == "@teacorner"
    assert face["return_policy"].startswith("七天鑑賞期")
    assert face["logo_url"].startswith("http") and face["logo_url"].endswith(logo)


def test_the_settings_page_uploads_a_logo_and_refuses_a_text_file(shop, browser):
    del shop
    b = browser("manager")
    html = b.get("/settings/messages").text
    assert 'id="logo-form"' in html and 'name="line_id"' in html
    r = b.client.post(
        "/settings/messages/shop/logo",
        data={"csrf_token": b.csrf},
        files={"logo": ("notes.txt", b"hello", "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "PNG, JPEG or WebP" in r.text  # the page again
    r = b.client.post(
        "/settings/messages/shop/logo",
        data={"csrf_token": b.csrf},
        files={"logo": ("logo.png", _png(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'id="current-logo"' in b.get("/settings/messages").text
