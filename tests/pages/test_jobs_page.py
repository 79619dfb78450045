"""The background jobs page: dead jobs listed for admins and managers, replayed by a form
post carrying the session's CSRF token."""

from __future__ import annotations

from sqlalchemy import insert, select

from dingdan.db.tables import OutboxMessage


def _dead_job(db):
    return db.write(
        lambda c: c.execute(
            insert(OutboxMessage)
            .values(
                topic="mail.order_confirmation",
                payload={},
                status="dead",
                attempts=10,
                last_error="smtp: 421 try later",
            )
            .returning(OutboxMessage.id)
        ).scalar_one()
    )


def test_dead_jobs_are_listed_and_replayed_from_the_page(shop, browser, db):
    jid = _dead_job(db)
    manager = browser("manager")
    html = manager.get("/jobs").text
    assert "mail.order_confirmation" in html and "smtp: 421 try later" in html
    assert f'action="/jobs/{jid}/replay"' in html
    assert 'href="/jobs"' in manager.get("/settings").text

    refused = manager.client.post(
        f"/jobs/{jid}/replay", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert refused.status_code == 403
    r = manager.post(f"/jobs/{jid}/replay")
    assert r.status_code == 303
    row = db.read(lambda c: c.execute(select(OutboxMessage).where(OutboxMessage.id == jid)).one())
    assert row.status == "pending" and row.attempts == 0
    assert "mail.order_confirmation" not in manager.get("/jobs").text


def test_the_jobs_page_is_for_admins_and_managers(shop, browser, db):
    _dead_job(db)
    assert browser("admin").get("/jobs").status_code == 200
    for role in ("finance", "warehouse", "viewer"):
        assert browser(role).get("/jobs").status_code == 403


def test_the_jobs_page_speaks_the_users_language(shop, browser, db):
    _dead_job(db)
    html = browser("manager").get("/jobs", headers={"Accept-Language": "zh-TW"}).text
    assert "背景工作" in html


def _attention_intent(db, number):
    from dingdan.db.order_tables import Order
    from dingdan.db.payment_tables import PaymentAttempt

    order_id = db.read(
        lambda c: c.execute(select(Order.id).where(Order.number == number)).scalar_one()
    )
    return db.write(
        lambda c: c.execute(
            insert(PaymentAttempt)
            .values(
                order_id=order_id,
                kind="authorization",
                purpose="authorization",
                status="attention",
                amount_minor=76000,
                currency="TWD",
                provider="manual",
                method="card",
                idempotency_key="aut_page",
                provider_reference="PSP-7788",
                error="Order is cancelled.",
                actor="test:admin",
                actor_role="admin",
            )
            .returning(PaymentAttempt.id)
        ).scalar_one()
    )


def test_payments_the_provider_moved_and_dingdan_did_not_record_are_shown_and_closed(
    shop, browser, db
):
    number = shop["order"]["number"]
    iid = _attention_intent(db, number)
    manager = browser("manager")
    html = manager.get("/jobs").text
    assert "PSP-7788" in html and f'href="/orders/{number}"' in html
    assert f'action="/jobs/intents/{iid}/close"' in html
    r = manager.post(f"/jobs/intents/{iid}/close", {"note": "在金流後台取消授權"})
    assert r.status_code == 303
    from dingdan.db.payment_tables import PaymentAttempt

    assert (
        db.read(
            lambda c: c.execute(
                select(PaymentAttempt.status).where(PaymentAttempt.id == iid)
            ).scalar_one()
        )
        == "resolved"
    )
    assert "PSP-7788" not in manager.get("/jobs").text
