from django.dispatch import receiver

from orders.models import Order
from orders.signals import order_closed_unpaid
from payments.checkout.closing import close_open_attempts


@receiver(order_closed_unpaid, sender=Order, dispatch_uid="payments.close_open_attempts")
def close_attempts_of_closed_order(sender, order, actor=None, **kwargs):
    close_open_attempts(order, actor=actor)
