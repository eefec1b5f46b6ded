#!/usr/bin/env python
"""Schema fuzzing of the whole API with schemathesis against our own OpenAPI schema.

Starts the shop (gunicorn, worker, Redis, the Stripe emulator) on a fresh database with a
seeded shopper (token), two products, a cart line and an order, then runs
`schemathesis run <shop>/api/v1/schema/` with that shopper's token over every operation:
FAULTS_FUZZ_EXAMPLES (50) examples an operation, a fixed seed, the checks
`not_a_server_error` and `response_schema_conformance`.

Invariant: no 5xx and no response that breaks the schema (schemathesis exits 0).
"""

import os
import re
import subprocess
import sys

from harness import ROOT, Report, Shop, base_env, fault_database, setup_django

EXAMPLES = os.environ.get("FAULTS_FUZZ_EXAMPLES", "50")
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"


def main() -> int:
    report = Report("fuzz_api")
    if not SCHEMATHESIS.exists():
        report.step("schemathesis is not installed: .venv/bin/pip install -e '.[dev]'")
        report.check("schemathesis ran", False, "not installed")
        return report.finish()
    with fault_database("fuzz_api", report) as db_url:
        setup_django(base_env(db_url))
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.utils import timezone

        from accounts.tokens import issue_token
        from catalog.models import Product
        from orders.models import Cart, CartLine, Order, OrderLine

        user = get_user_model().objects.create_user(email="fuzz@example.com", password="x" * 20)
        token = issue_token(user)
        usd = Product.objects.create(
            sku="FUZZ-1",
            name="Fuzz",
            description="x",
            unit_amount=1200,
            currency="usd",
            stock=1000,
            active=True,
        )
        Product.objects.create(
            sku="FUZZ-2",
            name="Fuzz yen",
            description="x",
            unit_amount=500,
            currency="jpy",
            stock=1000,
            active=True,
        )
        cart = Cart.objects.create(user=user, currency="usd")
        CartLine.objects.create(cart=cart, product=usd, quantity=1)
        order = Order.objects.create(
            user=user,
            email=user.email,
            currency="usd",
            subtotal=1200,
            total=1200,
            reserved_until=timezone.now() + timezone.timedelta(hours=2),
        )
        OrderLine.objects.create(
            order=order,
            product=usd,
            sku=usd.sku,
            name=usd.name,
            unit_amount=1200,
            quantity=1,
            line_total=1200,
        )
        connection.close()
        shop = Shop(db_url, emulator=True)
        try:
            command = [
                str(SCHEMATHESIS),
                "run",
                f"{shop.url}/api/v1/schema/",
                "--url",
                f"{shop.url}",
                "-H",
                f"Authorization: Token {token}",
                "-c",
                "not_a_server_error,response_schema_conformance",
                "-n",
                EXAMPLES,
                "--seed",
                "8",
                "--request-timeout",
                "20",
                "--no-color",
            ]
            report.step(
                f"schemathesis run {shop.url}/api/v1/schema/ -n {EXAMPLES} (checks: "
                "not_a_server_error, response_schema_conformance)"
            )
            # schemathesis keeps a cache in its working directory: a temp dir, not the tree.
            done = subprocess.run(  # noqa: S603
                command, capture_output=True, text=True, timeout=900, cwd=shop.log_dir, check=False
            )
            out = done.stdout + done.stderr
            print(out[-12000:], flush=True)
            summary = re.findall(r"^.*(?:passed|failed|errored).*$", out, re.M)[-3:]
            report.check(
                "no 5xx and no response that breaks the schema (schemathesis exit 0)",
                done.returncode == 0,
                f"exit {done.returncode}; {' | '.join(s.strip() for s in summary)}",
            )
            server_errors = re.findall(r"\s(5\d\d) ", shop.gunicorn.output(2_000_000))
            report.step(f"5xx lines in gunicorn's log: {len(server_errors)}")
        finally:
            shop.stop()
            from django.db import connections

            connections.close_all()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
