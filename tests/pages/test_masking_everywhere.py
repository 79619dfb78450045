"""Masking everywhere (issue 26, part 3): every GET operation of the OpenAPI and every GET
page, filled with a demo customer's order, customer id, return, dispute and shipment, as
each masked role: the customer's full email and phone appear in no answer (the shipping
address's phone only to the roles that ship), while a manager sees them. One shop for the
whole walk: it is the slow part."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from dingdan.domain.access.personal_data import MASKED_ROLES, SEES_SHIPPING_ADDRESS
from dingdan.domain.access.roles import Role
from dingdan.services.after_sales import disputes, returns
from dingdan.services.fulfilment import shipments
from dingdan.services.jobs import worker
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.services.reports.exports import KINDS
from dingdan.web.pages.fulfilment import bulk as bulk_pages
from tests.builders import ADMIN, Buyer, order_body

EMAIL = "mei.demo@example.com"
PHONE = "+886987654321"  # the customer's own
ADDRESS_PHONE = "+886911222333"  # the shipping address's: on labels
DEMO = Buyer(EMAIL, "陳美玲", phone=PHONE)


def _digits_pattern(phone: str) -> re.Pattern[str]:
    """The national digits however a page writes them: 0987654321, 987 654 321, 0987-654-321."""
    national = phone.removeprefix("+886")
    return re.compile(r"[\s\-.]?".join(national))


PHONE_SEEN = _digits_pattern(PHONE)
ADDRESS_PHONE_SEEN = _digits_pattern(ADDRESS_PHONE)
# Paths whose answer is a document rendered by the worker or a file of another kind: their
# HTML sources are walked instead (the packing slip page renders the same template). /live
# is an event stream that stays open (it carries names only: tests/integration/test_live_pages.py).
SKIPPED = re.compile(
    r"\.pdf$|/pdf$|/pdf-state$|/state$|^/docs|^/redoc|^/static|/openapi.json$"
    r"|^/shop/|^/favicon|/photos/|/evidence/|^/login$|/mig$|\.xml$|^/live$"
)
TOP_VIEWS = ("dimension=customers", "dimension=products")


def _demo_shop(db: Any) -> dict[str, str]:
    """The demo customer's orders in every state a page shows: shipped (tracking, a return,
    a dispute), paid and waiting to be picked (pick list, packing slips), and open."""

    def placed() -> dict[str, Any]:
        body = order_body(buyer=DEMO, shipping_address=DEMO.address(phone=ADDRESS_PHONE))
        return capture.place_order(db, ADMIN, body)[0]

    def paid(order: dict[str, Any]) -> dict[str, Any]:
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
        return order

    shipped = paid(placed())
    shipment = shipments.create_shipment(db, ADMIN, shipped["number"], {"carrier": "tcat"})
    waiting = paid(placed())
    placed()
    line = [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]
    ret = returns.request_return(db, ADMIN, shipped["number"], {"lines": line})
    dispute = disputes.open_dispute(
        db, ADMIN, shipped["number"], {"type": "chargeback", "owner": "x", "summary": "y"}
    )
    worker.run_once(db, 48)
    return {
        "number": shipped["number"],
        "waiting": waiting["number"],
        "customer_id": str(shipped["customer"]["id"]),
        "return_id": str(ret["id"]),
        "dispute_id": str(dispute["id"]),
        "shipment_id": str(shipment["id"]),
        "code": "TPE",
        "sku": "TEA-001",
    }


def _fill(path: str, ids: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    if any(n not in ids for n in names):
        return None
    return re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], path)


def _page_paths(app: Any) -> Iterator[str]:
    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                yield from walk(included.routes)
            else:
                yield route

    for route in walk(app.routes):
        methods = getattr(route, "methods", None) or ()
        if "GET" in methods and not getattr(route, "include_in_schema", True):
            yield route.path


def _urls(app: Any, ids: dict[str, str]) -> tuple[list[str], list[str]]:
    """(API URLs, page URLs) to read: each GET path filled with the demo's ids, the lists
    searched by the demo's email too, the exports of every kind, the top customers."""
    api_paths = [p for p, ops in app.openapi()["paths"].items() if "get" in ops]
    api = [u for p in api_paths if (u := _fill(p, ids)) and not SKIPPED.search(u)]
    api += [f"/api/v1/exports/{k}" for k in KINDS] + [
        f"/api/v1/exports/{k}?format=xlsx" for k in KINDS
    ]
    api += [
        f"/api/v1/orders?q={EMAIL}",
        f"/api/v1/customers?q={EMAIL}",
        f"/api/v1/orders?q={PHONE[4:]}",
        *(f"/api/v1/reports/top?{v}" for v in TOP_VIEWS),
    ]
    pages = [u for p in set(_page_paths(app)) if (u := _fill(p, ids)) and not SKIPPED.search(u)]
    pages += [f"/exports/{k}.{fmt}" for k in KINDS for fmt in ("csv", "xlsx")]
    pages += [
        f"/orders?q={EMAIL}",
        f"/customers?q={EMAIL}",
        f"/orders?q={PHONE[4:]}",
        *(f"/reports/top?{v}" for v in TOP_VIEWS),
        *(f"/reports/top/download.{f}?{v}" for v in TOP_VIEWS for f in ("csv", "xlsx")),
        f"/api/v1/locations/{ids['code']}/pick-list.html",
    ]
    return sorted(set(api)), sorted(set(pages))


