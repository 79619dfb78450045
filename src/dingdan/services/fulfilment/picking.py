"""Pick lists: what to take off one location's shelves for a batch of orders, by SKU.

An order is pickable at a location when it is open, paid in full or cash on delivery (the
same rule as shipping, so nothing is picked that could not leave), and holds unshipped
allocations there. The default batch (no orders named) also leaves out orders already packed
there and waiting for their shipment. Reading a pick list records nothing; ``mark_picked``
records a "picked" event on each order of the batch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, case, func, or_, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, Channel, Order, OrderEvent, PackRecord
from dingdan.db.tables import Product
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import pick_priority
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.domain.shared.text import spreadsheet_safe
from dingdan.services.fulfilment.shapes import PickedMark, PickLineView, PickListView
from dingdan.services.inventory import locations
from dingdan.services.orders.events import event
from dingdan.services.shared import live_changes
from dingdan.services.shared.common import Actor, check_limit, iso

MAX_ORDERS = 200


def _pickable(location_id: int) -> Any:
    held_here = (
        select(Allocation.id)
        .where(Allocation.order_id == Order.id, Allocation.location_id == location_id)
        .exists()
    )
    return (
        Order.status == "open",
        Order.hold.is_(None),  # held for a risk review: on no pick list until released
        or_(Order.payment_method == "cod", Order.paid_minor >= Order.total_minor),
        held_here,
    )


def check_numbers(numbers: Any, field: str = "orders") -> list[str] | None:
    """Order numbers, stripped, without repeats, in the order given; None stays None."""
    if numbers is None:
        return None
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise ValidationFailed.on(field, "not_order_numbers")
    if any(ch < " " or ch == "\x7f" for n in numbers for ch in n):
        raise ValidationFailed.on(field, "control_characters")
    out = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    if not out:
        raise ValidationFailed.on(field, "no_orders")
    if len(out) > MAX_ORDERS:
        raise ValidationFailed.on(field, "too_many_orders", max=MAX_ORDERS)
    return out


def _named_orders(conn: Connection, loc: Any, numbers: list[str]) -> list[Any]:
    rows = {r.number: r for r in conn.execute(select(Order).where(Order.number.in_(numbers)))}
    ok = {
        r.number: r
        for r in conn.execute(
            select(Order.id, Order.number).where(Order.number.in_(numbers), *_pickable(loc.id))
        )
    }
    errors = FieldErrors()
    for n in numbers:
        row = rows.get(n)
        if row is None:
            errors.add("orders", "unknown_order", number=n)
        elif row.status != "open":
            errors.add("orders", "order_not_open", number=n, status=row.status)
        elif row.payment_method != "cod" and row.paid_minor < row.total_minor:
            errors.add("orders", "order_not_paid", number=n)
        elif row.hold is not None:
            errors.add("orders", "order_held", number=n)
        elif n not in ok:
            errors.add("orders", "nothing_to_pick", number=n, location=loc.code)
    errors.raise_if_any("Some orders cannot be picked here.")
    return [ok[n] for n in numbers]


def channel_priority() -> Any:
    """An order's place in the pick queue: its channel's ``pick_priority``, else the default
    (store and pos first: domain/fulfilment/pick_priority.py). Lower first."""
    default = case((Order.channel.in_(pick_priority.FIRST_CHANNELS), pick_priority.FIRST))
    chosen = select(Channel.pick_priority).where(Channel.code == Order.channel).scalar_subquery()
    return func.coalesce(chosen, default, pick_priority.OTHERS)


def _oldest_orders(conn: Connection, loc: Any, limit: int) -> list[Any]:
    """By channel priority (store and pos first), then oldest first, leaving out orders
    already packed here and waiting for their shipment."""
    packed = (
        select(PackRecord.id)
        .where(
            PackRecord.order_id == Order.id,
            PackRecord.location_id == loc.id,
            PackRecord.shipment_id.is_(None),
        )
        .exists()
    )
    stmt = (
        select(Order.id, Order.number)
        .where(*_pickable(loc.id), ~packed)
        .order_by(channel_priority(), Order.id)
        .limit(limit)
    )
    return list(conn.execute(stmt))


def _lines(conn: Connection, location_id: int, orders: list[Any]) -> list[PickLineView]:
    if not orders:
        return []
    number_of = {o.id: o.number for o in orders}
    rows = conn.execute(
        select(
            Allocation.order_id,
            Product.sku,
            Product.name,
            Product.barcode,
            func.sum(Allocation.quantity).label("quantity"),
        )
        .join(Product, Product.id == Allocation.product_id)
        .where(Allocation.location_id == location_id, Allocation.order_id.in_(number_of))
        .group_by(Allocation.order_id, Product.sku, Product.name, Product.barcode)
    )
    by_sku: dict[str, PickLineView] = {}
    for r in rows:
        line = by_sku.setdefault(
            r.sku, {"sku": r.sku, "name": r.name, "barcode": r.barcode, "quantity": 0, "orders": []}
        )
        line["quantity"] += int(r.quantity)
        line["orders"].append({"order": number_of[r.order_id], "quantity": int(r.quantity)})
    for line in by_sku.values():
        line["orders"].sort(key=lambda s: s["order"])
    return [by_sku[sku] for sku in sorted(by_sku)]


def _build(
    conn: Connection, code: str, numbers: list[str] | None, limit: int
) -> tuple[list[Any], PickListView]:
    loc = locations.fetch(conn, code)
    if numbers is None:
        orders = _oldest_orders(conn, loc, limit)
    else:
        orders = _named_orders(conn, loc, numbers)
    lines = _lines(conn, loc.id, orders)
    return orders, {
        "location": loc.code,
        "location_name": loc.name,
        "generated_at": iso(utcnow()),
        "orders": [o.number for o in orders],
        "lines": lines,
        "total_quantity": sum(ln["quantity"] for ln in lines),
    }


def pick_list(
    db: Database, location_code: str, order_numbers: list[str] | None = None, limit: int = 50
) -> PickListView:
    """The pick list of ``order_numbers`` (each must be pickable here, else 422 naming it),
    or of the oldest ``limit`` pickable orders when None. Lines are sorted by SKU."""
    check_limit(limit)
    numbers = check_numbers(order_numbers)
    return db.read(lambda conn: _build(conn, location_code, numbers, limit)[1])


def picked_orders(db: Database, location_code: str, numbers: list[str]) -> dict[str, PickedMark]:
    """Which of these orders were marked as picked at this location: number -> the last
    ``picked`` event there (``at``, ``actor``). Read from the orders' timelines."""
    if not numbers:
        return {}

    def work(conn: Connection) -> dict[str, PickedMark]:
        rows = conn.execute(
            select(Order.number, OrderEvent.actor, OrderEvent.created_at, OrderEvent.data)
            .join(OrderEvent, OrderEvent.order_id == Order.id)
            .where(Order.number.in_(numbers), OrderEvent.kind == "picked")
            .order_by(OrderEvent.id)
        )
        out: dict[str, PickedMark] = {}
        for r in rows:
            if (r.data or {}).get("location") == location_code:
                out[r.number] = {"at": iso(r.created_at), "actor": r.actor}
        return out

    return db.read(work)


