"""Every form of every page, found by following the links of the back office as each role
(and of the tracking page, signed out), posted with values Hypothesis makes: Unicode digits,
full-width digits, inf, nan, huge and negative numbers, blanks, NUL, bidi and zero-width
marks. Whatever is typed, the answer is never a 5xx (the app's exceptions are raised into
the test, so the traceback of a crash is what fails).

Bounded: a few examples per form and role (the shop's states are built once per test so
that the forms of each step, from payment to refund, are on some page)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dingdan.domain.access.roles import Role
from dingdan.services.after_sales import disputes, returns
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.web.pages.orders.tracking import RateLimit
from tests.builders import ADMIN, WANG, order_body

WEIRD = [
    "²",
    "³",
    "١٢",
    "１２",
    "１，３２０",
    "1,320",
    "1,320.50",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e400",
    "9" * 40,
    "99999999999999999999",
    "2147483648",
    "-1",
    "-99999999999",
    "0",
    "0.01",
    "",
    " ",
    "\x00",
    "1\x00",
    "\u200f12",
    "\u202e\u202e",
    "\u200b",
    "<b>x</b>",
    "%(x)s",
    "TEA-001",
    "TPE",
]
# Posted into every field of every form, one after the other: the values known to have
# crashed a parser (the rest of WEIRD is drawn by Hypothesis).
EVERY_FORM = ["²", "１２", "1,320", "inf", "nan", "9" * 40, "-1", "", "\x00", "\u200f12"]
VALUE = st.one_of(
    st.sampled_from(WEIRD),
    st.text(max_size=12),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
# Forms that would end the session or lock the account the crawl signs in with.
SKIPPED = re.compile(r"^/(logout|login|language|account/password|settings/users/\d+)$")
# Path segments after these name one object; forms on two objects of a kind are one form.
KINDS = {
    "carriers",
    "channels",
    "products",
    "inventory",
    "users",
    "locations",
    "orders",
    "returns",
    "disputes",
    "shipments",
    "track",
    "customers",
}
LITERAL = {"import", "new", "receive", "adjust", "transfer", "template.csv"}
MAX_PAGES = 80


class _Forms(HTMLParser):
    """The links and forms of one page: each form's action, method and field values."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": {},
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            if a.get("type") == "file":
                return
            values = self._form["fields"].setdefault(a["name"], [])
            if tag == "select":
                self._select = a["name"]
            else:
                values.append(a.get("value", ""))
        elif tag == "option" and self._form is not None and self._select:
            self._form["fields"][self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _template(path: str) -> str:
    parts = path.strip("/").split("/")
    out = [
        "{}" if i and parts[i - 1] in KINDS and p not in LITERAL else p for i, p in enumerate(parts)
    ]
    return "/" + "/".join(out)


def _crawl(client: Any, start: list[str]) -> dict[str, tuple[str, str, dict[str, list[str]]]]:
    """template -> (method, action, fields) of every form on the pages reached from
    ``start``; every page visited must answer below 500."""
    seen: set[str] = set()
    todo = list(start)
    forms: dict[str, tuple[str, str, dict[str, list[str]]]] = {}
    while todo and len(seen) < MAX_PAGES:
        url = todo.pop(0)
        if urlsplit(url).path in seen or "/static/" in url:
            continue
        seen.add(urlsplit(url).path)
        r = client.get(url)
        assert r.status_code < 500, url
        if r.status_code != 200 or "html" not in r.headers.get("content-type", ""):
            continue
        page = _Forms()
        page.feed(r.text)
        todo += [link for link in page.links if "logout" not in link]
        for form in page.forms:
            action = urlsplit(urljoin(url, form["action"] or url)).path
            if not SKIPPED.match(action):
                forms.setdefault(
                    form["method"] + " " + _template(action),
                    (form["method"], action, form["fields"]),
                )
    return forms


def _shop_in_every_state(db: Any, shop: dict[str, Any]) -> list[str]:
    """Orders and returns at each step, so that each step's form is on some page; the
    tracking pages of the shipped orders."""

    def placed() -> dict[str, Any]:
        return capture.place_order(db, ADMIN, order_body(buyer=WANG))[0]

    def shipped(order: dict[str, Any]) -> str:
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
        shipments.create_shipment(db, ADMIN, order["number"], {"carrier": "tcat"})
        return str(order["number"])

    one = shipped(shop["order"])
    two = shipped(placed())
    placed()  # open and unpaid: payment, cancel, line cancel, edit
    paid = placed()
    transactions.record_payment(db, ADMIN, paid["number"], {"amount": paid["total"]})
    line = [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]
    returns.request_return(db, ADMIN, one, {"lines": line})
    approved = returns.request_return(db, ADMIN, one, {"lines": line})["id"]
    returns.approve_return(db, ADMIN, approved)
    received = returns.request_return(db, ADMIN, two, {"lines": line})["id"]
    returns.approve_return(db, ADMIN, received)
    returns.receive_return(
        db,
        ADMIN,
        received,
        {
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
        },
    )
    disputes.open_dispute(db, ADMIN, two, {"type": "chargeback", "owner": "x", "summary": "y"})
    tokens = [shop["order"]["tracking_token"]]
    return [f"/track/{t}" for t in tokens]


def _fuzz(client: Any, csrf: str, form: tuple[str, str, dict[str, list[str]]], n: int) -> None:
    method, action, fields = form
    names = sorted(n for n in fields if n != "csrf_token")
    if not names:
        return

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        st.fixed_dictionaries(
            {
                name: st.one_of(st.sampled_from([v for v in fields[name] if v] or [""]), VALUE)
                for name in names
            }
        )
    )
    def post(values: dict[str, str]) -> None:
        if method == "post":
            r = client.post(action, data={"csrf_token": csrf, **values}, follow_redirects=False)
        else:
            r = client.get(action, params=values)
        assert r.status_code < 500, (action, values)

    post()


def _every_weird_value(client: Any, csrf: str, form: tuple[str, str, dict[str, list[str]]]) -> None:
    """Each of EVERY_FORM in every field at once."""
    method, action, fields = form
    for value in EVERY_FORM:
        values = {name: value for name in fields if name != "csrf_token"}
        if method == "post":
            r = client.post(action, data={"csrf_token": csrf, **values}, follow_redirects=False)
        else:
            r = client.get(action, params=values)
        assert r.status_code < 500, (action, values)


def test_no_form_on_any_page_answers_a_5xx_whatever_is_typed(shop, browser, db, app):
    app.state.track_limiter = RateLimit(limit=100_000)  # its limit is tested elsewhere
    tracking = _shop_in_every_state(db, shop)
    visitor = browser()
    for url in tracking:
        page = visitor.get(url)
        visitor.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    crawled = {"": (visitor, _crawl(visitor.client, tracking))}
    for role in Role:
        b = browser(role.value)
        crawled[role.value] = (b, _crawl(b.client, ["/", *tracking]))
    assert any("post /returns/{}/receive" in f for _, f in crawled.values())
    assert any("post /track/{}/returns" in f for _, f in crawled.values())
    done: set[str] = set()
    for b, forms in crawled.values():
        for key, form in sorted(forms.items()):
            if key not in done:
                _every_weird_value(b.client, b.csrf, form)
            _fuzz(b.client, b.csrf, form, 1 if key in done else 3)
            done.add(key)
