"""Bulk generator for the scale benchmark, and the scale benchmark itself.

`generate(url, orders=1_000_000)` fills a migrated database with 50,000 customers, 5,000 SKUs,
3 locations and N orders over two years in every status (open/completed/cancelled x
pending/partially_paid/paid/partially_refunded/refunded x unfulfilled/partially_fulfilled/
fulfilled), with their lines, allocations, payments, refunds, shipments and events, using
bulk loads: COPY on PostgreSQL (psycopg), executemany in one transaction on SQLite.

The stock stays exact: every line writes its ledger movements (reservation, then shipment or
release), the levels are the sums of those plus one receipt per level, and reserved equals
the open allocations, so `dingdan inventory verify` passes on the generated data.

    .venv/bin/python -m bench.generate --backend postgresql --orders 100000 [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sqlite3
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Table, text
from sqlalchemy.engine import make_url

import dingdan.db.all_tables  # noqa: F401 - every table on Base.metadata
from dingdan import bootstrap
from dingdan.db.engine import Database
from dingdan.db.tables import Base
from dingdan.services.orders import search_index

CUSTOMERS = 50_000
SKUS = 5_000
LOCATIONS = [("TPE", "台北倉", "TW", 0), ("TXG", "台中倉", "TW", 1), ("HKG", "香港倉", "HK", 2)]
CHANNELS = ["web"] * 10 + ["app"] * 4 + ["marketplace"] * 4 + ["phone", "store"]
METHODS = ["card", "bank_transfer", "cod", "e_wallet", "card", "card"]
SURNAMES = "王陳林張李黃吳劉蔡楊許鄭謝郭洪曾"
GIVEN = ["小明", "美玲", "志豪", "雅婷", "建國", "淑芬", "家豪", "怡君", "俊傑", "佳穎"]
CITIES = [("台北市", "110"), ("新北市", "220"), ("台中市", "407"), ("高雄市", "800"),
          ("台南市", "700"), ("桃園市", "330")]  # fmt: skip
# (status, financial_status, fulfillment_status, what happened to the lines)
RECENT = [
    (("open", "pending", "unfulfilled", "allocated"), 35),
    (("open", "paid", "unfulfilled", "allocated"), 30),
    (("open", "partially_paid", "unfulfilled", "allocated"), 10),
    (("open", "paid", "partially_fulfilled", "partial"), 10),
    (("open", "paid", "fulfilled", "shipped"), 10),
    (("cancelled", "pending", "unfulfilled", "cancelled"), 5),
]
OLDER = [
    (("completed", "paid", "fulfilled", "delivered"), 85),
    (("cancelled", "pending", "unfulfilled", "cancelled"), 6),
    (("cancelled", "refunded", "unfulfilled", "cancelled"), 3),
    (("completed", "partially_refunded", "fulfilled", "delivered"), 5),
    (("open", "paid", "fulfilled", "shipped"), 1),
]
RECENT_SHARE = 0.02  # the newest 2% of orders are still in flight
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


class Writer:
    """Rows by table, written in bulk in the table's column order. Columns a row leaves out
    get their scalar default, the row's created_at for timestamp defaults, or NULL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = make_url(url).get_backend_name() == "sqlite"
        self.rows = 0
        if self.sqlite:
            path = make_url(url).database
            assert path, f"{url} names no database file"
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
            self.conn = psycopg.connect(dsn)
            self.conn.execute("SET synchronous_commit = off")

    def _value(self, v: Any) -> Any:
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False)
        if self.sqlite:
            if isinstance(v, datetime):
                return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(v, bool):
                return int(v)
        return v

    def write(self, name: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = _table(name)
        cols = [c.name for c in table.columns]
        fill = {}
        for c in table.columns:
            default: Any = c.default  # a ScalarElementColumnDefault or a CallableColumnDefault
            if default is not None and default.is_scalar:
                fill[c.name] = default.arg
            elif default is not None:
                # A callable default: the time (written as the row's created_at), or a value
                # made fresh per row such as an empty list (locations.regions).
                made = default.arg(None)
                fill[c.name] = "@created_at" if isinstance(made, datetime) else made
            else:
                fill[c.name] = None

        def tup(r: dict[str, Any]) -> tuple:
            out = []
            for c in cols:
                v = r[c] if c in r else fill[c]
                if v == "@created_at":
                    v = r.get("created_at") or START
                out.append(self._value(v))
            return tuple(out)

        tuples = [tup(r) for r in rows]
        self.rows += len(tuples)
        if self.sqlite:
            marks = ", ".join("?" * len(cols))
            self.conn.executemany(
                f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", tuples
            )
            return
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy,
        ):
            for t in tuples:
                copy.write_row(t)

    def finish(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA foreign_keys=ON")
        else:
            self.conn.commit()
        self.conn.close()


def _customer(i: int) -> dict[str, Any]:
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
    city, postal = CITIES[i % len(CITIES)]
    return {
        "email": f"customer{i}@example.com",
        "phone": f"+8869{10000000 + i:08d}",
        "name": name,
        "address": {
            "name": name,
            "line1": f"中正路{i % 300 + 1}號",
            "line2": None,
            "city": city,
            "region": None,
            "postal_code": postal,
            "country": "TW",
            "phone": f"+8869{10000000 + i:08d}",
        },  # fmt: skip
    }


def _pick(rng: random.Random, table: list[tuple[tuple[str, str, str, str], int]]) -> tuple:
    return rng.choices([t for t, _ in table], weights=[w for _, w in table])[0]


class Generator:
    def __init__(self, url: str, orders: int, seed: int = 42) -> None:
        self.url = url
        self.n = orders
        self.rng = random.Random(seed)
        self.prices = [self.rng.choice([120, 180, 250, 350, 450, 680, 990, 1500, 2400]) * 100
                       for _ in range(SKUS)]  # fmt: skip
        self.reserved: dict[tuple[int, int], int] = defaultdict(int)
        self.shipped: dict[tuple[int, int], int] = defaultdict(int)
        self.ids: dict[str, int] = defaultdict(int)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def base(self, w: Writer) -> None:
        now = START
        w.write("locations", [
            {"id": i + 1, "code": c, "name": n, "country": cc, "priority": p, "kind": "warehouse",
             "active": True, "created_at": now, "updated_at": now}
            for i, (c, n, cc, p) in enumerate(LOCATIONS)
        ])  # fmt: skip
        w.write("products", [
            {"id": i + 1, "sku": f"GEN-{i:05d}", "name": f"商品 {i:05d}",
             "price_minor": self.prices[i], "currency": "TWD", "active": True,
             "allow_backorder": False, "tax_class": "standard", "low_stock_threshold": 10,
             "category": ["茶葉", "糕餅", "器皿", "生活", "食品"][i % 5],
             "created_at": now, "updated_at": now}
            for i in range(SKUS)
        ])  # fmt: skip
        for start in range(0, CUSTOMERS, 10_000):
            rows = []
            for i in range(start, min(CUSTOMERS, start + 10_000)):
                c = _customer(i)
                rows.append({"id": i + 1, "email": c["email"], "phone": c["phone"],
                             "name": c["name"], "addresses": [c["address"]],
                             "created_at": now, "updated_at": now})  # fmt: skip
            w.write("customers", rows)

    def orders(self, w: Writer, chunk: int = 20_000) -> None:
        step = SPAN / max(1, self.n)
        recent_from = int(self.n * (1 - RECENT_SHARE))
        for start in range(0, self.n, chunk):
            batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for i in range(start, min(self.n, start + chunk)):
                created = START + step * i + timedelta(seconds=self.rng.random())
                profile = _pick(self.rng, RECENT if i >= recent_from else OLDER)
                self.order(batch, i, created, profile)
            for name in ("orders", "order_lines", "allocations", "stock_movements", "payments",
                         "shipments", "order_events"):  # fmt: skip
                w.write(name, batch[name])

    def order(self, b: dict[str, list], i: int, created: datetime, profile: tuple) -> None:
        rng = self.rng
        status, fin, ful, fate = profile
        oid = self.next_id("orders")
        number = f"DD{i + 1:07d}"
        cust_i = int(CUSTOMERS * rng.random() ** 1.5)
        c = _customer(cust_i)
        loc = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
        products = rng.sample(range(SKUS), rng.choice([1, 1, 2, 2, 3]))
        subtotal = 0
        ship_lines = []
        for pos, p in enumerate(sorted(products, key=lambda x: int(SKUS * rng.random() ** 2))):
            q = rng.choice([1, 1, 1, 2, 3])
            price = self.prices[p]
            subtotal += q * price
            lid = self.next_id("order_lines")
            shipped = (
                q if fate in ("shipped", "delivered") or (fate == "partial" and pos == 0) else 0
            )
            cancelled = q if fate == "cancelled" else 0
            allocated = q - shipped - cancelled
            b["order_lines"].append({
                "id": lid, "order_id": oid, "position": pos, "product_id": p + 1,
                "sku": f"GEN-{p:05d}", "name": f"商品 {p:05d}", "quantity": q,
                "unit_price_minor": price, "tax_minor": round(q * price * 5 / 105),
                "allocated": allocated, "backordered": 0, "shipped": shipped, "returned": 0,
                "cancelled": cancelled,
            })  # fmt: skip
            key = (p + 1, loc)
            mv = {"product_id": p + 1, "location_id": loc, "reason": "order",
                  "reference": number, "actor": "generator", "created_at": created}  # fmt: skip
            b["stock_movements"].append(
                {**mv, "id": self.next_id("mv"), "kind": "reservation", "on_hand_delta": 0,
                 "reserved_delta": q})  # fmt: skip
            if shipped:
                b["stock_movements"].append(
                    {**mv, "id": self.next_id("mv"), "kind": "shipment",
                     "on_hand_delta": -shipped, "reserved_delta": -shipped})  # fmt: skip
                self.shipped[key] += shipped
                ship_lines.append({"sku": f"GEN-{p:05d}", "quantity": shipped})
            if cancelled:
                b["stock_movements"].append(
                    {**mv, "id": self.next_id("mv"), "kind": "release", "on_hand_delta": 0,
                     "reserved_delta": -cancelled})  # fmt: skip
            if allocated:
                self.reserved[key] += allocated
                b["allocations"].append({"id": self.next_id("allocations"), "order_id": oid,
                                         "line_id": lid, "product_id": p + 1,
                                         "location_id": loc, "quantity": allocated})  # fmt: skip
        shipping = 6000
        total = subtotal + shipping
        paid = {"pending": 0, "partially_paid": total // 2}.get(fin, total)
        refunded = {"refunded": paid, "partially_refunded": paid // 3}.get(fin, 0)
        channel = rng.choice(CHANNELS)
        method = rng.choice(METHODS)
        if method == "bank_transfer" and status == "open" and paid == 0:
            # Every generated order is older than the bank-transfer timeout (72 h), and the
            # worker cancels an open one with nothing paid: it would spend the measurement
            # cancelling tens of thousands of them. Such an order is paid on delivery.
            method = "cod"
        b["orders"].append({
            "id": oid, "number": number, "channel": channel,
            "external_id": f"MP-{i + 1}" if channel == "marketplace" else None,
            "status": status, "financial_status": fin, "fulfillment_status": ful,
            "currency": "TWD", "customer_id": cust_i + 1,
            "customer": {"email": c["email"], "name": c["name"], "phone": c["phone"]},
            "shipping_address": c["address"], "payment_method": method,
            "prices_include_tax": True, "subtotal_minor": subtotal, "shipping_minor": shipping,
            "tax_minor": round(total * 5 / 105), "total_minor": total, "paid_minor": paid,
            "refunded_minor": refunded,
            "search_text": search_index.search_fold(
                " ".join((number, c["email"], c["name"], c["phone"]))
            ),
            "tracking_token": secrets.token_urlsafe(24),
            "cancel_reason": "customer asked" if status == "cancelled" else None,
            "created_at": created, "updated_at": created + timedelta(days=2),
        })  # fmt: skip
        b["order_events"].append({"id": self.next_id("order_events"), "order_id": oid,
                                  "kind": "created", "actor": "generator",
                                  "message": f"Order {number} placed on {channel}",
                                  "data": {"total": str(total)},
                                  "created_at": created})  # fmt: skip
        if paid:
            b["payments"].append({"id": self.next_id("payments"), "order_id": oid,
                                  "kind": "payment", "amount_minor": paid, "method": method,
                                  "actor": "generator", "created_at": created})  # fmt: skip
        if refunded:
            b["payments"].append({"id": self.next_id("payments"), "order_id": oid,
                                  "kind": "refund", "amount_minor": refunded, "method": method,
                                  "reason": "refund", "actor": "generator",
                                  "created_at": created + timedelta(days=5)})  # fmt: skip
        if ship_lines:
            delivered = fate == "delivered"
            b["shipments"].append({
                "id": self.next_id("shipments"), "order_id": oid, "location_id": loc,
                "carrier": "black_cat", "tracking_number": f"{900000000000 + oid}",
                "status": "delivered" if delivered else "shipped", "lines": ship_lines,
                "delivered_at": created + timedelta(days=3) if delivered else None,
                "created_at": created + timedelta(days=1),
                "updated_at": created + timedelta(days=1),
            })  # fmt: skip

    def stock(self, w: Writer) -> None:
        """Levels = receipts + the orders' movements; one receipt per level."""
        levels, receipts = [], []
        for p in range(1, SKUS + 1):
            for loc in range(1, len(LOCATIONS) + 1):
                key = (p, loc)
                on_hand = self.reserved[key] + self.rng.randrange(0, 400)
                levels.append({"product_id": p, "location_id": loc, "on_hand": on_hand,
                               "reserved": self.reserved[key]})  # fmt: skip
                receipts.append({"id": self.next_id("mv"), "product_id": p, "location_id": loc,
                                 "kind": "receipt", "on_hand_delta": on_hand + self.shipped[key],
                                 "reserved_delta": 0, "reason": "receipt",
                                 "reference": "GEN-PO", "actor": "generator",
                                 "created_at": START - timedelta(days=1)})  # fmt: skip
        w.write("stock_levels", levels)
        w.write("stock_movements", receipts)


def _finish_sql(url: str, n: int) -> None:
    """Sequences past the generated ids, the order-number counter past the numbers, the
    search index (SQLite), ANALYZE."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql(
                    f"UPDATE counters SET value = {n + 1000} WHERE name = 'order_number'"
                )
                search_index.rebuild(conn)
                conn.commit()
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
                return
            tables = ["locations", "products", "customers", "orders", "order_lines",
                      "allocations", "stock_movements", "payments", "shipments",
                      "order_events"]  # fmt: skip
            for t in tables:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {t}))"
                )
            conn.exec_driver_sql(f"SELECT setval('order_number_seq', {n + 1000})")
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    finally:
        db.dispose()


def generate(url: str, orders: int, *, migrate: bool = True, seed: int = 42) -> dict[str, Any]:
    if migrate:
        bootstrap.migrate(url)
    t0 = time.perf_counter()
    gen = Generator(url, orders, seed)
    w = Writer(url)
    gen.base(w)
    gen.orders(w)
    gen.stock(w)
    w.finish()
    t1 = time.perf_counter()
    _finish_sql(url, orders)
    return {"orders": orders, "rows": w.rows, "load_s": round(t1 - t0, 1),
            "analyze_s": round(time.perf_counter() - t1, 1)}  # fmt: skip


# ---- the scale benchmark -------------------------------------------------------------

DASHBOARD = {
    "orders and revenue per day, last 30 days": """
        SELECT CAST(created_at AS DATE) AS day, COUNT(*), SUM(total_minor)
        FROM orders WHERE created_at >= :since AND status <> 'cancelled'
        GROUP BY CAST(created_at AS DATE) ORDER BY day""",
    "orders by status x financial x fulfillment": """
        SELECT status, financial_status, fulfillment_status, COUNT(*) FROM orders
        GROUP BY status, financial_status, fulfillment_status""",
    "top 10 SKUs by units, last 30 days": """
        SELECT l.sku, SUM(l.quantity) AS units FROM order_lines l
        JOIN orders o ON o.id = l.order_id
        WHERE o.created_at >= :since AND o.status <> 'cancelled'
        GROUP BY l.sku ORDER BY units DESC LIMIT 10""",
    "revenue by channel and month, last 12 months": """
        SELECT channel, SUBSTR(CAST(created_at AS TEXT), 1, 7) AS month, SUM(total_minor)
        FROM orders WHERE created_at >= :year_ago AND status <> 'cancelled'
        GROUP BY channel, month""",
    "open orders waiting to ship": """
        SELECT COUNT(*), MIN(created_at) FROM orders
        WHERE status = 'open' AND fulfillment_status <> 'fulfilled'""",
    "low stock (available <= threshold)": """
        SELECT COUNT(*) FROM stock_levels s JOIN products p ON p.id = s.product_id
        WHERE s.on_hand - s.reserved <= p.low_stock_threshold""",
}


def _dashboard(url: str, repeat: int = 3) -> dict[str, float]:
    db = Database(url)
    end = START + SPAN
    params = {"since": end - timedelta(days=30), "year_ago": end - timedelta(days=365)}
    out = {}
    try:
        with db.read_engine.connect() as conn:
            for name, sql in DASHBOARD.items():
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    conn.execute(text(sql), params).all()
                    times.append(time.perf_counter() - t0)
                conn.rollback()
                out[name] = round(statistics.median(times) * 1000, 1)
        try:  # the back office's own dashboard service, where this version of Dingdan has one
            from dingdan.services.reports import dashboard

            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                dashboard.summary(db, now=end)
                times.append(time.perf_counter() - t0)
            out["services.dashboard.summary()"] = round(statistics.median(times) * 1000, 1)
        except (ImportError, AttributeError, TypeError) as exc:
            print(f"  (services.dashboard.summary not measured: {exc})")
    finally:
        db.dispose()
    return out


def _list_paths(n: int) -> dict[str, str]:
    rng = random.Random(5)
    cust = _customer(int(CUSTOMERS * rng.random() ** 1.5))
    few = _customer(CUSTOMERS - 1 - rng.randrange(100))
    recent = (START + SPAN - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "newest 50": "/api/v1/orders?limit=50",
        "status=open": "/api/v1/orders?status=open&limit=50",
        "financial_status=refunded": "/api/v1/orders?financial_status=refunded&limit=50",
        "fulfillment_status=partially_fulfilled":
            "/api/v1/orders?fulfillment_status=partially_fulfilled&limit=50",
        "channel=store": "/api/v1/orders?channel=store&limit=50",
        "created_from (last 30 days)": f"/api/v1/orders?created_from={recent}&limit=50",
        "q=王 (common)": "/api/v1/orders?q=%E7%8E%8B&limit=50",
        # Shorter than a trigram: the CJK grams index (migration 0011)
        "q=林佳 (two CJK, 0.6% of orders)": f"/api/v1/orders?q={quote('林佳')}&limit=50",
        "q=美志 (two CJK, no order)": f"/api/v1/orders?q={quote('美志')}&limit=50",
        "q=諸 (one CJK, no order)": f"/api/v1/orders?q={quote('諸')}&limit=50",
        "q=customer email": f"/api/v1/orders?q={cust['email']}&limit=50",
        "q=customer phone": f"/api/v1/orders?q={quote(cust['phone'])}&limit=50",
        # Customers are drawn with a skew: the last ids have the fewest orders, and a rare
        # term is what a plan that scans the orders newest first (to fill the page) suits
        # worst (423 ms at 1M on PostgreSQL before the search looked up rare trigrams).
        "q=phone, customer with few orders":
            f"/api/v1/orders?q={quote(few['phone'])}&limit=50",
        "q=order number": f"/api/v1/orders?q=DD{n // 3:07d}&limit=50",
        "q=no match": "/api/v1/orders?q=zz-no-such-order&limit=50",
    }  # fmt: skip


def measure(url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from bench import load
    from bench.server import Server, cli, create_token

    out: dict[str, Any] = {}
    skus = [f"GEN-{i:05d}" for i in range(SKUS)]
    token = create_token(url)
    with Server(url, workers=args.workers) as server:
        load.run_orders(server.base_url, token, skus, 16, min(3.0, args.duration), seed=3)
        from bench.run import _CpuMeter

        backend = make_url(url).get_backend_name()
        cpu = _CpuMeter(server, make_url(url).database if backend == "postgresql" else None)
        r = load.run_orders(server.base_url, token, skus, 16, args.duration, seed=4)
        out["capture_16"] = {**r.as_dict(), **cpu.per_order(r.ok)}
        out["list"] = {}
        for name, path in _list_paths(n).items():
            g = load.timed_gets(server.base_url, token, path, args.list_requests)
            out["list"][name] = {"p50_ms": round(g.pct_ms(50), 1), "p95_ms": round(g.pct_ms(95), 1),
                                 "errors": g.errors}  # fmt: skip
    out["dashboard_ms"] = _dashboard(url)
    t0 = time.perf_counter()
    done = cli(url, "inventory", "verify", check=False, timeout=900)
    out["verify"] = {"exit": done.returncode, "seconds": round(time.perf_counter() - t0, 1)}
    return out


def scale_bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench.server import database, pg_available

    results = []
    for backend in [b for b in args.scale_backends.split(",") if b]:
        if backend == "postgresql" and not pg_available():
            continue
        for n in (10_000, args.scale_orders):
            with database(backend, "ddscale") as fresh:
                info = generate(fresh.url, n)
                print(f"  {backend} generated {n:,} orders ({info['rows']:,} rows) in "
                      f"{info['load_s']} s + analyze {info['analyze_s']} s",
                      flush=True)  # fmt: skip
                m = measure(fresh.url, n, args)
                c = m["capture_16"]
                print(f"  {backend} @{n:,}: capture {c['orders_per_s']}/s p99 {c['p99_ms']} ms; "
                      f"verify {m['verify']}", flush=True)  # fmt: skip
                results.append({"backend": backend, **info, **m})
    return results


def report(results: list[dict[str, Any]]) -> str:
    lines = ["### Scale", "", "| backend | stored orders | rows | load s | capture 16c orders/s "
             "| p99 ms | CPU ms/order server / PG | errors | verify |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results:
        c = r["capture_16"]
        errors = ", ".join(f"{k}: {v}" for k, v in c["errors"].items()) or "none"
        lines.append(
            f"| {r['backend']} | {r['orders']:,} | {r['rows']:,} | {r['load_s']} | "
            f"{c['orders_per_s']} | {c['p99_ms']} | {c.get('server_cpu_ms', '-')} / "
            f"{c.get('pg_cpu_ms', '-')} | {errors} | exit {r['verify']['exit']} in "
            f"{r['verify']['seconds']} s |"
        )
    big = [r for r in results if r["orders"] > 10_000] or results
    lines += ["", "List and search, `GET /api/v1/orders` (one client, sequential), p50 / p95 ms:",
              "", "| query | " + " | ".join(f"{r['backend']} @{r['orders']:,}" for r in results)
              + " |", "|---|" + "---|" * len(results)]  # fmt: skip
    for name in big[0]["list"]:
        cells = [f"{r['list'][name]['p50_ms']} / {r['list'][name]['p95_ms']}" for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Dashboard-like queries (SQL, median of 3), ms:", "",
              "| query | " + " | ".join(f"{r['backend']} @{r['orders']:,}" for r in results)
              + " |", "|---|" + "---|" * len(results)]  # fmt: skip
    for name in big[0]["dashboard_ms"]:
        cells = [str(r["dashboard_ms"].get(name, "-")) for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench.server import cli, database

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", default="postgresql")
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    p.add_argument("--measure", action="store_true", help="also run the scale measurements")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--list-requests", type=int, default=30)
    args = p.parse_args()
    with database(args.backend, "ddgen", keep=args.keep) as fresh:
        info = generate(fresh.url, args.orders)
        print(info)
        if args.measure:
            print(json.dumps(measure(fresh.url, args.orders, args), indent=2, ensure_ascii=False))
        done = cli(fresh.url, "inventory", "verify", check=False, timeout=900)
        print("inventory verify exit", done.returncode, done.stderr[-500:])
        if args.keep:
            print("kept:", fresh.url)


if __name__ == "__main__":
    main()
