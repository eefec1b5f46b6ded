"""Generators for the benchmarks, in SQL (generate_series): a shopper, products, orders
waiting for payment with their PaymentIntent attempt, and inbox rows.

`seed_orders(n)` makes orders `BENCH-<k>` (one line of product 1, 4200 + k % 100 cents,
usd) with attempt 1 `pi_bench_<k>`, pending payment. `seed_history(orders, events)` loads
the scale benchmark's past: paid orders and processed webhook events.
"""

from bench import common

PAYLOAD_SQL = """jsonb_build_object(
    'id', 'evt_hist_' || n, 'object', 'event', 'type', 'payment_intent.succeeded',
    'api_version', '2026-08-26.dahlia', 'created', 1790000000 + n, 'livemode', false,
    'data', jsonb_build_object('object', jsonb_build_object(
        'id', 'pi_hist_' || (n / 2), 'object', 'payment_intent', 'amount', 4200,
        'amount_received', 4200, 'currency', 'usd', 'status', 'succeeded',
        'latest_charge', 'ch_hist_' || (n / 2), 'description', repeat('x', 1800),
        'metadata', jsonb_build_object('order_id', (n / 2)::text, 'attempt', '1'))))"""


def sql(text: str) -> str:
    return common.psql(text, common.DB, timeout=3600)


def seed_user_and_product() -> tuple[int, int]:
    user = sql(
        "INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, "
        "is_active, date_joined, email) VALUES ('!', false, 'Bench', 'Shopper', false, true, "
        "now(), 'bench-shopper@example.com') RETURNING id"
    )
    product = sql(
        "INSERT INTO catalog_product (sku, name, description, unit_amount, currency, stock, "
        "reserved, sold, active, created_at, updated_at) VALUES ('BENCH-SEED', 'Seed item', "
        "'', 4200, 'usd', 1000000000, 1000000000, 0, true, now(), now()) RETURNING id"
    )
    return int(user.split()[0]), int(product.split()[0])


def seed_orders(
    count: int, start: int = 0, status: str = "pending_payment", prefix: str = "B"
) -> None:
    """Orders start+1 .. start+count (numbers <prefix><k>), one line and PaymentAttempt 1."""
    user, product = seed_user_and_product_cached()
    attempt_status = "succeeded" if status == "paid" else "requires_payment"
    received = "o.total" if status == "paid" else "0"
    sql(
        f"""
        INSERT INTO orders_order (number, email, status, status_before_dispute,
            fulfilment_status, currency, subtotal, total, amount_refunded, reserved_until,
            stock_released, created_at, updated_at, user_id)
        SELECT '{prefix}' || lpad(k::text, 12, '0'), 'bench-shopper@example.com', '{status}', '',
            'unfulfilled', 'usd', 4200 + k % 100, 4200 + k % 100, 0, now() + interval '1 day',
            false, now() - (k % 730) * interval '1 day' - (k % 1440) * interval '1 minute', now(),
            {user}
        FROM generate_series({start + 1}, {start + count}) k;
        INSERT INTO orders_orderline (sku, name, unit_amount, quantity, line_total, order_id,
            product_id)
        SELECT 'BENCH-SEED', 'Seed item', o.total, 1, o.total, o.id, {product}
        FROM orders_order o
        WHERE o.number BETWEEN '{prefix}' || lpad('{start + 1}', 12, '0')
                           AND '{prefix}' || lpad('{start + count}', 12, '0');
        INSERT INTO payments_paymentattempt (number, kind, status, stripe_payment_intent_id,
            stripe_checkout_session_id, stripe_charge_id, amount, currency, amount_received,
            amount_refunded, failure_code, failure_message, client_address, created_at,
            updated_at, order_id)
        SELECT 1, 'payment_intent', '{attempt_status}', 'pi_bench_' || o.id, NULL, '',
            o.total, 'usd', {received}, 0, '', '', '', now(), now(), o.id
        FROM orders_order o
        WHERE o.number BETWEEN '{prefix}' || lpad('{start + 1}', 12, '0')
                           AND '{prefix}' || lpad('{start + count}', 12, '0');
        """
    )


def seed_user_and_product_cached() -> tuple[int, int]:
    """The shopper and product of this database (made on first use)."""
    user = sql("SELECT id FROM accounts_user WHERE email = 'bench-shopper@example.com'")
    product = sql("SELECT id FROM catalog_product WHERE sku = 'BENCH-SEED'")
    if user and product:
        return int(user), int(product)
    return seed_user_and_product()


def pending_orders() -> list[tuple[int, int]]:
    """(order id, total) of every order waiting for payment."""
    rows = sql("SELECT id, total FROM orders_order WHERE status = 'pending_payment' ORDER BY id")
    return [tuple(int(x) for x in line.split("|")) for line in rows.splitlines() if line]


def seed_history(events: int) -> None:
    """`events` processed webhook events (about 2 KB each), two per order id n / 2."""
    step = 200_000
    for first in range(1, events + 1, step):
        last = min(events, first + step - 1)
        sql(
            f"""
            INSERT INTO payments_webhookevent (stripe_event_id, source, type, livemode,
                api_version, stripe_created, payload, received_at, status, attempts,
                last_error, handled_at, order_id, payment_intent_id)
            SELECT 'evt_hist_' || n, 'webhook', 'payment_intent.succeeded', false,
                '2026-08-26.dahlia', now() - interval '40 days', {PAYLOAD_SQL},
                now() - (n % 100000) * interval '20 seconds', 'processed', 1, '',
                now() - (n % 100000) * interval '20 seconds', n / 2, 'pi_hist_' || (n / 2)
            FROM generate_series({first}, {last}) n
            """
        )