def _text(r: Any) -> str:
    """The answer as text; a spreadsheet's sheets and shared strings unzipped."""
    if r.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return "".join(
                z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
            )
    return str(r.text)


def _searched_removed(url: str, body: str) -> str:
    """The page without the search term it echoes (the field's value, its links): what the
    user typed is not a leak; what the results show is."""
    typed = parse_qs(urlsplit(url).query).get("q")
    if not typed:
        return body
    echoes = [
        f'value="{typed[0]}"',
        f'value="{urlsplit(url).path}?q={typed[0]}"',
        f"q={quote(typed[0], safe='')}",
        f'q={typed[0]}"',
    ]
    for echo in echoes:
        body = body.replace(echo, "")
    return body


def _leaks(body: str, role: Role) -> list[str]:
    found = []
    if EMAIL in body:
        found.append("email")
    if PHONE_SEEN.search(body):
        found.append("phone")
    if role not in SEES_SHIPPING_ADDRESS and ADDRESS_PHONE_SEEN.search(body):
        found.append("address phone")
    return found


def test_masked_roles_never_see_the_demo_customers_email_or_phone(shop, api, browser, db, app):
    ids = _demo_shop(db)
    api_urls, page_urls = _urls(app, ids)
    assert len(api_urls) > 60 and len(page_urls) > 60
    leaks: list[tuple[str, str, list[str]]] = []
    answered: dict[str, set[str]] = {}
    labels: set[str] = set()  # where the roles that ship read the address's phone
    for role in sorted(MASKED_ROLES | {Role.MANAGER}):
        b = browser(role.value)
        shown = answered.setdefault(role.value, set())
        for url in api_urls + page_urls:
            r = api.get(url, role=role.value) if url.startswith("/api/") else b.get(url)
            assert r.status_code < 500, (role, url, r.text[:300])
            if r.status_code != 200:
                continue
            body = _searched_removed(url, _text(r))
            if role == Role.MANAGER:
                if EMAIL in body and PHONE_SEEN.search(body):
                    shown.add(url)
                continue
            if role in SEES_SHIPPING_ADDRESS and ADDRESS_PHONE_SEEN.search(body):
                labels.add(url)
            shown.add(url)
            if "q=" in url and "/orders" in url:  # the search finds by the full value
                assert ids["number"] in body, (role, url)
            if found := _leaks(body, role):
                leaks.append((role.value, url, found))
    assert leaks == [], "\n".join(map(str, leaks))
    manager = answered["manager"]
    for url in (
        f"/api/v1/orders/{ids['number']}",
        f"/orders/{ids['number']}",
        f"/api/v1/customers/{ids['customer_id']}/export",
        f"/customers?q={EMAIL}",
        f"/customers/{ids['customer_id']}",
        "/exports/orders.csv",
        f"/api/v1/orders?q={EMAIL}",
    ):
        assert url in manager, url
    assert (
        f"/orders/{ids['number']}/packing-slip" in labels
        and "/warehouse/TPE/packing-slips" in labels
    )
    # The masked roles did read the pages that show customers (not a walk of 403s).
    for role in MASKED_ROLES:
        assert f"/api/v1/orders/{ids['number']}" in answered[role.value]
        assert f"/orders?q={EMAIL}" in answered[role.value]


def _pdf_text(data: bytes) -> str:
    """A PDF's text, as pdftotext reads it (layout kept, so digits stay together)."""
    assert data[:5] == b"%PDF-", data[:40]
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8", "replace")


def test_the_pdfs_a_masked_role_opens_do_not_show_the_customers_email_or_phone(
    shop, browser, db, tmp_path, monkeypatch
):
    """The documents the warehouse prints (packing slips of one order and of a location, a
    pick list), for one demo order, read back from the PDFs; the customer's copy of their
    data (a PDF too) is not for the masked roles at all."""
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))  # the PDFs' files
    body = order_body(buyer=DEMO, shipping_address=DEMO.address(phone=ADDRESS_PHONE))
    order = capture.place_order(db, ADMIN, body)[0]
    number = order["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": order["total"]})
    warehouse = browser(Role.WAREHOUSE.value)
    for url, data in (
        (f"/orders/{number}/packing-slip.pdf", {}),
        ("/warehouse/TPE/packing-slips.pdf", {}),
        ("/bulk/orders/pick-lists", {"orders": [number]}),
    ):
        assert warehouse.post(url, data).status_code in (200, 303), url
    worker.run_once(db, 48)  # the documents are rendered by the worker
    subject = bulk_pages.subject_of([number])
    pdfs = [
        f"/orders/{number}/packing-slip.pdf",
        "/warehouse/TPE/packing-slips.pdf",
        f"/bulk/documents/{bulk_pages.PICK_KIND}/{subject}.pdf",
    ]
    texts = []
    for url in pdfs:
        r = warehouse.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        text = _pdf_text(r.content)
        assert number in text.replace(" ", ""), (url, text[:500])
        assert _leaks(text, Role.WAREHOUSE) == [], (url, text)
        texts.append(text)
    # The packing slip shows the address's phone (the carrier needs it): the reading is real.
    assert ADDRESS_PHONE_SEEN.search(texts[0]), texts[0]
    customer = order["customer"]["id"]
    for role in MASKED_ROLES:
        b = warehouse if role == Role.WAREHOUSE else browser(role.value)
        assert b.get(f"/customers/{customer}/export.pdf").status_code == 403, role
