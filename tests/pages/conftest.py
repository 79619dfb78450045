"""Fixtures of the back-office page tests: a small shop, one user per role, and browsers
(TestClients with their own cookies) signed in through /login with the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dingdan.domain.access.roles import Role
from dingdan.services.access import accounts
from dingdan.services.orders import capture
from tests.builders import ADMIN, LIN, Shop, order_body

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


class Browser:
    """A TestClient with cookies, signed in as one user; ``csrf`` is the session's token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        self.csrf = csrf_of(self.client.get("/login").text)
        r = self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": self.csrf},
            follow_redirects=False,
        )
        if r.status_code == 303:  # signed in: the session has a new CSRF token
            self.csrf = csrf_of(self.client.get("/account").text)
        return r

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        kw.setdefault("follow_redirects", False)
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)


# The back office's shop: two products (one with a Chinese name) in TPE, TXG empty.
PAGES_SHOP = Shop(
    products={
        "TEA-001": {"price": "350.00", "barcode": "4710000000017", "name": "凍頂烏龍茶"},
        "MUG-001": {"price": "680.00", "barcode": "4710000000024"},
    },
    locations={"TPE": 0, "TXG": 1},
    stock={"TPE": {"TEA-001": 20, "MUG-001": 5}},
)


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    PAGES_SHOP.build(db)
    for role in Role:
        accounts.create_user(
            db, ADMIN, email=f"{role.value}@example.com", role=role.value, password=PASSWORD
        )
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    return {"order": order}


@pytest.fixture
def browser(app: Any) -> Iterator[Any]:
    """A factory of signed-in browsers: ``browser("finance")``."""
    clients: list[TestClient] = []

    def make(role: str | None = None) -> Browser:
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        b = Browser(client)
        if role:
            r = b.sign_in(f"{role}@example.com")
            assert r.status_code == 303, r.text
        return b

    yield make
    for c in clients:
        c.__exit__(None, None, None)
