"""The staff groups, "Support" and "Finance", kept by code.

Each permission is named by (app label, codename), never by codename alone: dj-stripe has
models called Dispute, Refund and Product too, so `view_dispute` alone also matches
`djstripe.view_dispute`. The groups are brought up to date after every `migrate` (and
`flush`) by a post_migrate receiver, and by `manage.py setup_staff_groups`; both set each
group to exactly the permissions below, so a permission given by hand to one of these
groups is taken away again (make another group for extras).

Naming other apps' permissions here imports nothing from them: they are strings.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

SUPPORT = "Support"
FINANCE = "Finance"

# Support: read orders, customers and payments; fulfil and cancel orders; resend e-mail.
SUPPORT_PERMISSIONS = (
    ("orders", "view_order"),
    ("orders", "fulfil_order"),
    ("orders", "change_order"),  # cancel an unpaid order (the order page's button)
    ("accounts", "view_user"),
    ("backoffice", "view_customer"),  # the customer page: their orders and lifetime money
    ("catalog", "view_product"),
    ("payments", "view_paymentattempt"),
    ("payments", "view_paymentdecline"),
    ("payments", "view_refund"),
    ("payments", "view_dispute"),
    ("payments", "view_webhookevent"),
    ("notifications", "view_outboxemail"),
    ("notifications", "resend_outboxemail"),
    ("audit", "view_auditentry"),
)
# Finance: what Support has, and money: refunds, reconciliation, replays, dispute answers,
# CSV exports.
FINANCE_PERMISSIONS = (
    *SUPPORT_PERMISSIONS,
    ("orders", "refund_order"),
    ("payments", "view_reconciliationmismatch"),
    ("payments", "change_reconciliationmismatch"),
    ("payments", "fix_reconciliationmismatch"),  # fix with Stripe's truth, mark resolved
    ("payments", "replay_webhookevent"),
    ("payments", "respond_dispute"),  # evidence, submit, accept
    ("orders", "export_order"),  # CSV exports
    ("payments", "export_refund"),
    ("payments", "export_dispute"),
)

GROUPS = {SUPPORT: SUPPORT_PERMISSIONS, FINANCE: FINANCE_PERMISSIONS}


def permissions(pairs) -> list[Permission]:
    """The permissions named by (app label, codename); LookupError names any missing."""
    pairs = set(pairs)
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={codename for _, codename in pairs}
        )
        if (p.content_type.app_label, p.codename) in pairs
    }
    missing = sorted(pairs - found.keys())
    if missing:
        raise LookupError(f"no such permission: {', '.join(f'{a}.{c}' for a, c in missing)}")
    return [found[pair] for pair in sorted(pairs)]


@transaction.atomic
def ensure_staff_groups(using: str = "default") -> dict[str, int]:
    """Create or update both groups (idempotent); returns each group's permission count."""
    for app_config in global_apps.get_app_configs():
        # Django adds the permissions of each app after its own post_migrate; these groups
        # name permissions of apps migrated after accounts, so make sure they exist.
        create_permissions(app_config, verbosity=0, using=using)
    counts = {}
    for name, pairs in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions(pairs))
        counts[name] = len(pairs)
    return counts


def on_post_migrate(sender, using="default", **kwargs) -> None:
    ensure_staff_groups(using=using)