def mark_picked(
    db: Database, actor: Actor, location_code: str, order_numbers: list[str]
) -> PickListView:
    """The pick list of these orders, recording a "picked" event on each."""
    numbers = check_numbers(order_numbers)
    if numbers is None:
        raise ValidationFailed.on("orders", "required")

    def work(conn: Connection) -> PickListView:
        orders, data = _build(conn, location_code, numbers, MAX_ORDERS)
        for o in orders:
            share = [
                {"sku": ln["sku"], "quantity": s["quantity"]}
                for ln in data["lines"]
                for s in ln["orders"]
                if s["order"] == o.number
            ]
            event(
                conn,
                o.id,
                "picked",
                actor.name,
                f"Picked at {data['location']}",
                {"location": data["location"], "lines": share},
            )
        live_changes.touch(conn, ("warehouse",))  # no outbox event: the pick lists' screens
        return data

    return db.write(work)


# ---- documents ---------------------------------------------------------------------------

CSV_HEADER = ("sku", "name", "barcode", "total_quantity", "order", "quantity")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return spreadsheet_safe(value)


def pick_list_csv(data: PickListView) -> str:
    """One row per SKU and order, sorted by SKU then order, with a BOM so that Excel reads the
    UTF-8 (Chinese names) correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for ln in data["lines"]:
        for share in ln["orders"]:
            row = (ln["sku"], ln["name"], ln["barcode"] or "", ln["quantity"])
            writer.writerow([_cell(v) for v in row] + [share["order"], share["quantity"]])
    return out.getvalue()


def csv_filename(data: PickListView) -> str:
    stamp = (data["generated_at"] or "")[:16].replace("-", "").replace(":", "").replace("T", "-")
    return f"pick-list-{data['location']}-{stamp}.csv"


_HTML = """<!doctype html>
<html lang="zh-Hant">
<head>
<meta charset="utf-8">
<title>揀貨單 Pick list {{ d.location }}</title>
<style>
  @page { size: A4; margin: 12mm; }
  body { font-family: "Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei",
         sans-serif; font-size: 11pt; color: #000; margin: 0; }
  h1 { font-size: 16pt; margin: 0 0 2mm; }
  .meta { margin: 0 0 4mm; color: #333; }
  table { width: 100%; border-collapse: collapse; }
  th, td { border: 1px solid #999; padding: 2mm; vertical-align: middle; text-align: left; }
  th { background: #eee; }
  tr { page-break-inside: avoid; }
  td.qty { font-size: 16pt; font-weight: bold; text-align: center; }
  td.check { width: 8mm; }
  .code svg { display: block; height: 14mm; width: auto; }
  td.photo { width: 18mm; padding: 1mm; text-align: center; }
  td.photo img { display: block; max-width: 16mm; max-height: 16mm; margin: 0 auto; }
  .shares { margin: 0; padding: 0; list-style: none; }
  .empty { padding: 6mm; border: 1px dashed #999; }
</style>
</head>
<body>
<h1>揀貨單 Pick list · {{ d.location }} {{ d.location_name }}</h1>
<p class="meta">{{ d.generated_at }} UTC · {{ d.orders|length }} 筆訂單 orders ·
  {{ d.total_quantity }} 件 units</p>
{% if d.lines %}
<table>
  <thead><tr><th></th>{% if photos %}<th>照片 Photo</th>{% endif %}
    <th>條碼 Barcode</th><th>SKU / 品名 Name</th><th>數量 Qty</th>
    <th>訂單 Orders</th></tr></thead>
  <tbody>
  {% for ln in d.lines %}
    <tr>
      <td class="check">☐</td>
      {% if photos %}<td class="photo">{% if photos.get(ln.sku) %}
        <img src="{{ photos[ln.sku] }}" alt="">{% endif %}</td>{% endif %}
      <td class="code">{{ svgs[ln.sku] }}</td>
      <td><strong>{{ ln.sku }}</strong><br>{{ ln.name }}
        {% if ln.barcode %}<br><small>{{ ln.barcode }}</small>{% endif %}</td>
      <td class="qty">{{ ln.quantity }}</td>
      <td><ul class="shares">{% for s in ln.orders %}
        <li>{{ s.order }} × {{ s.quantity }}</li>{% endfor %}</ul></td>
    </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="empty">沒有可揀貨的訂單 Nothing to pick here.</p>
{% endif %}
<p class="meta">{{ d.orders|join(", ") }}</p>
</body>
</html>
"""


def code128_svg(value: str) -> str:
    """An inline Code128 SVG of ``value`` (no XML prolog); empty if it cannot be encoded."""
    import barcode
    from barcode.writer import SVGWriter

    buf = io.BytesIO()
    try:
        code = barcode.get("code128", value, writer=SVGWriter())
        code.write(buf, options={"module_height": 8.0, "font_size": 0, "quiet_zone": 2.0})
    except (barcode.errors.BarcodeError, ValueError):
        return ""
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.find("<svg") :]
    return svg.replace(' id="barcode_group"', "")


def pick_list_html(data: PickListView, photos: Mapping[str, str] | None = None) -> str:
    """A printable, self-contained page: inline CSS and SVG, no script, nothing fetched.
    ``photos`` (SKU → a ``data:`` URL) puts each product's picture beside its line."""
    from jinja2 import Environment
    from markupsafe import Markup

    env = Environment(autoescape=True)
    svgs = {ln["sku"]: Markup(code128_svg(ln["sku"])) for ln in data["lines"]}  # noqa: S704
    shown = {k: v for k, v in (photos or {}).items() if v.startswith("data:image/")}
    return env.from_string(_HTML).render(d=data, svgs=svgs, photos=shown)
