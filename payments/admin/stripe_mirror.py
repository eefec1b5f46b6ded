"""dj-stripe's mirror in the admin: superusers only, read-only.

dj-stripe registers an admin page for each of its models (about 45: accounts, invoices,
subscriptions, payouts, ... most of which this shop never uses). Listed for staff, they
crowd the menu, and two of them share our names: dj-stripe's "Disputes" and "Refunds" sat
beside ours, and a permission looked up by codename alone (`view_dispute`) granted both.

So the mirror is out of every menu, superusers' included: the admin index and its side bar
list only the shop's own models, one "Disputes" and one "Refunds". Its pages stay, read-only
and for superusers only, reached from the order page ("Stripe's side" links each mirrored
object) or by address (/admin/djstripe/...). Other staff read the same objects, without
links, on the order page. The mirror itself keeps working: payments.gateway.mirror fills it
through the models, not the admin.
"""

from django.contrib import admin


def _superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def superuser_only(model_admin_class):
    """`model_admin_class`, in no menu, its pages for superusers only and read-only for them
    too (no actions: dj-stripe's "sync from Stripe" actions would write the mirror from a
    page)."""

    class SuperuserOnly(model_admin_class):
        def has_module_permission(self, request):
            return False  # in no menu; the pages below stay for superusers

        def has_view_permission(self, request, obj=None):
            return _superuser(request)

        def has_add_permission(self, request, *args, **kwargs):
            return False

        def has_change_permission(self, request, obj=None):
            return False

        def has_delete_permission(self, request, obj=None):
            return False

        def get_actions(self, request):
            return {}

        def get_inline_instances(self, request, obj=None):
            return []  # their related rows are pages of their own

    SuperuserOnly.__name__ = SuperuserOnly.__qualname__ = (
        f"SuperuserOnly{model_admin_class.__name__}"
    )
    return SuperuserOnly


def hide_stripe_mirror(site: admin.AdminSite = admin.site) -> int:
    """Re-register every dj-stripe admin as `superuser_only`; returns how many."""
    mirrored = [
        (model, type(model_admin))
        for model, model_admin in list(site._registry.items())
        if model._meta.app_label == "djstripe"
    ]
    for model, admin_class in mirrored:
        site.unregister(model)
        site.register(model, superuser_only(admin_class))
    return len(mirrored)
