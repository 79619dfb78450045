"""Sessions and secrets: sessions live on the server with an absolute lifetime and end at
sign-out, the CSRF token changes at sign-in, sign-in failures are throttled per email and
address alike for real and unknown emails, forwarded headers are believed only from
configured proxies, printed links use the configured public URL, and answers with personal
data are not cached. The clock is injected (``app.state.clock``, ``now=``): nothing sleeps."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient

from dingdan.app import create_app
from dingdan.config import Settings
from dingdan.services.access import accounts, sign_in
from dingdan.services.fulfilment import packing_slips
from dingdan.web.pages.orders import tracking
from dingdan.web.pages.shared.security import SESSION_COOKIE
from tests.pages.conftest import PASSWORD, Browser, csrf_of

PUBLIC = "https://shop.example.com"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, run_worker=False, public_url=PUBLIC + "/")


def _at(app: Any, when: datetime) -> None:
    app.state.clock = lambda: when


def _cookie(b: Browser) -> str:
    value = b.client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def _with_cookie(app: Any, cookie: str) -> TestClient:
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


# 13. A session ends on the server's clock, whatever the cookie says.


def test_a_session_ends_twelve_hours_after_sign_in_on_the_servers_clock(shop, browser, app):
    signed_in_at = datetime.now(UTC)
    _at(app, signed_in_at)
    b = browser("viewer")
    _at(app, signed_in_at + sign_in.SESSION_LIFETIME - timedelta(seconds=1))
    assert b.get("/", follow_redirects=False).status_code == 200
    _at(app, signed_in_at + sign_in.SESSION_LIFETIME)
    assert b.get("/", follow_redirects=False).status_code == 303


def test_a_forged_cookie_with_a_sign_in_time_in_the_future_is_not_a_session(
    shop, browser, app, settings, db
):
    """Whoever knows the signing key can write any cookie; without a session on the server
    it opens nothing (the cookie once held the user's id and a sign-in time)."""
    user = next(u for u in accounts.list_users(db) if u["email"] == "admin@example.com")
    stamp = sign_in.stamp(_password_hash(db, user["id"]))
    forged = {"uid": str(user["id"]), "stamp": stamp, "at": 4102444800, "csrf": "x" * 43}
    data = base64.b64encode(json.dumps(forged).encode())
    cookie = itsdangerous.TimestampSigner(settings.secret_key).sign(data).decode()
    client = _with_cookie(app, cookie)
    assert client.get("/", follow_redirects=False).status_code == 303


def _password_hash(db: Any, user_id: int) -> str:
    from sqlalchemy import select

    from dingdan.db.tables import User

    query = select(User.password_hash).where(User.id == int(user_id))
    return db.read(lambda conn: conn.execute(query).scalar())


# 14. Sign-out ends the session on the server; the CSRF token changes at sign-in.


def test_a_copied_cookie_stops_working_at_sign_out(shop, browser, app):
    b = browser("customer_service")
    copy = _with_cookie(app, _cookie(b))
    assert copy.get("/", follow_redirects=False).status_code == 200
    assert b.post("/logout").headers["location"] == "/login"
    assert copy.get("/", follow_redirects=False).status_code == 303
    assert copy.get("/orders", follow_redirects=False).status_code == 303


def test_the_csrf_token_changes_at_sign_in_and_the_old_one_is_refused(shop, browser):
    b = browser()
    before = csrf_of(b.get("/login").text)
    r = b.client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": before},
        follow_redirects=False,
    )
    assert r.status_code == 303
    after = csrf_of(b.get("/account").text)
    assert after != before
    number = shop["order"]["number"]
    planted = {"note": "planted", "csrf_token": before}
    assert b.client.post(f"/orders/{number}/notes", data=planted).status_code == 403
    ok = {"note": "mine", "csrf_token": after}
    assert (
        b.client.post(f"/orders/{number}/notes", data=ok, follow_redirects=False).status_code == 303
    )


# 15. Throttling: growing waits, per email at an address and per address, the same for
# unknown emails; the admin signs in from elsewhere whatever an attacker does.


class _CountingHasher:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified = 0

    def verify(self, password: str, hashed: str) -> bool:
        self.verified += 1
        return bool(self.real.verify(password, hashed))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _attempts(db: Any, email: str, address: str, start: datetime, n: int) -> list[Any]:
    """``n`` wrong passwords one second apart; what each answered (the wait, relative)."""
    out = []
    for i in range(n):
        now = start + timedelta(seconds=i)
        result = sign_in.sign_in(db, email, "not-the-password", address, now=now)
        assert result.user is None
        out.append(None if result.locked_until is None else result.locked_until - now)
    return out


