"""The customer page: one shopper's orders, payments, refunds and lifetime money.

Read-only, with its own permission (`backoffice.view_customer`): support staff see who a
customer is and what they bought without the user admin (passwords, staff flags,
permissions stay there, for those who hold `accounts.change_user`). Each order links here
(the order list's e-mail column, the order page's "customer" line).
"""

from django.contrib import admin
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from backoffice.models import Customer
from backoffice.pagination import EstimatedCountPaginator
from catalog.money import format_amount
from orders.models import Order
from payments.models import AttemptStatus, Dispute, PaymentAttempt, Refund, RefundStatus

RECENT_ORDERS = 50


def customer_url(user_id: int) -> str:
    return reverse("admin:backoffice_customer_change", args=[user_id])


@admin.display(description="customer", ordering="email")
def customer_link(order):
    """The order's e-mail, linked to its customer's page (order list and order page)."""
    return format_html('<a href="{}">{}</a>', customer_url(order.user_id), order.email)


def lifetime_money(user_id: int) -> dict[str, dict[str, int]]:
    """{currency: {"paid": minor units received, "refunded": minor units refunded}}."""
    totals: dict[str, dict[str, int]] = {}
    paid = (
        PaymentAttempt.objects.filter(order__user_id=user_id, status=AttemptStatus.SUCCEEDED)
        .values("currency")
        .annotate(total=Sum("amount_received"))
    )
    refunded = (
        Refund.objects.filter(order__user_id=user_id, status=RefundStatus.SUCCEEDED)
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    for key, rows in (("paid", paid), ("refunded", refunded)):
        for row in rows:
            totals.setdefault(row["currency"], {"paid": 0, "refunded": 0})[key] = row["total"]
    return dict(sorted(totals.items()))


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "date_joined", "last_login", "is_active", "order_count")
    search_fields = ("email",)
    search_help_text = "A customer's exact e-mail address, or one of their order numbers."
    ordering = ("-id",)  # newest first through the primary key: no sort of every user
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    readonly_fields = (
        "email",
        "date_joined",
        "last_login",
        "is_active",
        "payments_summary",
        "money_summary",
        "recent_orders",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        """An exact address or an order number, both found by a unique index (an
        `icontains` over every user would read the whole table)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(email=term.lower()), False
        owner = Order.objects.filter(number=term.upper()).values("user_id")
        return queryset.filter(pk__in=owner), False

    @admin.display(description="orders")
    def order_count(self, customer):
        return Order.objects.filter(user_id=customer.pk).count()

    @admin.display(description="payments")
    def payments_summary(self, customer):
        attempts = PaymentAttempt.objects.filter(order__user_id=customer.pk).aggregate(
            n=Count("id")
        )["n"]
        refunds = Refund.objects.filter(order__user_id=customer.pk).count()
        disputes = Dispute.objects.filter(order__user_id=customer.pk).count()
        return f"{attempts} payment attempt(s), {refunds} refund(s), {disputes} dispute(s)"

    @admin.display(description="lifetime paid and refunded")
    def money_summary(self, customer):
        totals = lifetime_money(customer.pk)
        if not totals:
            return "Nothing paid yet."
        rows = format_html_join(
            "",
            '<tr class="money-{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    currency,
                    currency.upper(),
                    format_amount(money["paid"], currency),
                    format_amount(money["refunded"], currency),
                )
                for currency, money in totals.items()
            ),
        )
        return format_html(
            "<table><tr><th>currency</th><th>paid</th><th>refunded</th></tr>{}</table>", rows
        )

    @admin.display(description="orders, newest first")
    def recent_orders(self, customer):
        orders = Order.objects.filter(user_id=customer.pk).order_by("-created_at", "-id")
        shown = list(orders[:RECENT_ORDERS])
        if not shown:
            return "No orders."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:orders_order_change", args=[order.pk]),
                    order.number,
                    order.get_status_display(),
                    format_amount(order.total, order.currency),
                    f"{order.created_at:%Y-%m-%d %H:%M} UTC",
                )
                for order in shown
            ),
        )
        every = reverse("admin:orders_order_changelist") + f"?user__id__exact={customer.pk}"
        return format_html(
            '<table class="customer-orders"><tr><th>order</th><th>status</th><th>total</th>'
            '<th>created</th></tr>{}</table><p><a href="{}">All orders of this customer in '
            "the order list</a></p>",
            rows,
            every,
        )
