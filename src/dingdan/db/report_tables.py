"""Tables of the reports (issue 24): daily rollups kept by the worker, each order's share of
them, and the carriers' promised transit days.

``report_daily`` holds, per seller-local day (Asia/Taipei) and currency, one row per
dimension and key (``("channel", "web")``, ``("product", "TEA-001")``, ``("hour", "23")``,
``("placed", "")``...) with three sums: ``orders`` (a count), ``units`` and
``revenue_minor``; ``report_monthly`` the same by month and ``report_yearly`` by year (a
long range reads whole years and months there: services/reports/rollup_reads.py).
``report_order_facts`` keeps what
each order added to them (its day, currency and rows), so that an order that changes is
taken out and put back exactly (services/reports/rollups.py). Reports read these, never the
orders.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId


class ReportDaily(Base):
    __tablename__ = "report_daily"

    # A dimension's days first: every report reads one dimension over a range of days.
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        # The customers' sales, paged by key: each key's days together.
        Index("ix_report_daily_dimension_key", "dimension", "currency", "key", "day"),
    )


class ReportMonthly(Base):
    """``report_daily`` summed by month (``month``: its first day), kept beside it in the same
    transactions: a long range reads its whole months here and only its ragged ends by day."""

    __tablename__ = "report_monthly"

    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportYearly(Base):
    """``report_daily`` summed by year (``year``: its 1 January), kept beside it in the same
    transactions: a range of a year or more reads its whole years here, so a dimension of
    many keys (customers, SKUs) costs a row per key per year, not per month."""

    __tablename__ = "report_yearly"

    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportOrderFacts(Base):
    """One order's share of ``report_daily``: ``rows`` is a list of ``[dimension, key,
    orders, units, revenue_minor]`` on ``day`` in ``currency``."""

    __tablename__ = "report_order_facts"

    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    rows: Mapped[list[Any]] = mapped_column(JSON)


class CarrierPromise(Base):
    """The transit days a carrier promises to a region (``""``: to anywhere not named)."""

    __tablename__ = "report_carrier_promises"

    carrier: Mapped[str] = mapped_column(String(50), primary_key=True)
    region: Mapped[str] = mapped_column(String(10), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
