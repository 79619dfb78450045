"""Sign-in, sign-out, CSRF, throttling and passwords."""

from __future__ import annotations

from dingdan.services.access import accounts, sign_in
from tests.pages.conftest import PASSWORD, csrf_of


def test_a_visitor_without_a_session_is_sent_to_login(shop, browser):
    b = browser()
    r = b.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = b.get("/orders?q=abc", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Forders")


def test_the_login_page_is_a_form_posting_email_and_password_with_a_hidden_csrf_token(
    shop, browser
):
    html = browser().get("/login").text
    assert '<form method="post" action="/login"' in html
    assert 'name="email"' in html and 'name="password"' in html
    assert 'type="hidden" name="csrf_token"' in html


def test_the_csrf_token_stays_valid_until_sign_in_which_replaces_it(shop, browser):
    b = browser()
    first = csrf_of(b.get("/login").text)
    assert csrf_of(b.get("/login").text) == first
    r = b.client.post(
        "/login",
        data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": first},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    signed_in = csrf_of(b.get("/").text)
    assert signed_in != first and csrf_of(b.get("/account").text) == signed_in


def test_a_failed_sign_in_answers_at_login_with_the_form_and_a_message(shop, browser):
    b = browser()
    r = b.sign_in("admin@example.com", "wrong-password!")
    assert r.status_code == 200
    assert 'action="/login"' in r.text and 'name="password"' in r.text
    assert "The email or password is not right." in r.text
    assert 'value="admin@example.com"' in r.text
    assert b.get("/", follow_redirects=False).status_code == 303


def test_an_unknown_email_gets_the_same_message(shop, browser):
    r = browser().sign_in("nobody@example.com")
    assert r.status_code == 200 and "The email or password is not right." in r.text


def test_a_post_without_the_csrf_token_is_refused(shop, browser):
    b = browser()
    b.get("/login")
    r = b.client.post(
        "/login", data={"email": "admin@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 403
    admin = browser("admin")
    number = shop["order"]["number"]
    r = admin.client.post(f"/orders/{number}/notes", data={"note": "hi"}, follow_redirects=False)
    assert r.status_code == 403
    r = admin.client.post(
        f"/orders/{number}/notes", data={"note": "hi", "csrf_token": "forged-token-0123456789"}
    )
    assert r.status_code == 403


def test_htmx_requests_may_send_the_csrf_token_as_a_header(shop, browser):
    admin = browser("admin")
    number = shop["order"]["number"]
    r = admin.client.post(
        f"/orders/{number}/notes",
        data={"note": "from htmx"},
        headers={"X-CSRF-Token": admin.csrf, "HX-Request": "true"},
    )
    assert r.status_code == 204 and r.headers["HX-Redirect"] == f"/orders/{number}"


def test_repeated_failures_make_the_email_wait_at_this_address(shop, browser):
    b = browser()
    for _ in range(sign_in.PAIR_FREE):
        b.sign_in("finance@example.com", "not-the-password")
    r = b.sign_in("finance@example.com")  # the right password, but this address must wait
    assert r.status_code == 200 and "Too many failed attempts" in r.text
    assert b.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(shop, browser):
    b = browser("viewer")
    assert b.get("/", follow_redirects=False).status_code == 200
    assert b.post("/logout").headers["location"] == "/login"
    assert b.get("/", follow_redirects=False).status_code == 303


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(shop, browser):
    me, elsewhere = browser("viewer"), browser("viewer")
    r = me.post("/account/password", {"current_password": "nope", "new_password": "x" * 12})
    assert r.status_code == 422 and "is not your current password" in r.text
    r = me.post("/account/password", {"current_password": PASSWORD, "new_password": "n" * 12})
    assert r.status_code == 303
    assert me.get("/", follow_redirects=False).status_code == 200
    assert elsewhere.get("/", follow_redirects=False).status_code == 303
    assert browser().sign_in("viewer@example.com", "n" * 12).status_code == 303


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(shop, browser, db):
    victim = browser("warehouse")
    admin = browser("admin")
    uid = next(u["id"] for u in accounts.list_users(db) if u["email"] == "warehouse@example.com")
    assert admin.post(f"/settings/users/{uid}", {"do": "deactivate"}).status_code == 303
    assert victim.get("/", follow_redirects=False).status_code == 303
    assert browser().sign_in("warehouse@example.com").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_lax(shop, browser):
    r = browser().sign_in("admin@example.com")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
