"""Everything is escaped; every page carries the security headers and no inline script."""

from __future__ import annotations

import re

from dingdan.services.orders import customers
from dingdan.services.payments import transactions
from tests.builders import ADMIN, address, order_body, product, receive

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def _evil_shop(db):
    product(db, "EVIL-1", price="100.00", name=EVIL, barcode="999000111")
    receive(db, "TPE", {"EVIL-1": 10})
    from dingdan.services.orders import capture

    order, _ = capture.place_order(
        db,
        ADMIN,
        order_body(
            customer={"email": "evil@example.com", "name": EVIL, "phone": "+886911111111"},
            shipping_address=address(name=EVIL, line1=EVIL),
            lines=[{"sku": "EVIL-1", "quantity": 1}],
        ),
    )
    transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    return order


def test_a_product_and_a_customer_named_script_render_as_text_everywhere(shop, browser, db):
    order = _evil_shop(db)
    n = order["number"]
    cid = customers.list_customers(db, q="evil@").items[0]["id"]
    admin = browser("admin")
    admin.post(f"/orders/{n}/notes", {"note": EVIL})
    from dingdan.services.after_sales import disputes

    did = disputes.open_dispute(db, ADMIN, n, {"type": "late", "owner": EVIL, "summary": EVIL})[
        "id"
    ]
    disputes.add_message(db, ADMIN, did, {"direction": "inbound", "body": EVIL})
    pages = [
        "/",
        "/orders",
        f"/orders/{n}",
        f"/orders?q={EVIL}",
        "/products",
        "/products/EVIL-1",
        f"/products?q={EVIL}",
        "/inventory",
        "/inventory/EVIL-1",
        "/customers",
        f"/customers/{cid}",
        "/warehouse?location=TPE",
        f"/warehouse/pack/{n}?location=TPE",
        f"/orders/{n}/edit",
        f"/orders/{n}/packing-slip",
        "/warehouse/TPE/packing-slips",
        "/disputes",
        f"/disputes/{did}",
        f"/orders/{n}/disputes/new",
        "/audit",
        f"/track/{order['tracking_token']}",
    ]
    for path in pages:
        r = admin.get(path)
        assert r.status_code == 200, path
        assert EVIL not in r.text, path
        assert "<script>alert" not in r.text.lower(), path
    for path in pages[:-1]:
        if "?q=" in path or path in ("/", "/audit", "/warehouse/TPE/packing-slips"):
            continue
        assert ESCAPED in admin.get(path).text, path


def test_a_scanned_code_with_markup_is_shown_as_text(shop, browser, db):
    n = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    r = browser("warehouse").post(f"/warehouse/pack/{n}/scan", {"location": "TPE", "code": EVIL})
    assert EVIL not in r.text and ESCAPED in r.text


def test_every_page_has_the_security_headers_and_no_inline_script(shop, browser):
    admin = browser("admin")
    n = shop["order"]["number"]
    for path in [
        "/login",
        "/",
        "/orders",
        f"/orders/{n}",
        "/inventory",
        "/products",
        "/customers",
        "/settings",
        "/settings/users",
        "/audit",
        "/account",
        f"/track/{shop['order']['tracking_token']}",
        "/track/not-a-token-at-all",
    ]:
        r = admin.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert not INLINE_SCRIPT.search(r.text), path
        assert " on" not in re.sub(r"<[^>]*>", "", "") and not re.search(
            r"<[^>]+\son[a-z]+\s*=", r.text
        ), path


def test_static_files_and_htmx_are_served_locally(shop, browser):
    b = browser()
    r = b.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    assert b.get("/static/app.css").status_code == 200
    assert b.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert b.get("/static/..%2Fcore.py").status_code == 404
    assert b.get("/static/vendor/nothing.js").status_code == 404


def test_next_after_sign_in_stays_on_this_site(shop, browser):
    b = browser()
    b.get("/login")
    from tests.pages.conftest import PASSWORD, csrf_of

    token = csrf_of(b.get("/login").text)
    for target, expected in [
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/orders", "/orders"),
    ]:
        b.client.post("/logout", data={"csrf_token": token})
        token = csrf_of(b.get("/login").text)
        r = b.client.post(
            "/login",
            data={
                "email": "admin@example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == expected
