"""Replenishment: which SKUs to reorder at which location, how many, from whom, and when
each would run out.

Which ones, at what reorder point and when they run out: the one rule of
services/purchasing/positions.py (the same as the staff alerts' and the dashboard's): the
location's own reorder point, else the product's, else the one computed from demand, else
the low-stock threshold where the location holds the SKU; suggested when available + on
order is at or below it. How many: up to the point plus a review period of demand, in the
preferred supplier's packs and at least its minimum (domain/purchasing/reorder.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.purchasing_tables import Supplier, SupplierProduct
from dingdan.db.tables import Product
from dingdan.domain.purchasing import reorder
from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.inventory.locations import receiving
from dingdan.services.purchasing import positions
from dingdan.services.purchasing.positions import HISTORY_DAYS, daily_demand
from dingdan.services.purchasing.purchase_orders import fetch as fetch_po
from dingdan.services.purchasing.purchase_orders import insert_purchase_order, po_view
from dingdan.services.purchasing.shapes import (
    CheckedPOLine,
    DraftsCommand,
    DraftsView,
    PurchaseOrderView,
    Ranked,
    Suggestions,
    SuggestionView,
)
from dingdan.services.shared.common import Actor, audit

__all__ = ["HISTORY_DAYS", "create_drafts", "daily_demand", "low_stock", "suggestions"]

R = TypeVar("R", bound=Ranked)


def suggestion(p: positions.StockPosition) -> SuggestionView:
    """The contract's item for a position at or below its level."""
    assert p.point is not None
    supplier = p.supplier
    quantity = reorder.suggested_quantity(
        reorder.Position(p.available, p.on_order),
        p.point,
        p.mean,
        pack_size=int(supplier.pack_size) if supplier is not None else 1,
        minimum_quantity=int(supplier.minimum_order_quantity) if supplier is not None else 0,
    )
    return {
        "sku": p.sku,
        "location": p.location,
        "available": p.available,
        "on_order": p.on_order,
        "reorder_point": p.point,
        "suggested_quantity": quantity,
        "supplier": supplier.code if supplier is not None else None,
        "stockout_date": p.stockout_date.isoformat() if p.stockout_date else None,
    }


def suggestions(db: Database, *, location: str | None = None) -> Suggestions:
    """The contract's list: SKUs (per location) whose available plus on-order stock is at
    or below their reorder point, by location then SKU."""
    return {"items": [suggestion(p) for p in positions.low(db, location=location)]}


def soonest_first(items: list[R]) -> list[R]:
    """Those that run out first; those without a stock-out date after them, least
    available first."""
    return sorted(
        items,
        key=lambda s: (
            s["stockout_date"] is None,
            s["stockout_date"] or "",
            s["available"],
            s["sku"],
            s["location"],
        ),
    )


def low_stock(
    db: Database, *, location: str | None = None, limit: int = 20
) -> list[SuggestionView]:
    """The suggestions, soonest to run out first (the page and the dashboard)."""
    return soonest_first(suggestions(db, location=location)["items"])[:limit]


# ---- draft purchase orders from the suggestions ----------------------------------------------


def _unit_cost(conn: Connection, supplier: Any, product_id: int) -> int:
    """The supplier's last cost of the product, else the product's average cost when it is
    in the supplier's currency, else 0 (to fill in on the draft)."""
    cost = conn.execute(
        select(SupplierProduct.cost_minor).where(
            SupplierProduct.supplier_id == supplier.id, SupplierProduct.product_id == product_id
        )
    ).scalar()
    if cost is not None:
        return int(cost)
    row = conn.execute(
        select(Product.cost_micros, Product.cost_currency).where(Product.id == product_id)
    ).one()
    if row.cost_micros is None or row.cost_currency != supplier.currency:
        return 0
    from dingdan.domain.shared.money import exponent

    return round(row.cost_micros * 10 ** exponent(supplier.currency) / 1_000_000)


def create_drafts(db: Database, actor: Actor, data: DraftsCommand) -> DraftsView:
    """One draft PO per (preferred supplier, location) of the current suggestions (only the
    ``skus`` named, when given), topped up by whole packs to the supplier's minimum amount;
    SKUs without a preferred supplier are listed as skipped."""
    wanted = data.get("skus")
    items = suggestions(db, location=data.get("location"))["items"]
    if wanted is not None:
        errors = FieldErrors()
        if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
            errors.add("skus", "not_a_list")
        errors.raise_if_any()
        items = [s for s in items if s["sku"] in set(wanted)]
    groups: dict[tuple[str, str], list[SuggestionView]] = defaultdict(list)
    skipped = []
    for s in items:
        supplier = s["supplier"]
        if supplier is None:
            skipped.append(s["sku"])
        else:
            groups[(supplier, s["location"])].append(s)

    def work(conn: Connection) -> list[PurchaseOrderView]:
        made = []
        for (code, loc_code), lines in sorted(groups.items()):
            supplier = conn.execute(select(Supplier).where(Supplier.code == code)).one()
            location = receiving(conn, loc_code, field="location")
            pids = dict(
                conn.execute(
                    select(Product.sku, Product.id).where(
                        Product.sku.in_([s["sku"] for s in lines])
                    )
                ).all()
            )
            checked: list[CheckedPOLine] = [
                {
                    "product_id": int(pids[s["sku"]]),
                    "sku": s["sku"],
                    "quantity": s["suggested_quantity"],
                    "unit_cost_minor": _unit_cost(conn, supplier, int(pids[s["sku"]])),
                }
                for s in lines
            ]
            topped = reorder.top_up_to_amount(
                [ln["quantity"] for ln in checked],
                [ln["unit_cost_minor"] for ln in checked],
                int(supplier.pack_size),
                int(supplier.minimum_order_minor),
            )
            for ln, quantity in zip(checked, topped, strict=True):
                ln["quantity"] = quantity
            po_id = insert_purchase_order(conn, actor, supplier, location, checked, {})
            view = po_view(conn, fetch_po(conn, str(po_id)))
            audit(conn, actor, "create", "purchase_order", view["number"], after=view)
            made.append(view)
        return made

    return {"items": db.write(work) if groups else [], "skipped": sorted(set(skipped))}
