"""The limit: PostgreSQL itself running Dingdan's order-capture transaction, driven by pgbench
(a C client) on the same server, on a fresh database with Dingdan's schema.

Two scripts:
- ``shape``: the transaction of the issue: 3 conditional stock updates in key order, the
  order insert, 3 lines in one insert, an outbox row, synchronous commit. This is the limit
  Dingdan's throughput is compared with.
- ``full``: every statement Dingdan's place_order actually issues (the reads that plan the
  order, customer lookup and update, counter, allocations, ledger rows, events, the reads of
  the answer), still from C: what the same SQL costs without Python.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from bench.load import percentile
from bench.server import CpuSampler, FreshDatabase, pg_backends

PREFILL_ORDERS = 20_000

COMMON_SET = r"""
\set a random(1, :nskus)
\set b random(1, :nskus)
\set c random(1, :nskus)
\set lo least(:a, :b, :c)
\set hi greatest(:a, :b, :c)
\set mid :a + :b + :c - :lo - :hi
\set cust random(1, 1000)
"""

UPDATES = r"""
UPDATE stock_levels SET on_hand = on_hand + 0, reserved = reserved + 1 WHERE product_id = :lo AND location_id = 1 AND on_hand + 0 >= reserved + 1 AND reserved + 1 >= 0;
UPDATE stock_levels SET on_hand = on_hand + 0, reserved = reserved + 1 WHERE product_id = :mid AND location_id = 1 AND on_hand + 0 >= reserved + 1 AND reserved + 1 >= 0;
UPDATE stock_levels SET on_hand = on_hand + 0, reserved = reserved + 1 WHERE product_id = :hi AND location_id = 1 AND on_hand + 0 >= reserved + 1 AND reserved + 1 >= 0;
"""  # noqa: E501

ORDER_INSERT = r"""
INSERT INTO orders (number, channel, external_id, status, financial_status, fulfillment_status, currency, customer_id, customer, shipping_address, payment_method, prices_include_tax, subtotal_minor, shipping_minor, tax_minor, total_minor, paid_minor, refunded_minor, search_text, tracking_token, created_at, updated_at) VALUES ('PB' || nextval('order_number_seq'), 'web', NULL, 'open', 'pending', 'unfulfilled', 'TWD', :cust, '{"email": "pb@example.com", "name": "王小明", "phone": "+886912345678"}', '{"name": "王小明", "line1": "信義路五段7號", "line2": null, "city": "台北市", "region": null, "postal_code": "110", "country": "TW", "phone": "+886912345678"}', 'bank_transfer', true, 30000, 6000, 1714, 36000, 0, 0, 'pb pb@example.com 王小明 +886912345678', md5(random()::text || clock_timestamp()::text), now(), now()) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, position, product_id, sku, name, quantity, unit_price_minor, tax_minor, allocated, backordered, shipped, returned, cancelled) VALUES (:order_id, 0, :lo, 'SKU' || :lo, 'Product', 1, 10000, 476, 1, 0, 0, 0, 0), (:order_id, 1, :mid, 'SKU' || :mid, 'Product', 1, 10000, 476, 1, 0, 0, 0, 0), (:order_id, 2, :hi, 'SKU' || :hi, 'Product', 1, 10000, 476, 1, 0, 0, 0, 0) RETURNING id;
"""  # noqa: E501

OUTBOX = r"""
INSERT INTO outbox (topic, payload, created_at, available_at, attempts) VALUES ('order.created', '{"number": "PB1", "total": "360.00", "currency": "TWD", "channel": "web"}', now(), now(), 0);
"""  # noqa: E501

SHAPE = COMMON_SET + "BEGIN;\n" + UPDATES + ORDER_INSERT + OUTBOX + "END;\n"

FULL_READS_BEFORE = r"""
SELECT channels.code FROM channels WHERE channels.active IS true;
BEGIN;
SELECT id, sku, name, price_minor, currency, active, allow_backorder, tax_class FROM products WHERE sku IN ('SKU' || :lo, 'SKU' || :mid, 'SKU' || :hi);
SELECT id FROM locations WHERE active IS true ORDER BY priority, id;
SELECT product_id, location_id, on_hand, reserved FROM stock_levels WHERE product_id IN (:lo, :mid, :hi);
SELECT * FROM customers WHERE email = 'c' || :cust || '@example.com';
UPDATE customers SET updated_at = now() WHERE id = :cust;
SELECT nextval('order_number_seq');
"""  # noqa: E501

FULL_ALLOCATIONS = r"""
INSERT INTO allocations (order_id, line_id, product_id, location_id, quantity) SELECT :order_id, id, product_id, 1, 1 FROM order_lines WHERE order_id = :order_id;
"""  # noqa: E501

FULL_LEDGER = r"""
INSERT INTO stock_movements (product_id, location_id, kind, on_hand_delta, reserved_delta, reason, reference, actor, created_at) VALUES (:lo, 1, 'reservation', 0, 1, 'order', 'PB', 'bench', now()), (:mid, 1, 'reservation', 0, 1, 'order', 'PB', 'bench', now()), (:hi, 1, 'reservation', 0, 1, 'order', 'PB', 'bench', now());
INSERT INTO order_events (order_id, kind, actor, message, data, created_at) VALUES (:order_id, 'created', 'bench', 'Order placed on web', '{"total": "360.00", "currency": "TWD"}', now()) RETURNING id;
INSERT INTO order_events (order_id, kind, actor, message, data, created_at) VALUES (:order_id, 'allocated', 'bench', NULL, '{"allocations": []}', now()) RETURNING id;
"""  # noqa: E501

FULL_READS_AFTER = r"""
SELECT * FROM orders WHERE id = :order_id;
SELECT * FROM order_lines WHERE order_id = :order_id ORDER BY position;
SELECT locations.code, order_lines.sku, allocations.quantity FROM allocations JOIN locations ON locations.id = allocations.location_id JOIN order_lines ON order_lines.id = allocations.line_id WHERE allocations.order_id = :order_id ORDER BY order_lines.position, locations.priority, locations.code;
"""  # noqa: E501

# The statements of services.orders.place_order, in its order (one round trip each).
FULL = (
    COMMON_SET
    + FULL_READS_BEFORE
    + ORDER_INSERT
    + FULL_ALLOCATIONS
    + UPDATES
    + FULL_LEDGER
    + OUTBOX
    + FULL_READS_AFTER
    + "END;\n"
)


def pgbench_path() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def seed(db: FreshDatabase, nskus: int) -> None:
    """Dingdan's schema (its migrations), one location, ``nskus`` products with deep stock,
    1,000 customers and some orders already stored, then ANALYZE."""
    import psycopg

    from dingdan import bootstrap

    bootstrap.migrate(db.url)
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO locations (id, code, name, kind, country, priority, active, created_at,"
            " updated_at) VALUES (1, 'TPE', 'Taipei', 'warehouse', 'TW', 0, true, now(), now())"
        )
        conn.execute(
            "INSERT INTO products (id, sku, name, price_minor, currency, tax_class, active,"
            " allow_backorder, low_stock_threshold, created_at, updated_at)"
            " SELECT g, 'SKU' || g, 'Product ' || g, 10000, 'TWD', 'standard', true, false, 0,"
            " now(), now() FROM generate_series(1, %s) g",
            (nskus,),
        )
        conn.execute(
            "INSERT INTO stock_levels (product_id, location_id, on_hand, reserved)"
            " SELECT g, 1, 1000000000, 0 FROM generate_series(1, %s) g",
            (nskus,),
        )
        conn.execute(
            "INSERT INTO customers (id, email, name, addresses, created_at, updated_at)"
            " SELECT g, 'c' || g || '@example.com', 'C', '[]', now(), now()"
            " FROM generate_series(1, 1000) g"
        )
        conn.execute(
            "INSERT INTO orders (number, channel, status, financial_status, fulfillment_status,"
            " currency, customer_id, customer, shipping_address, payment_method,"
            " prices_include_tax, subtotal_minor, shipping_minor, tax_minor, total_minor,"
            " paid_minor, refunded_minor, search_text, tracking_token, created_at, updated_at)"
            " SELECT 'PRE' || g, 'web', 'open', 'pending', 'unfulfilled', 'TWD', 1 + g %% 1000,"
            " '{}', '{}', 'cod', true, 100, 0, 0, 100, 0, 0, 'pre', 'pre' || g, now(), now()"
            " FROM generate_series(1, %s) g",
            (PREFILL_ORDERS,),
        )
        conn.execute(
            "INSERT INTO order_lines (order_id, position, product_id, sku, name, quantity,"
            " unit_price_minor, tax_minor, allocated, backordered, shipped, returned, cancelled)"
            " SELECT o.id, 0, 1 + o.id %% %s, 'SKU', 'P', 1, 100, 0, 0, 0, 0, 0, 1"
            " FROM orders o",
            (nskus,),
        )
        conn.execute("ANALYZE")


@dataclass
class PgbenchResult:
    script: str
    clients: int
    skus: int
    tps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failed: int
    transactions: int
    pg_cpu_ms: float = 0.0  # CPU of the server's backends per transaction
    pgbench_cpu_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run(
    db: FreshDatabase, *, script: str, clients: int, skus: int, duration: float, threads: int = 2
) -> PgbenchResult:
    exe = pgbench_path()
    if exe is None:
        raise RuntimeError("pgbench not found: apt-get install postgresql-contrib")
    body = {"shape": SHAPE, "full": FULL}[script]
    with tempfile.TemporaryDirectory(prefix="ddpgbench-") as tmp:
        path = os.path.join(tmp, f"{script}.sql")
        with open(path, "w") as f:
            f.write(body)
        cmd = [
            exe, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(threads, clients)),
            "-T", str(max(1, round(duration))), "-D", f"nskus={skus}", "--max-tries=10",
            "-l", "--log-prefix", os.path.join(tmp, "log"), "-f", path,
            "-h", "127.0.0.1", "-U", "postgres", db.name,
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp
        )
        pg_cpu = CpuSampler(lambda: pg_backends(db.name)).start()
        bench_cpu = CpuSampler(lambda: [proc.pid]).start()
        stdout, stderr = proc.communicate(timeout=duration + 120)
        cpu_db, cpu_client = pg_cpu.stop(), bench_cpu.stop()
        if proc.returncode not in (0, 2):
            raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{stderr[-3000:]}")
        latencies = []
        for log in glob.glob(os.path.join(tmp, "log*")):
            with open(log) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        latencies.append(int(parts[2]) / 1e6)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", stdout)
    failed = re.search(r"number of failed transactions: (\d+)", stdout)
    processed = re.search(r"number of transactions actually processed: (\d+)", stdout)
    n = max(1, int(processed.group(1)) if processed else 0)
    return PgbenchResult(
        script=script,
        clients=clients,
        skus=skus,
        tps=float(tps.group(1)) if tps else 0.0,
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p95_ms=round(percentile(latencies, 95) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        failed=int(failed.group(1)) if failed else 0,
        transactions=int(processed.group(1)) if processed else 0,
        pg_cpu_ms=round(cpu_db / n * 1000, 3),
        pgbench_cpu_ms=round(cpu_client / n * 1000, 3),
    )


if __name__ == "__main__":
    import argparse

    from bench.server import database

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--script", default="shape", choices=["shape", "full"])
    args = parser.parse_args()
    with database("postgresql", "ddpgbench") as fresh:
        seed(fresh, 1000)
        for clients, skus in ((16, 1000), (64, 10)):
            r = run(fresh, script=args.script, clients=clients, skus=skus, duration=args.duration)
            print(r.as_dict())
