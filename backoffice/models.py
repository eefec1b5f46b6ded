"""The back office owns no table; its Customer is a view of accounts' User for support."""

from accounts.models import User


class Customer(User):
    """A user seen as a customer: their orders, payments and refunds, read-only.

    A proxy (no table): it gives support staff a permission of its own,
    `backoffice.view_customer`, apart from the user admin's (passwords, staff flags).
    """

    class Meta:
        proxy = True
        verbose_name = "customer"
