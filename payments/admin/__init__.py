"""Staff screens of payments, one module per screen: disputes, refunds, the webhook inbox
(with replay), payment attempts, declines and reconciliation mismatches.

The order screen, which shows an order with its payments, refunds and disputes, is the
back office's (backoffice/admin.py).
"""

from django.contrib import admin
from djstripe import models as djstripe_models

from payments.admin import (  # noqa: F401  (each registers its screen)
    declines,
    disputes,
    payment_attempts,
    reconciliation,
    refunds,
    webhook_events,
)
from payments.admin.stripe_mirror import hide_stripe_mirror

# dj-stripe's API key admin would store a key in clear (djstripe_apikey): keys live in the
# environment only (payments.gateway.mirror refuses APIKey rows).
if admin.site.is_registered(djstripe_models.APIKey):
    admin.site.unregister(djstripe_models.APIKey)

# dj-stripe's ~45 mirror pages: in no menu, superusers only (payments/admin/stripe_mirror.py).
hide_stripe_mirror()
