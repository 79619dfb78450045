"""Demand forecasts (issue 23, shared/CONTRACT.md "Forecasts"): the worker's latest
computation per SKU and location, the runs it made, and the shop's promotions (known peaks
the forecasts lift demand on).

``forecasts.location`` is a location's code, or ``""`` for the SKU's demand at every
location together. ``daily`` holds the forecast from ``first_day`` on (``DAYS`` days, each a
decimal string with two decimals), so that any horizon up to a year is read, not computed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class Forecast(Base):
    __tablename__ = "forecasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location: Mapped[str] = mapped_column(String(32), default="")
    model: Mapped[str] = mapped_column(String(30))
    # AutoETS's form (error, trend, season, "d" when damped: "AAA", "MAMd"), refitted as is
    # by the run of the SKUs with new sales.
    spec: Mapped[str | None] = mapped_column(String(10))
    # smooth | erratic | intermittent | lumpy | none (domain/purchasing/forecasting.py)
    demand_class: Mapped[str] = mapped_column(String(20))
    history_days: Mapped[int] = mapped_column(Integer)
    # The backtest of the model choice: ``horizon`` days held out.
    horizon: Mapped[int] = mapped_column(Integer)
    mase: Mapped[float | None] = mapped_column(Float)
    naive_mase: Mapped[float | None] = mapped_column(Float)
    # The standard deviation of the chosen model's daily errors on the holdout (units/day).
    error_stdev: Mapped[float] = mapped_column(Float, default=0.0)
    # Backtests asked for other horizons since: {"7": {"mase": .., "naive_mase": ..}}.
    backtests: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Learned uplift per kind of peak (domain/purchasing/calendar.py).
    uplifts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_day: Mapped[date] = mapped_column(Date)
    daily: Mapped[list[Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("product_id", "location", name="uq_forecasts_product_location"),
        Index("ix_forecasts_computed_at", "computed_at"),
    )


class ForecastRun(Base):
    """One run of the worker's forecasts: ``full`` (every SKU, nightly) or ``changed`` (the
    SKUs with sales since their last computation). ``slot`` (the night's day, or the hour)
    is unique per kind: the worker that inserts it runs it, the others skip."""

    __tablename__ = "forecast_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    slot: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    skus: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("kind", "slot", name="uq_forecast_runs_kind_slot"),)


class PromotionEvent(Base):
    """The shop's own promotion, a known peak: from ``starts_on`` to ``ends_on`` included."""

    __tablename__ = "promotion_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # What the seller expects the promotion to multiply demand by (1.5: half as much again),
    # or None: the uplift learned from the shop's past promotions is used.
    expected_uplift: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="promotion_dates_ordered"),
        CheckConstraint(
            "expected_uplift IS NULL OR (expected_uplift > 0 AND expected_uplift <= 10)",
            name="promotion_uplift_range",
        ),
    )
