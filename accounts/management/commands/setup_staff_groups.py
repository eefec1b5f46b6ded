"""`manage.py setup_staff_groups`: create or update the Support and Finance groups."""

from django.core.management.base import BaseCommand

from accounts.staff_groups import ensure_staff_groups


class Command(BaseCommand):
    help = "Create or update the staff groups Support and Finance (safe to run again)."

    def handle(self, *args, **options):
        for name, count in ensure_staff_groups().items():
            self.stdout.write(f"{name}: {count} permissions")
