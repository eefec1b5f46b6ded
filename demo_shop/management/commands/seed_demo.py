"""A demo catalog, a shopper and a staff user. Safe to run again: it updates, never duplicates."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Product

DEMO_PRODUCTS = [
    # sku, name, description, unit_amount (minor units), currency, stock
    ("TEE-BLK-M", "Black T-shirt (M)", "Organic cotton, 180 g/m².", 2500, "usd", 50),
    ("MUG-ENAMEL", "Enamel mug", "Camp mug, 350 ml.", 1800, "usd", 30),
    ("CAP-NAVY", "Navy cap", "Adjustable strap.", 2200, "usd", 20),
    ("STICKERS-5", "Sticker pack", "Five vinyl stickers.", 600, "usd", 200),
    ("POSTER-A2", "Poster A2", "Risograph print, signed.", 4500, "usd", 5),
    ("LAST-ONE", "Collector's pin", "Only one made.", 1500, "usd", 1),
    ("TENUGUI", "Tenugui towel", "Hand-dyed cotton, priced in yen.", 1800, "jpy", 40),
]

SHOPPER_EMAIL = "shopper@example.com"
STAFF_EMAIL = "staff@example.com"
STAFF_PERMISSIONS = [
    "view_order",
    "change_order",
    "refund_order",
    "fulfil_order",
    "view_product",
    "change_product",
    "view_auditentry",
    "view_paymentattempt",
    "view_refund",
    "view_dispute",
    "view_webhookevent",
    "replay_webhookevent",
]


class Command(BaseCommand):
    help = "Create a demo catalog, a shopper and a staff user (passwords printed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Use this password for both users (default: a new random one each run).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        for sku, name, description, amount, currency, stock in DEMO_PRODUCTS:
            Product.objects.update_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "description": description,
                    "unit_amount": amount,
                    "currency": currency,
                    "stock": stock,
                    "active": True,
                },
            )
        self.stdout.write(f"Catalog: {len(DEMO_PRODUCTS)} products.")

        password = options["password"] or secrets.token_urlsafe(9)
        User = get_user_model()
        shopper, _ = User.objects.get_or_create(email=SHOPPER_EMAIL)
        shopper.set_password(password)
        shopper.save()
        staff, _ = User.objects.get_or_create(email=STAFF_EMAIL)
        staff.is_staff = True
        staff.set_password(password)
        staff.save()
        staff.user_permissions.set(Permission.objects.filter(codename__in=STAFF_PERMISSIONS))
        self.stdout.write(f"Shopper: {SHOPPER_EMAIL} / {password}")
        self.stdout.write(f"Staff:   {STAFF_EMAIL} / {password}  (admin at /admin/)")
