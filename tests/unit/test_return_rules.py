"""Pure after-sales rules: the policy, returnable quantities, default refunds, statuses and
evidence types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dingdan.domain.after_sales import returns as r
from dingdan.domain.shared.errors import InvalidTransition, ValidationFailed

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_the_default_policy_is_taiwans_seven_days_with_the_standard_reasons():
    p = r.Policy()
    assert p.window_days == 7
    assert set(p.reasons) >= {"damaged", "defective", "wrong_item", "changed_mind", "other"}


def test_a_partial_policy_body_keeps_the_rest_and_bad_fields_are_all_named():
    p = r.parse_policy({"window_days": 30, "reasons": ["damaged", "gift"]})
    assert p.window_days == 30 and p.reasons == ("damaged", "gift")
    with pytest.raises(ValidationFailed) as err:
        r.parse_policy({"window_days": "7", "reasons": ["Bad Code"], "colour": 1})
    fields = {e.field for e in err.value.errors}
    assert fields == {"window_days", "reasons[0]", "colour"}


def test_a_damaged_stored_policy_falls_back_to_the_defaults():
    assert r.stored_policy({"window_days": -1}) == r.Policy()
    assert r.stored_policy(None) == r.Policy()


def test_the_window_runs_from_the_last_delivery_and_stays_open_while_undelivered():
    d = NOW - timedelta(days=8)
    assert r.window_closes([d], 7) == d + timedelta(days=7)
    assert r.window_closes([d, None], 7) is None
    assert r.window_closes([], 7) is None
    assert r.window_closes([d, NOW - timedelta(days=1)], 7) == NOW + timedelta(days=6)


def test_breaches_name_each_rule_on_its_line():
    p = r.Policy(non_returnable_skus=("A",), non_returnable_categories=("food",))
    lines = [
        r.LineFacts("A", None, [NOW]),
        r.LineFacts("B", "food", [NOW]),
        r.LineFacts("C", None, [NOW - timedelta(days=8)]),
        r.LineFacts("D", None, [NOW - timedelta(days=6)]),
    ]
    got = [(b.rule, b.field) for b in r.breaches(p, lines, NOW)]
    assert got == [
        ("non_returnable_sku", "lines[0].sku"),
        ("non_returnable_category", "lines[1].sku"),
        ("return_window", "lines[2].sku"),
    ]


def test_rejected_returns_cover_nothing_and_received_ones_cover_what_arrived():
    assert r.covered("requested", 3, 0) == 3
    assert r.covered("approved", 3, 0) == 3
    assert r.covered("rejected", 3, 0) == 0
    assert r.covered("received", 3, 1) == 1
    assert r.covered("refunded", 3, 2) == 2
    assert r.returnable(5, [2, 1]) == 2
    assert r.returnable(2, [3]) == 0


def test_the_default_refund_is_received_units_times_unit_price():
    assert r.default_refund([(2, 35000), (1, 12000)]) == 82000
    assert r.default_refund([]) == 0


def test_return_statuses_follow_the_table():
    r.check_return_transition("requested", r.ReturnStatus.APPROVED, "1")
    r.check_return_transition("approved", r.ReturnStatus.RECEIVED, "1")
    r.check_return_transition("received", r.ReturnStatus.REFUNDED, "1")
    for current, target in (
        ("requested", "received"),
        ("refunded", "refunded"),
        ("received", "rejected"),
        ("rejected", "approved"),
    ):
        with pytest.raises(InvalidTransition):
            r.check_return_transition(current, r.ReturnStatus(target), "1")


def test_dispute_statuses_follow_the_table():
    r.check_dispute_transition("open", r.DisputeStatus.INVESTIGATING, "1")
    r.check_dispute_transition("investigating", r.DisputeStatus.RESOLVED, "1")
    r.check_dispute_transition("resolved", r.DisputeStatus.CLOSED, "1")
    with pytest.raises(InvalidTransition):
        r.check_dispute_transition("open", r.DisputeStatus.CLOSED, "1")
    with pytest.raises(InvalidTransition):
        r.check_dispute_transition("closed", r.DisputeStatus.OPEN, "1")


def test_evidence_types_are_known_by_their_first_bytes():
    assert r.sniff_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert r.sniff_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert r.sniff_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert r.sniff_type(b"%PDF-1.4") == "application/pdf"
    assert r.sniff_type(b"GIF89a") is None
    assert r.sniff_type(b"<svg") is None
    assert r.sniff_type(b"") is None
