"""What the audit trail feeds: the money-movement counters of /metrics."""

from observability import metrics


# Audit actions are the one place every money movement passes through (and only committed
# entries count): payment outcomes, refunds and disputes. Refused webhook deliveries are
# counted one by one where they are refused (payments.webhooks.views): their audit rows are
# aggregated per client address and window (audit.rejections).
def count_audit_entry(entry) -> None:
    action, details = entry.action, entry.details or {}
    if action == "payment.succeeded":
        metrics.count_on_commit("payments", outcome="succeeded")
    elif action == "payment.failed":
        metrics.count_on_commit("payments", outcome="failed")
    elif action == "refund.requested":
        metrics.count_on_commit("refunds", status="requested")
    elif action == "refund.updated":
        metrics.count_on_commit("refunds", status=details.get("status", "unknown"))
    elif action == "dispute.opened":
        metrics.count_on_commit("disputes", event="opened")
    elif action == "dispute.closed":
        metrics.count_on_commit("disputes", event="closed")


def audit_entry_saved(sender, instance, created, **kwargs) -> None:
    if created:
        count_audit_entry(instance)
