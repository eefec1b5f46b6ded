from audit.models import AuditEntry
from core import rows
from core.context import current_request
from observability.redaction import redact


def record(
    action: str,
    *,
    actor=None,
    actor_label: str = "",
    obj=None,
    order=None,
    amount: int | None = None,
    currency: str = "",
    outcome: str = AuditEntry.Outcome.SUCCESS,
    details: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. `actor` is a user or None (then `actor_label`, e.g. "stripe").

    `ip_address`: the client's, when the entry is written outside its request (a summary
    written later by a beat job); by default the current request's.
    """
    context = current_request.get()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    order_id = order if isinstance(order, int) or order is None else order.pk
    # One INSERT built once per process (core.rows): every payment writes an entry.
    entry = AuditEntry(
        actor=actor,
        actor_label=actor_label or (str(actor) if actor is not None else "system"),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        order_id=order_id,
        amount=amount,
        currency=currency,
        outcome=outcome,
        request_id=context.request_id,
        ip_address=ip_address or context.ip_address,
        user_agent=context.user_agent,
        # Details can quote Stripe or a shopper: no key, client secret, token, full e-mail
        # address or card number is ever written to the trail.
        details=redact(details or {}),
    )
    return rows.insert(entry)


def record_refusal(audit: dict, code: str) -> AuditEntry:
    """A refused request's trace, written after its transaction rolled back.

    `audit` holds `record`'s arguments as the refusing code prepared them (ShopError.audit);
    the API's error handler and the admin's views both come here, so a refusal reads the
    same in the trail whichever way it was asked for.
    """
    return record(
        **{
            "outcome": AuditEntry.Outcome.REFUSED,
            **audit,
            "details": {"code": code, **audit.get("details", {})},
        }
    )


def record_alert(name: str, state: str, reading) -> AuditEntry:
    """An alert condition started ("firing") or stopped ("cleared") holding.

    `reading`: the observability.alerts.Reading that was notified.
    """
    return record(
        f"alert.{state}",
        actor_label="monitoring",
        outcome=AuditEntry.Outcome.SUCCESS,
        details={"alert": name, "summary": reading.summary, **reading.details},
    )
