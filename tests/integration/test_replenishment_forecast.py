"""Replenishment reads the worker's kept demand forecast where there is one, and recent
history where there is none (issue 23: reorder point from the forecast and its error)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from dingdan.db.forecast_tables import Forecast
from dingdan.db.tables import Product
from dingdan.services.purchasing import forecasts, replenishment
from tests.builders import location, product


def _keep(db, sku: str, first_day, daily: list[float], error: float, loc: str = "") -> None:
    def work(c):
        pid = c.execute(select(Product.id).where(Product.sku == sku)).scalar_one()
        c.execute(
            insert(Forecast).values(
                product_id=pid,
                location=loc,
                model="AutoETS",
                demand_class="smooth",
                history_days=400,
                horizon=28,
                error_stdev=error,
                first_day=first_day,
                daily=daily,
                backtests={},
                uplifts={},
            )
        )

    db.write(work)


def test_a_kept_forecast_gives_the_demand_and_its_error(db):
    product(db, "TEA-001")
    product(db, "TEA-002")
    location(db, "TPE")
    tomorrow = forecasts.seller_today() + timedelta(days=1)
    # 3 units a day for the 56 days from tomorrow, then 100 (outside the window).
    _keep(db, "TEA-001", tomorrow, [3.0] * 56 + [100.0] * 10, error=1.5)
    assert replenishment.daily_demand(db, "TEA-001", None) == (3.0, 1.5)
    # A kept forecast that no longer covers the window (computed long ago): history instead.
    _keep(db, "TEA-002", tomorrow - timedelta(days=400), [9.0] * 380, error=4.0)
    assert forecasts.kept_demand(db, "TEA-002", None, 56) is None
    assert replenishment.daily_demand(db, "TEA-002", None) == (0.0, 0.0)  # no orders yet
    # Per location: the location's own forecast, none kept → history.
    _keep(db, "TEA-001", tomorrow, [1.0] * 60, error=0.5, loc="TPE")
    assert replenishment.daily_demand(db, "TEA-001", "TPE") == (1.0, 0.5)
