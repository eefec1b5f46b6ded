"""A demo catalog, a shopper and a staff user (in the Support and Finance groups). Safe to
run again: it updates, never duplicates."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.staff_groups import FINANCE, SUPPORT, ensure_staff_groups
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
        # The staff user is in both staff groups (accounts/staff_groups.py), and has no
        # permission of its own: what it may do is what Support and Finance may do.
        ensure_staff_groups()
        staff.user_permissions.clear()
        staff.groups.set(Group.objects.filter(name__in=[SUPPORT, FINANCE]))
        self.stdout.write(f"Shopper: {SHOPPER_EMAIL} / {password}")
        self.stdout.write(f"Staff:   {STAFF_EMAIL} / {password}  (admin at /admin/)")
