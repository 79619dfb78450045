-- PostgreSQL: every write of an order's capture in one statement, exactly as Python decided
-- it (services/orders/capture.py, _one_call_payload). Python matched the customer, numbered
-- the order, built its search text, planned the allocations, the ledger rows, the events
-- and the outbox message; this function only writes them, and refuses (SQLSTATE DD001) when
-- a stock level can no longer take its reservation, so the statement fails whole. It also
-- refuses (SQLSTATE DD002) when the customer Python matched is no longer as Python read it:
-- another order changed the customer's row in between (a second new address would have
-- overwritten the first), or, for a new customer found by phone alone, another order has
-- made a customer with that phone since (phones have no unique key: two customers would have
-- been made). Python then reads and decides again.
--
-- The one source of the function: migration 0013 creates it from this file, and
-- tests/integration/test_capture_parity.py checks that the database's function is this one.
-- A change here needs a migration that runs this file again (the last: 0051: DD002).
CREATE OR REPLACE FUNCTION dingdan_place_order(p_text json) RETURNS json
LANGUAGE plpgsql AS $fn$
DECLARE
    p jsonb := p_text::jsonb;
    o jsonb := p -> 'order';
    c jsonb := p -> 'customer';
    s jsonb := p -> 'customer' -> 'values';
    k jsonb := p -> 'idempotency';
    ts timestamptz := (p ->> 'now')::timestamptz;
    v_customer_id bigint := (c ->> 'id')::bigint;
    v_order_id bigint;
    v_line_ids bigint[];
    m jsonb;
    v_count int;
