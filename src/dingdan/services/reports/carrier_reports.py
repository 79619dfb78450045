"""Carriers: per carrier, of the orders placed in a range, the shipments and units, the
transit time distribution (whole local days from shipment to delivery), the on-time rate
against the days the carrier promises to the order's region (a setting per carrier and
region, ``report_carrier_promises``; ``DEFAULT_PROMISED_DAYS`` when none), and the
exception, loss and return rates. From the daily rollups. Shipments record no cost, so no
cost per parcel is shown."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from dingdan.db.engine import Database
from dingdan.db.report_tables import CarrierPromise
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.text import has_control
from dingdan.services.reports import rollup_reads as rr
from dingdan.services.reports.shapes import (
    CarrierRow,
    CarriersView,
    PromiseCommand,
    PromisesView,
    PromiseView,
)
from dingdan.services.shared.common import Actor, audit

DEFAULT_PROMISED_DAYS = 2  # Taiwan's home delivery: next day, a day's margin


def promises(conn: Connection) -> dict[tuple[str, str], int]:
    return {(c, r): d for c, r, d in conn.execute(select(CarrierPromise.carrier,
            CarrierPromise.region, CarrierPromise.days))}  # fmt: skip


def promised(table: dict[tuple[str, str], int], carrier: str, region: str) -> int:
    return table.get((carrier, region), table.get((carrier, ""), DEFAULT_PROMISED_DAYS))


def list_promises(db: Database) -> PromisesView:
    """``{"default_days", "items": [{"carrier", "region", "days"}]}``."""
    rows = db.read(promises)
    items: list[PromiseView] = [
        {"carrier": c, "region": r, "days": d} for (c, r), d in sorted(rows.items())
    ]
    return {"default_days": DEFAULT_PROMISED_DAYS, "items": items}


def set_promise(db: Database, actor: Actor, body: PromiseCommand) -> PromisesView:
    """Set the days ``carrier`` promises to ``region`` ("" or absent: everywhere else);
    ``days`` null removes the setting."""
    errors = FieldErrors()
    carrier = str(body.get("carrier") or "").strip()
    region = str(body.get("region") or "").strip().upper()
    days = body.get("days")
    if not carrier or len(carrier) > 50 or has_control(carrier):
        errors.add("carrier", "required_text", max=50)
    if len(region) > 10 or has_control(region):
        errors.add("region", "too_long", max=10)
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 0 <= days <= 60):  # fmt: skip
        errors.add("days", "out_of_range", min=0, max=60)
    errors.raise_if_any()

    def work(conn: Connection) -> None:
        conn.execute(delete(CarrierPromise).where(CarrierPromise.carrier == carrier,
                                                  CarrierPromise.region == region))  # fmt: skip
        if days is not None:
            conn.execute(insert(CarrierPromise).values(carrier=carrier, region=region, days=days))
        after = {"region": region, "days": days}
        audit(conn, actor, "set_carrier_promise", "carrier", carrier, None, after)

    db.write(work)
    return list_promises(db)


def carriers(
    db: Database, date_from: Any = None, date_to: Any = None, currency: Any = None
) -> CarriersView:
    """``{"from", "to", "currency", "items": [{"carrier", "shipments", "units", "delivered",
    "median_transit_days", "p90_transit_days", "transit_days": [{"days", "shipments"}],
    "on_time_rate", "exception_rate", "loss_rate", "return_rate"}]}``, most shipments
    first."""

    def work(conn: Connection) -> CarriersView:
        rng = rr.period(conn, date_from, date_to, currency)
        table = promises(conn)
        base = rr.by_key(conn, rng, "carrier")
        exc = rr.by_key(conn, rng, "carrier_exception")
        lost = rr.by_key(conn, rng, "carrier_lost")
        back = rr.by_key(conn, rng, "carrier_returned")
        transit: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        on_time: dict[str, int] = defaultdict(int)
        for key, s in rr.by_key(conn, rng, "carrier_transit").items():
            carrier, region, days = key.rsplit("|", 2)
            transit[carrier][int(days)] += s.orders
            if int(days) <= promised(table, carrier, region):
                on_time[carrier] += s.orders
        names = sorted(set(base) | set(transit), key=lambda c: (-base.get(c, rr.Sums()).orders, c))
        items: list[CarrierRow] = []
        for c in names:
            hist = sorted(transit[c].items())
            delivered = sum(n for _d, n in hist)
            shipments, units = base.get(c, rr.Sums()).orders, base.get(c, rr.Sums()).units
            items.append({
                "carrier": c, "shipments": shipments, "units": units, "delivered": delivered,
                "median_transit_days": rr.quantile(hist, 0.5),
                "p90_transit_days": rr.quantile(hist, 0.9),
                "transit_days": [{"days": d, "shipments": n} for d, n in hist],
                "on_time_rate": rr.ratio(on_time[c], delivered),
                "exception_rate": rr.ratio(exc.get(c, rr.Sums()).orders, shipments),
                "loss_rate": rr.ratio(lost.get(c, rr.Sums()).orders, shipments),
                "return_rate": rr.ratio(back.get(c, rr.Sums()).units, units),
            })  # fmt: skip
        return {**rng.as_dict(), "items": items}

    return db.read(work)