def test_an_unknown_email_is_answered_as_a_real_one_with_the_same_work(shop, db, monkeypatch):
    counting = _CountingHasher(sign_in._hasher)
    monkeypatch.setattr(sign_in, "_hasher", counting)
    start = datetime.now(UTC)
    n = sign_in.PAIR_FREE + 3
    real = _attempts(db, "finance@example.com", "198.51.100.1", start, n)
    verified_real, counting.verified = counting.verified, 0
    unknown = _attempts(db, "nobody@example.com", "198.51.100.2", start, n)
    assert real == unknown
    assert counting.verified == verified_real == sign_in.PAIR_FREE  # then no hash at all
    # Throttled: the right password is not even tried, as for an unknown email.
    later = start + timedelta(seconds=n)
    right = sign_in.sign_in(db, "finance@example.com", PASSWORD, "198.51.100.1", now=later)
    assert right.user is None and right.locked_until is not None


def test_the_waits_grow_and_end(shop, db):
    start = datetime.now(UTC)
    waits = _attempts(db, "finance@example.com", "198.51.100.3", start, sign_in.PAIR_FREE + 1)
    assert waits[: sign_in.PAIR_FREE - 1] == [None] * (sign_in.PAIR_FREE - 1)
    assert waits[sign_in.PAIR_FREE - 1] == sign_in.PAIR_BASE
    # The next failure is refused before counting; once allowed, a failure doubles the wait.
    after_wait = start + timedelta(hours=1)
    again = sign_in.sign_in(db, "finance@example.com", "wrong", "198.51.100.3", now=after_wait)
    assert again.locked_until == after_wait + 2 * sign_in.PAIR_BASE
    assert sign_in.wait_after(100, sign_in.PAIR_FREE, sign_in.PAIR_BASE, sign_in.PAIR_MAX) == (
        sign_in.PAIR_MAX
    )
    much_later = after_wait + sign_in.PAIR_MAX
    ok = sign_in.sign_in(db, "finance@example.com", PASSWORD, "198.51.100.3", now=much_later)
    assert ok.user is not None


def test_nobody_can_lock_the_admin_out(shop, db):
    start = datetime.now(UTC)
    _attempts(db, "admin@example.com", "203.0.113.66", start, sign_in.PAIR_FREE + 5)
    later = start + timedelta(seconds=30)
    ok = sign_in.sign_in(db, "admin@example.com", PASSWORD, "192.0.2.10", now=later)
    assert ok.user is not None and ok.user["email"] == "admin@example.com"


def test_the_login_page_answers_a_real_and_an_unknown_email_alike(shop, browser, app):
    _at(app, datetime.now(UTC))
    answers = []
    for email in ("finance@example.com", "nobody@example.com"):
        b = browser()
        pages = [b.sign_in(email, "not-the-password") for _ in range(sign_in.PAIR_FREE + 1)]
        answers.append([(p.status_code, _message(p.text)) for p in pages])
    assert answers[0] == answers[1]
    assert "Too many failed attempts" in answers[0][-1][1]


def _message(html: str) -> str:
    match = re.search(r'<p class="flash error" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else ""


# 16. Forwarded headers only from configured proxies.


def _codes(client: TestClient, n: int) -> list[int]:
    return [
        client.get("/track/" + "y" * 32, headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(n)
    ]


def test_forwarded_addresses_are_ignored_unless_the_peer_is_a_configured_proxy(db_url, db, shop):
    direct = create_app(Settings(database_url=db_url, run_worker=False), db=db)
    direct.state.track_limiter = tracking.RateLimit(limit=3, window=60)
    assert _codes(TestClient(direct), 5) == [404, 404, 404, 429, 429]
    behind = create_app(
        Settings(database_url=db_url, run_worker=False, forwarded_allow_ips="testclient"), db=db
    )
    behind.state.track_limiter = tracking.RateLimit(limit=3, window=60)
    assert _codes(TestClient(behind), 5) == [404] * 5  # five clients behind the proxy


# 17. Printed QR codes use the configured public URL, never the Host header.


def test_the_slips_qr_code_points_at_the_public_url_whatever_the_host_header(shop, browser):
    number = shop["order"]["number"]
    html = (
        browser("warehouse")
        .get(f"/orders/{number}/packing-slip", headers={"Host": "evil.example"})
        .text
    )
    track = f"{PUBLIC}/track/{shop['order']['tracking_token']}"
    assert packing_slips.qr_svg(track) in html
    assert "evil.example" not in html


# 18. Answers with personal data are not cached.


def test_pages_and_api_answers_with_personal_data_are_not_cached(shop, browser, api):
    number = shop["order"]["number"]
    b = browser("admin")
    for url in ("/", f"/orders/{number}", "/customers", "/account"):
        r = b.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", url
    for url in (f"/api/v1/orders/{number}", "/api/v1/orders"):
        r = api.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", url
    r = b.get("/login")
    assert r.headers["cache-control"] == "no-store"
    static = b.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers["cache-control"]
