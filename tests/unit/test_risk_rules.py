"""Risk scoring rules on hand-made facts (domain/orders/risk.py)."""

from __future__ import annotations

import pytest

from dingdan.domain.orders import risk as rk
from dingdan.domain.shared.errors import ValidationFailed

S = rk.Settings()
# A returning customer with a small order: nothing fires.
CALM = rk.Facts(
    email="wang@example.com",
    earlier_orders=3,
    total_minor=50000,
    decimals=2,
    currency="TWD",
    shipping_country="TW",
)


def codes(risk: rk.Risk) -> list[str]:
    return [r["code"] for r in risk.reasons]


def with_(**kw: object) -> rk.Facts:
    return rk.Facts(**{**CALM.__dict__, **kw})  # type: ignore[arg-type]


def test_a_calm_order_is_low_with_no_reasons_and_no_hold():
    risk = rk.score(CALM, S)
    assert (risk.score, risk.level, risk.reasons, risk.hold) == (0, "low", [], None)


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("orders_by_email", "velocity_email"),
        ("orders_by_phone", "velocity_phone"),
        ("orders_by_address", "velocity_address"),
        ("orders_by_ip", "velocity_ip"),
        ("orders_by_card", "velocity_card"),
    ],
)
def test_each_velocity_rule_fires_at_its_limit_and_not_below(field, code):
    limit = S.rules[code].limit
    assert limit is not None
    assert codes(rk.score(with_(**{field: limit - 1}), S)) == []
    risk = rk.score(with_(**{field: limit}), S)
    assert codes(risk) == [code]
    assert risk.reasons[0]["points"] == S.rules[code].points
    assert str(limit) in risk.reasons[0]["detail"]


def test_ip_and_card_velocity_need_the_fact_present():
    assert codes(rk.score(with_(orders_by_ip=None, orders_by_card=None), S)) == []


def test_a_first_order_above_the_amount_fires_but_not_a_returning_customers():
    big = 30000 * 100  # 30,000.00 TWD in minor units
    assert codes(rk.score(with_(earlier_orders=0, total_minor=big), S)) == ["first_order_amount"]
    assert codes(rk.score(with_(earlier_orders=0, total_minor=big - 1), S)) == []
    assert codes(rk.score(with_(earlier_orders=1, total_minor=big), S)) == []


def test_the_first_order_amount_is_in_whole_units_of_the_orders_currency():
    yen = with_(earlier_orders=0, total_minor=30000, decimals=0, currency="JPY")
    assert codes(rk.score(yen, S)) == ["first_order_amount"]


def test_shipping_to_another_country_than_billing_or_card_fires_once():
    risk = rk.score(with_(billing_country="US", card_country="NG"), S)
    assert codes(risk) == ["country_mismatch"]
    assert "US, NG" in risk.reasons[0]["detail"] or "NG, US" in risk.reasons[0]["detail"]
    assert codes(rk.score(with_(billing_country="TW", card_country="TW"), S)) == []
    assert codes(rk.score(with_(billing_country=None), S)) == []


def test_a_disposable_email_domain_and_its_subdomains_fire():
    assert codes(rk.score(with_(email="x@mailinator.com"), S)) == ["disposable_email"]
    assert codes(rk.score(with_(email="x@eu.MAILINATOR.com"), S)) == ["disposable_email"]
    assert codes(rk.score(with_(email="x@example.com"), S)) == []
    assert codes(rk.score(with_(email=None), S)) == []
    assert len(rk.disposable_domains()) >= 300


def test_failed_payments_and_cod_refusals_fire_at_their_limits():
    assert codes(rk.score(with_(failed_payments=4), S)) == []
    assert codes(rk.score(with_(failed_payments=5), S)) == ["failed_payments"]
    assert codes(rk.score(with_(cod_refusals=1), S)) == []
    assert codes(rk.score(with_(cod_refusals=2), S)) == ["cod_refusals"]


def test_levels_follow_the_thresholds_and_high_holds():
    # the three velocity rules: 65, medium (40); + cod_refusals 40 → 105 → 100, high (80)
    busy = with_(orders_by_email=5, orders_by_phone=5, orders_by_address=5)
    low = rk.score(with_(orders_by_email=5), S)
    assert (low.score, low.level, low.hold) == (25, "low", None)
    medium = rk.score(busy, S)
    assert (medium.score, medium.level, medium.hold) == (65, "medium", None)
    high = rk.score(rk.Facts(**{**busy.__dict__, "cod_refusals": 2}), S)
    assert (high.score, high.level, high.hold) == (100, "high", rk.HOLD)


def test_the_score_is_capped_at_100():
    risk = rk.score(
        with_(orders_by_email=9, orders_by_phone=9, cod_refusals=9, failed_payments=9), S
    )
    assert risk.score == 100 and risk.level == "high"


def test_a_block_list_match_holds_even_a_low_order():
    risk = rk.score(with_(blocked=("phone",)), S)
    assert (risk.level, risk.hold) == ("low", rk.HOLD)
    assert risk.reasons == [
        {"code": "blocklist", "points": 0, "detail": "phone is on the block list"}
    ]


