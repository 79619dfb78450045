"""The rules of carrier tracking events, without a database: times, forward-only moves,
and Standard Webhooks signatures checked against the spec's own library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from dingdan.domain.fulfilment.tracking import TrackingEvent, moves, parse_time
from dingdan.domain.shared import standard_webhooks as tracking_hooks

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def ev(status: str, minutes: int = 0, exception: str | None = None) -> TrackingEvent:
    return TrackingEvent("123456789012", status, T0 + timedelta(minutes=minutes), exception)


def test_a_time_without_an_offset_is_taipei_time() -> None:
    assert parse_time("2026-12-07 10:00") == T0
    assert parse_time("2026-12-07T02:00:00Z") == T0
    assert parse_time("2026-12-07T03:00:00+01:00") == T0
    assert parse_time("yesterday") is None and parse_time(20261207) is None


def test_a_shipment_moves_forward_only_and_stops_when_delivered() -> None:
    assert moves("shipped", None, None, ev("in_transit"))
    assert moves("in_transit", None, T0, ev("out_for_delivery", 5))
    assert not moves("out_for_delivery", None, T0, ev("in_transit", 5))  # back: no
    assert not moves("in_transit", None, T0, ev("out_for_delivery", -5))  # older: no
    assert moves("out_for_delivery", None, T0, ev("exception", 5, "failed_attempt"))
    assert moves("exception", "failed_attempt", T0, ev("in_transit", 5))  # on its way again
    assert moves("in_transit", None, T0, ev("delivered", -5))  # delivered is the last word
    assert not moves("delivered", None, T0, ev("exception", 60, "damaged"))
    assert not moves("exception", "returned_to_sender", T0, ev("delivered", 60))


def test_signatures_of_the_standard_webhooks_library_verify_and_others_do_not() -> None:
    secret = tracking_hooks.new_secret()
    body = b'{"type":"tracking.updated"}'
    now = datetime.now(UTC)
    ts = str(int(now.timestamp()))
    signed = Webhook(secret).sign("msg_1", now, body.decode())
    assert tracking_hooks.check_delivery(secret, "msg_1", ts, signed, body, now.timestamp()) is None
    assert tracking_hooks.sign(secret, "msg_1", int(ts), body) == signed
    both = f"v1,bm90IGl0 {signed}"  # one of several signatures (a rotated key) suffices
    assert tracking_hooks.check_delivery(secret, "msg_1", ts, both, body, now.timestamp()) is None
    assert tracking_hooks.check_delivery(secret, "msg_2", ts, signed, body, now.timestamp())
    assert tracking_hooks.check_delivery(secret, "msg_1", ts, signed, body + b" ", now.timestamp())
    assert tracking_hooks.check_delivery(secret, "msg_1", ts, signed, body, now.timestamp() + 301)
    assert tracking_hooks.check_delivery(secret, "msg_1", "abc", signed, body, now.timestamp())
    assert tracking_hooks.check_delivery(secret, None, ts, signed, body, now.timestamp())
    assert not tracking_hooks.is_secret("whsec_not base64!") and not tracking_hooks.is_secret("x")
