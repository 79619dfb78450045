"""Customer value, RFM segments and products bought together through the API
(shared/CONTRACT.md, "Reports": ``clv``, ``customers/{id}/clv``, ``reports/customers``), on a
hand-built history whose summaries are worked out by hand: the answers must be the model's
formulas applied to those summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from dingdan.db.crm_tables import ClvFit, ProductPair
from dingdan.db.order_tables import Order
from dingdan.domain.crm import clv as model
from dingdan.services.reports import recommendations
from tests.builders import Buyer, Shop, order_body, post_order

SHOP = Shop(
    products={"TEA-001": "350.00", "CUP-001": "200.00", "POT-001": "900.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 100, "CUP-001": 100, "POT-001": 100}},
)
stocked = SHOP.fixture()

AMY = Buyer("amy@example.com", "Amy", "+886911000001")
BEN = Buyer("ben@example.com", "Ben", "+886911000002")
CAT = Buyer("cat@example.com", "Cat", "+886911000003")
END = date(2026, 3, 29)  # a Sunday: the calibration end


def _at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Taipei on ``day``, as UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def _order(api, db, buyer: Buyer, when: datetime, skus=("TEA-001",)) -> dict:
    o = post_order(api, order_body([{"sku": s, "quantity": 1} for s in skus], buyer=buyer))
    db.write(
        lambda conn: conn.execute(
            update(Order).where(Order.number == o["number"]).values(created_at=when)
        )
    )
    return o


@pytest.fixture
def history(stocked, api, db):
    """Amy: 1 March twice (one purchase day), 15 March, 29 March at 23:30 Taipei (15:30 UTC:
    still the 29th), and 30 March (after the end): purchase days 1, 15 and 29 March, so
    x = 2, t_x = 4 weeks, T = 4 weeks.
    Ben: 8 March, and 22 March cancelled: x = 0, T = 3 weeks.
    Cat: 1 March, then 2 March 00:30 Taipei (1 March 16:30 UTC): x = 1, t_x = 1/7, T = 4."""
    amy = _order(api, db, AMY, _at(date(2026, 3, 1)), ("TEA-001", "CUP-001"))
    _order(api, db, AMY, _at(date(2026, 3, 1), 15), ("TEA-001", "CUP-001"))
    _order(api, db, AMY, _at(date(2026, 3, 15)), ("TEA-001", "CUP-001"))
    _order(api, db, AMY, _at(date(2026, 3, 29), 23) + timedelta(minutes=30))
    _order(api, db, AMY, _at(date(2026, 3, 30)))
    ben = _order(api, db, BEN, _at(date(2026, 3, 8)), ("POT-001",))
    dropped = _order(api, db, BEN, _at(date(2026, 3, 22)))
    r = api.post(f"/api/v1/orders/{dropped['number']}/cancel", json={"reason": "changed mind"})
    assert r.status_code == 200, r.text
    cat = _order(api, db, CAT, _at(date(2026, 3, 1)))
    _order(api, db, CAT, datetime(2026, 3, 1, 16, 30, tzinfo=UTC), ("TEA-001", "CUP-001"))
    return {
        "amy": amy["customer"]["id"],
        "ben": ben["customer"]["id"],
        "cat": cat["customer"]["id"],
    }


SUMMARIES = {"amy": (2, 4.0, 4.0), "ben": (0, 0.0, 3.0), "cat": (1, 1 / 7, 4.0)}


def test_the_clv_fit_is_the_bg_nbd_of_the_hand_worked_summaries_and_is_kept(history, api, db):
    r = api.get("/api/v1/reports/clv", params={"calibration_end": END.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "bg_nbd" and body["customers"] == 3
    assert body["calibration_end"] == "2026-03-29"
    p = model.BgNbd(**body["params"])
    xs, ts, Ts = zip(*SUMMARIES.values(), strict=True)
    assert body["log_likelihood"] == pytest.approx(model.bg_nbd_log_likelihood(p, xs, ts, Ts))
    # No better parameters nearby: the fit maximised the likelihood.
    for name in ("r", "alpha", "a", "b"):
        moved = model.BgNbd(**{**body["params"], name: body["params"][name] * 1.05})
        assert model.bg_nbd_log_likelihood(moved, xs, ts, Ts) <= body["log_likelihood"] + 1e-6
    # Kept: asked again, the same answer from the one stored fit.
    again = api.get("/api/v1/reports/clv", params={"calibration_end": END.isoformat()})
    assert again.json() == body
    assert db.read(lambda c: c.execute(select(func.count()).select_from(ClvFit)).scalar()) == 1


def test_a_customers_clv_is_the_models_prediction_for_their_summary(history, api):
    fit = api.get("/api/v1/reports/clv", params={"calibration_end": END.isoformat()}).json()
    p = model.BgNbd(**fit["params"])
    r = api.get(f"/api/v1/customers/{history['amy']}/clv", params={"calibration_end": "2026-03-29"})
    assert r.status_code == 200, r.text
    amy = r.json()
    x, t_x, T = SUMMARIES["amy"]
    assert amy["repeat_purchases"] == 2 and amy["horizon_weeks"] == 52
    assert amy["expected_purchases"] == pytest.approx(model.expected_purchases(p, 52, x, t_x, T))
    assert amy["probability_alive"] == pytest.approx(model.probability_alive(p, x, t_x, T))
    # Spend: TWD, Gamma-Gamma over Amy's and Cat's repeat days.
    assert amy["expected_value"]["currency"] == "TWD"
    assert float(amy["expected_value"]["amount"]) > 0
    ben = api.get(f"/api/v1/customers/{history['ben']}/clv").json()  # the newest kept fit
    assert ben["calibration_end"] == "2026-03-29"
    assert ben["repeat_purchases"] == 0 and ben["probability_alive"] == 1.0


def test_clv_refuses_what_it_cannot_fit(history, api):
    future = (date.today() + timedelta(days=3)).isoformat()
    for params, field, code in (
        ({"calibration_end": future}, "calibration_end", "in_future"),
        ({"calibration_end": "2026-02-01"}, "calibration_end", "no_purchases"),
    ):
        r = api.get("/api/v1/reports/clv", params=params)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
        assert r.json()["errors"][0]["code"] == code
    assert api.get("/api/v1/reports/clv").status_code == 422
    assert api.get("/api/v1/reports/clv", params={"calibration_end": "x"}).status_code == 422
    assert api.get("/api/v1/customers/999999/clv").status_code == 404
    assert api.get("/api/v1/customers/abc/clv").status_code == 404


def test_rfm_lists_scores_and_segments_paged_filtered_and_masked(history, api):
    r = api.get("/api/v1/reports/customers", params={"sort": "orders"})
    assert r.status_code == 200, r.text
    items = {c["name"]: c for c in r.json()["items"]}
    # Scores of three distinct values: 1 + ⌊5 · (worse + 1/2) / 3⌋, so 1, 3 and 5.
    # Orders not cancelled: Amy 5, Cat 2, Ben 1; so F = 5, 3, 1.
    assert [c["name"] for c in r.json()["items"]] == ["Amy", "Cat", "Ben"]
    assert (items["Amy"]["orders"], items["Cat"]["orders"], items["Ben"]["orders"]) == (5, 2, 1)
    assert (items["Amy"]["f"], items["Cat"]["f"], items["Ben"]["f"]) == (5, 3, 1)
    # Last orders: Amy 30 March, Ben 8 March, Cat 2 March (Taipei): R = 5, 3, 1.
    assert (items["Amy"]["r"], items["Ben"]["r"], items["Cat"]["r"]) == (5, 3, 1)
    assert items["Amy"]["segment"] == "champions"  # R >= 4, F >= 4
    assert items["Ben"]["segment"] == "new"  # R >= 3, F <= 2
    assert items["Cat"]["segment"] == "at_risk"  # R <= 2, F >= 3
    assert items["Ben"]["monetary"] == {"currency": "TWD", "amount": "960.00"}  # 900 + 60
    one = api.get("/api/v1/reports/customers", params={"segment": "new"}).json()
    assert [c["name"] for c in one["items"]] == ["Ben"]
    first = api.get("/api/v1/reports/customers", params={"limit": 2, "sort": "name"}).json()
    assert [c["name"] for c in first["items"]] == ["Amy", "Ben"]
    rest = api.get(
        "/api/v1/reports/customers",
        params={"limit": 2, "sort": "name", "cursor": first["next_cursor"]},
    ).json()
    assert [c["name"] for c in rest["items"]] == ["Cat"] and rest["next_cursor"] is None
    masked = api.get("/api/v1/reports/customers", params={"sort": "name"}, role="viewer").json()
    assert masked["items"][0]["email"] == "a***@example.com"
    assert masked["items"][0]["phone"] == "+886******001"
    for bad in ({"segment": "whales"}, {"limit": 0}, {"cursor": "nonsense"}, {"sort": "x"}):
        assert api.get("/api/v1/reports/customers", params=bad).status_code == 422


def test_bought_together_comes_from_the_workers_rules(history, api, db):
    assert recommendations.compute(db) > 0
    # Baskets (cancelled left out): {TEA, CUP} ×4 (Amy ×3, Cat ×1), {TEA} ×3, {POT} ×1:
    # N = 8, n(TEA) = 7, n(CUP) = 4, n(TEA, CUP) = 4.
    rows = db.read(lambda c: c.execute(select(ProductPair).order_by(ProductPair.sku)).all())
    assert [(r.sku, r.other_sku, r.together, r.baskets) for r in rows] == [
        ("CUP-001", "TEA-001", 4, 8),
        ("TEA-001", "CUP-001", 4, 8),
    ]
    r = api.get("/api/v1/reports/bought-together", params={"sku": "TEA-001"})
    assert r.status_code == 200, r.text
    (cup,) = r.json()["items"]
    assert cup["sku"] == "CUP-001" and cup["because_of"] == "TEA-001"
    assert cup["support"] == pytest.approx(4 / 8)
    assert cup["confidence"] == pytest.approx(4 / 7)
    assert cup["lift"] == pytest.approx(4 * 8 / (7 * 4))
    both = api.get("/api/v1/reports/bought-together", params={"sku": ["TEA-001", "CUP-001"]})
    assert both.json()["items"] == []


def test_the_rfm_and_clv_reports_come_as_csv_and_xlsx_files(history, api):
    import io

    from openpyxl import load_workbook

    r = api.get("/api/v1/reports/customers", params={"format": "csv", "sort": "name"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:5] == ["customer_id", "name", "email", "phone", "orders"]
    assert [row.split(",")[1] for row in lines[1:]] == ["Amy", "Ben", "Cat"]
    assert lines[2].split(",")[-1] == "new" and "960.00" in lines[2]
    masked = api.get(
        "/api/v1/reports/customers", params={"format": "csv", "sort": "name"}, role="warehouse"
    )
    assert "a***@example.com" in masked.text and "amy@example.com" not in masked.text
    x = api.get("/api/v1/reports/customers", params={"format": "xlsx", "segment": "champions"})
    sheet = load_workbook(io.BytesIO(x.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("customer_id", "name") and [r[1] for r in rows[1:]] == ["Amy"]
    fit = api.get("/api/v1/reports/clv", params={"calibration_end": END.isoformat()}).json()
    c = api.get("/api/v1/reports/clv", params={"calibration_end": END.isoformat(), "format": "csv"})
    header, row = c.content.decode("utf-8-sig").splitlines()
    assert header == "model,calibration_end,customers,r,alpha,a,b,log_likelihood"
    values = row.split(",")
    assert values[:3] == ["bg_nbd", "2026-03-29", "3"]
    assert float(values[3]) == fit["params"]["r"]


def test_the_worker_computes_pairs_and_the_fit_once_a_day(history, api, db):
    from dingdan.services.jobs import worker
    from dingdan.services.reports import clv as clv_service

    first = worker.run_once(db, bank_transfer_hours=1_000_000)
    assert first["crm"] == {
        "product_pairs": 2,
        "clv": clv_service.yesterday().isoformat(),
    }
    assert worker.run_once(db, bank_transfer_hours=1_000_000)["crm"] == {}  # once a day
    kept = db.read(lambda c: c.execute(select(ClvFit.calibration_end)).scalars().all())
    assert kept == [clv_service.yesterday()]
    r = api.get(f"/api/v1/customers/{history['amy']}/clv")
    assert r.json()["calibration_end"] == clv_service.yesterday().isoformat()
