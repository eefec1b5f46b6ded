"""The audit log speaks in sentences: what happened, how much, on which order (linked), by
whom and why; and it stays read-only."""

import re

import pytest

from audit.models import AuditEntry
from audit.services import record
from backoffice.audit_log import phrase
from tests.staff import submit_refund

pytestmark = pytest.mark.django_db


def rows(client, query=""):
    html = client.get(f"/admin/audit/auditentry/?{query}").content.decode()
    return re.findall(r'<td class="field-what">(.*?)</td>', html, re.S)


def test_a_staff_refund_reads_as_a_sentence_with_the_order_linked(
    staff_client, paid_order, stripe_fake
):
    client = staff_client("orders.view_order", "orders.refund_order", "audit.view_auditentry")
    submit_refund(client, paid_order, "5.00", reason="Arrived scratched")
    [refund] = [r for r in rows(client, "action=refund.requested") if "Refund" in r]
    assert refund == (
        f'Refund of 5.00 USD on order <a href="/admin/orders/order/{paid_order.pk}/change/">'
        f"{paid_order.number}</a> by {client.user.email} (reason: Arrived scratched)"
    )


def test_stripes_and_shoppers_entries_read_too(admin_client, paid_order):
    sentences = rows(admin_client, f"order={paid_order.pk}")
    text = [re.sub(r"<[^>]+>", "", s) for s in sentences]
    assert f"Payment of 68.00 USD succeeded on order {paid_order.number} by stripe" in text
    assert f"Order of 68.00 USD placed on order {paid_order.number} by {paid_order.email}" in text


def test_a_refusal_says_so_with_its_code(admin_client, paid_order):
    record(
        "refund.request",
        actor_label="staff@example.com",
        order=paid_order,
        amount=1235,
        currency="kwd",
        outcome=AuditEntry.Outcome.REFUSED,
        details={"code": "invalid_amount"},
    )
    [sentence] = rows(admin_client, "outcome__exact=refused")
    assert sentence.endswith("by staff@example.com: refused (invalid_amount)")
    assert sentence.startswith("Refund of 1.235 KWD on order")


def test_an_action_without_a_phrase_or_money_still_reads(admin_client):
    entry = record("alert.firing", actor_label="monitoring", details={"alert": "x"})
    assert phrase(entry) == "Alert firing"
    with_money = record("payout.sent", actor_label="system", amount=500, currency="jpy")
    assert phrase(with_money) == "Payout sent of 500 JPY"
    assert "Alert firing by monitoring" in rows(admin_client)


def test_what_staff_wrote_is_shown_as_text(admin_client, paid_order):
    record("refund.requested", order=paid_order, details={"reason": "<b>bold</b>"})
    [sentence] = rows(admin_client, "action=refund.requested")
    assert "(reason: &lt;b&gt;bold&lt;/b&gt;)" in sentence


def test_an_entry_for_a_deleted_order_names_its_id(admin_client):
    record("order.note", order=987654)
    [sentence] = rows(admin_client, "order=987654")
    assert 'on order <a href="/admin/orders/order/987654/change/">#987654</a>' in sentence


def test_staff_actions_of_the_back_office_read_as_sentences():
    said = {
        action: phrase(record(action, actor_label="staff@example.com", amount=amount, currency=cur))
        for action, amount, cur in [
            ("dispute.evidence_submit", None, ""),
            ("dispute.accept", None, ""),
            ("dispute.opened", 6100, "usd"),
            ("email.resent", None, ""),
            ("order.exported", None, ""),
            ("refund.created", 500, "usd"),
        ]
    }
    assert said == {
        "dispute.evidence_submit": "Dispute evidence submitted to the bank",
        "dispute.accept": "Dispute accepted (lost)",
        "dispute.opened": "Dispute of 61.00 USD opened",
        "email.resent": "E-mail resent",
        "order.exported": "Orders exported as CSV",
        "refund.created": "Refund of 5.00 USD sent to Stripe",
    }