def test_settings_change_points_limits_thresholds_and_turn_rules_off():
    s = rk.parse_settings(
        {
            "medium": 10,
            "high": 20,
            "rules": {
                "velocity_email": {"points": 25, "limit": 1},
                "cod_refusals": {"enabled": False},
            },
        }
    )
    risk = rk.score(with_(orders_by_email=1, cod_refusals=5), s)
    assert codes(risk) == ["velocity_email"]
    assert (risk.score, risk.level, risk.hold) == (25, "high", rk.HOLD)
    off = rk.parse_settings({"enabled": False})
    assert rk.score(with_(orders_by_email=9), off).reasons == []
    assert rk.score(with_(blocked=("email",)), off).hold == rk.HOLD


def test_settings_round_trip_and_keep_defaults_for_what_is_left_out():
    s = rk.parse_settings({"window_hours": 6})
    assert rk.parse_settings(s.as_dict()) == s
    assert s.rules == rk.Settings().rules and s.high == 80


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"high": 0}, "high"),
        ({"medium": 80, "high": 50}, "high"),
        ({"window_hours": "24"}, "window_hours"),
        ({"window_hours": True}, "window_hours"),
        ({"rules": {"nope": {}}}, "rules.nope"),
        ({"rules": {"velocity_ip": {"points": 101}}}, "rules.velocity_ip.points"),
        ({"rules": {"velocity_ip": {"limit": 0}}}, "rules.velocity_ip.limit"),
        ({"rules": {"velocity_ip": {"enabled": "yes"}}}, "rules.velocity_ip.enabled"),
        ({"enabled": 1}, "enabled"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(body, field):
    with pytest.raises(ValidationFailed) as err:
        rk.parse_settings(body)
    assert field in [e.field for e in err.value.errors]


def test_a_damaged_stored_setting_reads_as_the_defaults():
    assert rk.stored_settings({"high": "x"}) == rk.Settings()
    assert rk.stored_settings(None) == rk.Settings()


def test_block_keys_normalize_what_people_type():
    assert rk.block_key("email", " Wang@Example.COM ") == "wang@example.com"
    assert rk.block_key("email", "ＷＡＮＧ@example.com") == "wang@example.com"
    assert rk.block_key("phone", "+886 912-345-678") == "+886912345678"
    assert rk.block_key("address", "No. 7, Sec. 5, Xinyi Rd.") == rk.address_key(
        "no7 sec5 xinyi rd"
    )
    assert rk.block_key("address", "信義路五段７號") == rk.address_key("信義路五段7號")
    assert rk.block_key("phone", "abc") is None


# ---- a card payment ---------------------------------------------------------------------------

CAPTURED = {
    "score": 40,
    "level": "medium",
    "reasons": [
        {"code": "velocity_email", "points": 25, "detail": "5 orders by this email in 24 h"},
        {"code": "country_mismatch", "points": 15, "detail": "ships to TW, billed in US"},
    ],
}


def card(**kw: object) -> rk.CardFacts:
    base = {
        "orders_by_card": 0,
        "card_country": None,
        "shipping_country": "TW",
        "billing_country": None,
    }
    return rk.CardFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_a_card_payment_decides_the_card_rules_again_and_keeps_the_others():
    calm = rk.with_card(CAPTURED, card(), S)
    # The billing country no longer differs (none stored): that reason goes, email stays.
    assert codes(calm) == ["velocity_email"] and calm.score == 25 and calm.hold is None
    busy = rk.with_card(CAPTURED, card(orders_by_card=5, card_country="JP"), S)
    assert codes(busy) == ["velocity_email", "velocity_card", "country_mismatch"]
    assert (busy.score, busy.level, busy.hold) == (70, "medium", None)
    high = rk.with_card(
        CAPTURED, card(orders_by_card=5, billing_country="US"), rk.Settings(high=70)
    )
    assert (high.level, high.hold) == ("high", rk.HOLD)
    assert high.reasons[-1]["detail"] == "ships to TW, billed in US"


def test_an_order_high_already_is_not_held_again_and_scoring_off_changes_nothing():
    was_high = {**CAPTURED, "level": "high", "score": 90}
    again = rk.with_card(was_high, card(orders_by_card=9), rk.Settings(high=40))
    assert again.level == "high" and again.hold is None
    off = rk.with_card(CAPTURED, card(orders_by_card=9), rk.Settings(enabled=False))
    assert (off.score, off.level, off.reasons, off.hold) == (
        40,
        "medium",
        CAPTURED["reasons"],
        None,
    )


def test_card_fingerprints_are_keyed_and_never_hold_the_digits():
    from dingdan.domain.payments import cards
    from dingdan.domain.shared.errors import FieldErrors

    a = cards.from_digits(b"k" * 32, "ecpay", "431195", "2222")
    assert (a.bin, a.last4) == ("431195", "2222") and len(a.fingerprint or "") == 64
    assert "431195" not in (a.fingerprint or "") and "2222" not in (a.fingerprint or "")
    assert cards.from_digits(b"k" * 32, "ecpay", "431195", "2222") == a
    assert cards.from_digits(b"x" * 32, "ecpay", "431195", "2222").fingerprint != a.fingerprint
    assert cards.from_digits(b"k" * 32, "other", "431195", "2222").fingerprint != a.fingerprint
    assert cards.from_digits(b"k" * 32, "ecpay", "43119", None) == cards.Card()
    errors = FieldErrors()
    given = cards.given_card(
        "manual", {"card_fingerprint": "tok_abc123", "card_country": "jp"}, errors
    )
    assert not errors and given.country == "JP"
    assert given.fingerprint == cards.given_fingerprint("manual", "tok_abc123")
    assert given.fingerprint != cards.given_fingerprint("linepay", "tok_abc123")
