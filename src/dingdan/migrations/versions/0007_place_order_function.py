"""PostgreSQL: the writes of an order capture in one function call

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:25:00

`services/orders/capture.py` plans the order in Python (products, prices, tax, allocation) and then,
on PostgreSQL, sends every write of the capture as ONE statement: `SELECT
dingdan_place_order(:p)`. The function finds or creates the customer, inserts the order
(numbered from `order_number_seq`), its lines, allocations, the conditional stock updates
in the order given (the caller sorts them in lock order), the ledger rows, the events and the
outbox row. When a stock row cannot take its reservation it
returns `{"short": true}` at once; the caller then raises, so the transaction (and every
write the function made) is rolled back and the capture retried, exactly as the
statement-by-statement path does on SQLite. One round trip instead of about ten.

SQLite has no stored functions: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION dingdan_place_order(p json) RETURNS json
LANGUAGE plpgsql AS $fn$
DECLARE
    o json := p -> 'order';
    c json := p -> 'customer';
    ts timestamptz := (p ->> 'now')::timestamptz;
    v_email text := c ->> 'email';
    v_phone text := c ->> 'phone';
    v_name text := c ->> 'name';
    v_address jsonb := (c -> 'address')::jsonb;
    cust record;
    v_customer_id bigint;
    v_addresses jsonb;
    v_new_address boolean;
    v_seq bigint;
    v_digits text;
    v_number text;
    v_order_id bigint;
    v_line_ids bigint[];
    m json;
    v_count int;
BEGIN
    -- The customer: by email; by phone only when the order gives no email.
    IF v_email IS NOT NULL THEN
        SELECT id, email, phone, name, addresses INTO cust FROM customers WHERE email = v_email;
    ELSE
        SELECT id, email, phone, name, addresses INTO cust FROM customers
        WHERE phone = v_phone ORDER BY id LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        INSERT INTO customers (email, phone, name, addresses, created_at, updated_at)
        VALUES (v_email, v_phone, v_name, json_build_array(v_address::json), ts, ts)
        RETURNING id INTO v_customer_id;
    ELSE
        v_customer_id := cust.id;
        v_addresses := coalesce(cust.addresses::jsonb, '[]'::jsonb);
        v_new_address := NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements(v_addresses) e WHERE e = v_address
        );
        IF v_new_address THEN
            -- The new address first, ten at most.
            SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) INTO v_addresses
            FROM (
                SELECT e, n FROM jsonb_array_elements(jsonb_build_array(v_address) || v_addresses)
                WITH ORDINALITY AS x(e, n) ORDER BY n LIMIT 10
            ) first_ten;
        END IF;
        -- Empty contact fields are filled from the order; filled ones are kept.
        IF v_new_address
           OR (coalesce(cust.email, '') = '' AND coalesce(v_email, '') <> '')
           OR (coalesce(cust.phone, '') = '' AND coalesce(v_phone, '') <> '')
           OR (coalesce(cust.name, '') = '' AND coalesce(v_name, '') <> '')
        THEN
            UPDATE customers SET
                addresses = CASE WHEN v_new_address THEN v_addresses::json ELSE addresses END,
                email = CASE WHEN coalesce(email, '') = '' AND coalesce(v_email, '') <> ''
                             THEN v_email ELSE email END,
                phone = CASE WHEN coalesce(phone, '') = '' AND coalesce(v_phone, '') <> ''
                             THEN v_phone ELSE phone END,
                name = CASE WHEN coalesce(name, '') = '' AND coalesce(v_name, '') <> ''
                            THEN v_name ELSE name END,
                updated_at = ts
            WHERE id = cust.id;
        END IF;
    END IF;

    -- The order, numbered as f"{prefix}{n:06d}".
    v_seq := nextval('order_number_seq');
    v_digits := CASE WHEN v_seq < 1000000 THEN lpad(v_seq::text, 6, '0') ELSE v_seq::text END;
    v_number := (p ->> 'prefix') || v_digits;
    INSERT INTO orders (
        number, channel, external_id, status, financial_status, fulfillment_status, currency,
        customer_id, customer, shipping_address, payment_method, prices_include_tax,
        subtotal_minor, shipping_minor, tax_minor, total_minor, paid_minor, refunded_minor,
        search_text, tracking_token, cancel_reason, created_at, updated_at
    ) VALUES (
        v_number, o ->> 'channel', o ->> 'external_id', o ->> 'status',
        o ->> 'financial_status', o ->> 'fulfillment_status', o ->> 'currency',
        v_customer_id, o -> 'customer', o -> 'shipping_address', o ->> 'payment_method',
        (o ->> 'prices_include_tax')::boolean, (o ->> 'subtotal_minor')::bigint,
        (o ->> 'shipping_minor')::bigint, (o ->> 'tax_minor')::bigint,
        (o ->> 'total_minor')::bigint, 0, 0,
        left(lower(p ->> 'prefix') || v_digits || (p ->> 'search_rest'), 800),
        o ->> 'tracking_token', NULL, ts, ts
    ) RETURNING id INTO v_order_id;

    WITH inserted AS (
        INSERT INTO order_lines (
            order_id, position, product_id, sku, name, quantity, unit_price_minor, tax_minor,
            allocated, backordered, shipped, returned, cancelled
        )
        SELECT v_order_id, (l ->> 'position')::int, (l ->> 'product_id')::bigint,
               l ->> 'sku', l ->> 'name', (l ->> 'quantity')::int,
               (l ->> 'unit_price_minor')::bigint, (l ->> 'tax_minor')::bigint,
               (l ->> 'allocated')::int, (l ->> 'backordered')::int, 0, 0, 0
        FROM json_array_elements(p -> 'lines') l
        RETURNING position, id
    )
    SELECT array_agg(id ORDER BY position) INTO v_line_ids FROM inserted;

    INSERT INTO allocations (order_id, line_id, product_id, location_id, quantity)
    SELECT v_order_id, v_line_ids[(a ->> 'line')::int + 1], (a ->> 'product_id')::bigint,
           (a ->> 'location_id')::bigint, (a ->> 'quantity')::int
    FROM json_array_elements(p -> 'allocations') a;

    -- The reservations: one conditional statement per row, in the order given (lock order).
    FOR m IN SELECT * FROM json_array_elements(p -> 'moves') LOOP
        UPDATE stock_levels SET reserved = reserved + (m ->> 'reserved')::int
        WHERE product_id = (m ->> 'product_id')::bigint
          AND location_id = (m ->> 'location_id')::bigint
          AND on_hand >= reserved + (m ->> 'reserved')::int
          AND reserved + (m ->> 'reserved')::int >= 0;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count <> 1 THEN
            RETURN json_build_object('short', true);
        END IF;
    END LOOP;

    INSERT INTO stock_movements (
        product_id, location_id, kind, on_hand_delta, reserved_delta, reason, reference,
        actor, created_at
    )
    SELECT (mv ->> 'product_id')::bigint, (mv ->> 'location_id')::bigint, 'reservation', 0,
           (mv ->> 'reserved')::int, 'order', v_number, p ->> 'actor', ts
    FROM json_array_elements(p -> 'ledger') mv;

    INSERT INTO order_events (order_id, kind, actor, message, data, created_at)
    SELECT v_order_id, e ->> 'kind', p ->> 'actor',
           replace(e ->> 'message', '{number}', v_number), e -> 'data', ts
    FROM json_array_elements(p -> 'events') WITH ORDINALITY AS x(e, n)
    ORDER BY n;

    INSERT INTO outbox (topic, payload, created_at, available_at, attempts)
    VALUES (
        'order.created',
        json_build_object(
            'number', v_number, 'total', p -> 'outbox' ->> 'total',
            'currency', p -> 'outbox' ->> 'currency', 'channel', p -> 'outbox' ->> 'channel'
        ),
        ts, ts, 0
    );

    RETURN json_build_object(
        'id', v_order_id, 'number', v_number, 'customer_id', v_customer_id,
        'line_ids', to_json(v_line_ids)
    );
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS dingdan_place_order(json)")
