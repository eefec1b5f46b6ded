"""The text evidence staff can give Stripe for a dispute, with Stripe's limits.

Stripe takes each field of a Dispute's `evidence` hash up to a length of its own (5,000 or
20,000 characters) and all of them together up to 150,000 characters; the form checks the
same before anything is sent.
"""

# (field, label, Stripe's maximum length, a long text?) in the order the form shows them.
FIELDS = [
    ("product_description", "Product description", 20000, True),
    ("customer_name", "Customer name", 5000, False),
    ("customer_email_address", "Customer e-mail address", 5000, False),
    ("billing_address", "Billing address", 5000, True),
    ("shipping_address", "Shipping address", 5000, True),
    ("shipping_carrier", "Shipping carrier", 5000, False),
    ("shipping_tracking_number", "Shipping tracking number", 5000, False),
    ("shipping_date", "Shipping date", 5000, False),
    ("service_date", "Service date", 5000, False),
    ("access_activity_log", "Access activity log", 20000, True),
    ("refund_policy_disclosure", "Refund policy disclosure", 20000, True),
    ("cancellation_rebuttal", "Cancellation rebuttal", 20000, True),
    ("uncategorized_text", "Other evidence", 20000, True),
]
NAMES = [name for name, *_ in FIELDS]
TOTAL_LIMIT = 150_000


def total_length(evidence: dict) -> int:
    return sum(len(evidence.get(name) or "") for name in NAMES)


def given(evidence: dict) -> list[str]:
    """The names of the fields that hold something (what the audit trail records)."""
    return [name for name in NAMES if evidence.get(name)]
