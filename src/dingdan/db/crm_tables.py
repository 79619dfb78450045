"""Customers as the seller sees them (issue 24, parts 6 and 7).

``clv_fits`` keeps one BG/NBD and Gamma-Gamma fit per calibration end (the fit over every
customer takes seconds to a minute; a second question for the same day is answered from
here), and ``clv_customers`` each customer's summary and predictions under it.
``customer_tags`` and ``customer_notes`` are the staff's own words on a customer;
``rating_replies`` the shop's answer to a customer's rating. ``product_pairs`` holds the
association rules the worker computed (counts kept, so support, confidence and lift are
exact fractions), and ``crm_job_runs`` when a worker job last ran.

Model parameters and predictions are floats (statistics, not money); values shown as money
are kept in minor units of their currency like every amount."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId
from dingdan.db.types import utcnow


class ClvFit(Base):
    __tablename__ = "clv_fits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    calibration_end: Mapped[date] = mapped_column(Date, unique=True)
    customers: Mapped[int] = mapped_column(Integer)
    r: Mapped[float] = mapped_column(Double)
    alpha: Mapped[float] = mapped_column(Double)
    a: Mapped[float] = mapped_column(Double)
    b: Mapped[float] = mapped_column(Double)
    log_likelihood: Mapped[float] = mapped_column(Double)
    # The spend model, in the currency most orders are in (None: no repeat purchases in it).
    currency: Mapped[str | None] = mapped_column(String(3))
    spend_p: Mapped[float | None] = mapped_column(Double)
    spend_q: Mapped[float | None] = mapped_column(Double)
    spend_v: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClvCustomer(Base):
    __tablename__ = "clv_customers"

    fit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("clv_fits.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    x: Mapped[int] = mapped_column(Integer)
    t_x: Mapped[float] = mapped_column(Double)
    T: Mapped[float] = mapped_column(Double)
    expected_purchases: Mapped[float] = mapped_column(Double)
    probability_alive: Mapped[float] = mapped_column(Double)
    # Expected value of the next 52 weeks, minor units of the fit's currency.
    expected_value_minor: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        # "Likely to buy again soon": the fit's customers by expected purchases.
        Index("ix_clv_customers_fit_expected", "fit_id", "expected_purchases"),
    )


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_customer_tags_tag", "tag"),)


class CustomerNote(Base):
    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(String(2000))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RatingReply(Base):
    __tablename__ = "rating_replies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rating_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_ratings.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(String(2000))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductPair(Base):
    """The rule sku → other_sku: bought together in ``together`` of ``baskets`` orders,
    ``sku`` in ``sku_baskets`` of them, ``other_sku`` in ``other_baskets``."""

    __tablename__ = "product_pairs"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    other_sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    together: Mapped[int] = mapped_column(Integer)
    sku_baskets: Mapped[int] = mapped_column(Integer)
    other_baskets: Mapped[int] = mapped_column(Integer)
    baskets: Mapped[int] = mapped_column(Integer)
    lift: Mapped[float] = mapped_column(Double)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrmJobRun(Base):
    __tablename__ = "crm_job_runs"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