BEGIN
    IF v_customer_id IS NULL THEN
        IF c ? 'phone_lock' THEN
            -- Found by phone alone (the order gave no email), and none was found: held until
            -- this statement commits, so a second such order waits, then finds this one's.
            PERFORM pg_advisory_xact_lock((c ->> 'phone_lock')::bigint);
            IF EXISTS (SELECT 1 FROM customers WHERE phone = s ->> 'phone') THEN
                RAISE EXCEPTION 'a customer with this phone was made meanwhile'
                    USING ERRCODE = 'DD002';
            END IF;
        END IF;
        INSERT INTO customers (email, phone, name, addresses, created_at, updated_at)
        VALUES (s ->> 'email', s ->> 'phone', s ->> 'name', (s -> 'addresses')::json, ts, ts)
        RETURNING id INTO v_customer_id;
    ELSIF s <> '{}'::jsonb THEN
        UPDATE customers SET
            email = CASE WHEN s ? 'email' THEN s ->> 'email' ELSE email END,
            phone = CASE WHEN s ? 'phone' THEN s ->> 'phone' ELSE phone END,
            name = CASE WHEN s ? 'name' THEN s ->> 'name' ELSE name END,
            addresses = CASE WHEN s ? 'addresses' THEN (s -> 'addresses')::json
                             ELSE addresses END,
            updated_at = ts
        WHERE id = v_customer_id
          AND (NOT c ? 'seen' OR (
                email IS NOT DISTINCT FROM c -> 'seen' ->> 'email'
            AND phone IS NOT DISTINCT FROM c -> 'seen' ->> 'phone'
            AND name IS NOT DISTINCT FROM c -> 'seen' ->> 'name'
            AND coalesce(addresses::jsonb, 'null'::jsonb)
                = coalesce(c -> 'seen' -> 'addresses', 'null'::jsonb)));
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count = 0 THEN
            RAISE EXCEPTION 'customer % changed since it was read', v_customer_id
                USING ERRCODE = 'DD002';
        END IF;
    END IF;

    INSERT INTO orders (
        number, channel, external_id, status, financial_status, fulfillment_status, currency,
        customer_id, customer, shipping_address, payment_method, locale, prices_include_tax,
        subtotal_minor, shipping_minor, tax_minor, total_minor, paid_minor, refunded_minor,
        search_text, tracking_token, cancel_reason, delivery, risk, hold, client_ip,
        billing_address, created_at, updated_at
    ) VALUES (
        o ->> 'number', o ->> 'channel', o ->> 'external_id', o ->> 'status',
        o ->> 'financial_status', o ->> 'fulfillment_status', o ->> 'currency',
        v_customer_id, (o -> 'customer')::json, (o -> 'shipping_address')::json,
        o ->> 'payment_method', COALESCE(o ->> 'locale', 'en'),
        (o ->> 'prices_include_tax')::boolean, (o ->> 'subtotal_minor')::bigint,
        (o ->> 'shipping_minor')::bigint, (o ->> 'tax_minor')::bigint,
        (o ->> 'total_minor')::bigint, (o ->> 'paid_minor')::bigint,
        (o ->> 'refunded_minor')::bigint, o ->> 'search_text', o ->> 'tracking_token',
        o ->> 'cancel_reason', (o -> 'delivery')::json, (o -> 'risk')::json, o ->> 'hold',
        o ->> 'client_ip', (o -> 'billing_address')::json, ts, ts
    ) RETURNING id INTO v_order_id;

    IF k IS NOT NULL AND jsonb_typeof(k) = 'object' THEN
        INSERT INTO idempotency_keys (scope, key, request_hash, order_id, created_at)
        VALUES (k ->> 'scope', k ->> 'key', k ->> 'request_hash', v_order_id, ts);
    END IF;

    WITH inserted AS (
        INSERT INTO order_lines (
            order_id, position, product_id, sku, name, quantity, unit_price_minor, tax_minor,
            allocated, backordered, shipped, returned, cancelled
        )
        SELECT v_order_id, (l ->> 'position')::int, (l ->> 'product_id')::bigint,
               l ->> 'sku', l ->> 'name', (l ->> 'quantity')::int,
               (l ->> 'unit_price_minor')::bigint, (l ->> 'tax_minor')::bigint,
               (l ->> 'allocated')::int, (l ->> 'backordered')::int, (l ->> 'shipped')::int,
               (l ->> 'returned')::int, (l ->> 'cancelled')::int
        FROM jsonb_array_elements(p -> 'lines') l
        RETURNING position, id
    )
    SELECT array_agg(id ORDER BY position) INTO v_line_ids FROM inserted;

    INSERT INTO allocations (order_id, line_id, product_id, location_id, quantity)
    SELECT v_order_id, v_line_ids[(a ->> 'line')::int + 1], (a ->> 'product_id')::bigint,
           (a ->> 'location_id')::bigint, (a ->> 'quantity')::int
    FROM jsonb_array_elements(p -> 'allocations') a;

    INSERT INTO stock_movements (
        product_id, location_id, kind, on_hand_delta, reserved_delta, reason, reference,
        actor, created_at
    )
    SELECT (mv ->> 'product_id')::bigint, (mv ->> 'location_id')::bigint, mv ->> 'kind',
           (mv ->> 'on_hand_delta')::int, (mv ->> 'reserved_delta')::int, mv ->> 'reason',
           mv ->> 'reference', mv ->> 'actor', ts
    FROM jsonb_array_elements(p -> 'ledger') WITH ORDINALITY AS x(mv, n)
    ORDER BY n;

    INSERT INTO order_events (order_id, kind, actor, message, data, created_at)
    SELECT v_order_id, e ->> 'kind', e ->> 'actor', e ->> 'message', (e -> 'data')::json, ts
    FROM jsonb_array_elements(p -> 'events') WITH ORDINALITY AS x(e, n)
    ORDER BY n;

    INSERT INTO outbox (topic, payload, created_at, available_at, attempts)
    SELECT b ->> 'topic', (b -> 'payload')::json, ts, ts, 0
    FROM jsonb_array_elements(p -> 'outbox') WITH ORDINALITY AS x(b, n)
    ORDER BY n;

    -- The reservations, last: one conditional statement per row, in the order given (lock
    -- order). A row that cannot take its share fails the whole statement.
    FOR m IN SELECT * FROM jsonb_array_elements(p -> 'moves') LOOP
        UPDATE stock_levels SET reserved = reserved + (m ->> 'reserved')::int
        WHERE product_id = (m ->> 'product_id')::bigint
          AND location_id = (m ->> 'location_id')::bigint
          AND on_hand >= reserved + (m ->> 'reserved')::int
          AND reserved + (m ->> 'reserved')::int >= 0;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count <> 1 THEN
            RAISE EXCEPTION 'stock is short for product %', m ->> 'product_id'
                USING ERRCODE = 'DD001';
        END IF;
    END LOOP;

    RETURN json_build_object(
        'id', v_order_id, 'customer_id', v_customer_id, 'line_ids', to_json(v_line_ids)
    );
END
$fn$;
