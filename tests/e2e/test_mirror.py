"""dj-stripe's mirror filled by the real worker from what the emulator serves, end to end.

The shop mirrors each object its events carry; dj-stripe fetches what it lacks (the
account behind the key, balance transactions, related objects) from the emulator, as it
would from Stripe.
"""

from djstripe import models as djstripe_models

from tests.e2e.stack import Shopper, confirm_as_stripe_js, eventually
from tests.factories import ProductFactory


def assert_no_mirror_failure(stack):
    failed = [line for line in stack.worker.output().splitlines() if "stripe mirror of" in line]
    assert failed == [], "\n".join(failed)


def test_a_paid_refunded_and_disputed_order_is_mirrored_with_stripes_statuses(stack):
    product = ProductFactory(unit_amount=3000, stock=5)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/payment-intent/").json()
    assert confirm_as_stripe_js(stack, started, "pm_card_visa").status_code == 200
    shopper.wait_for_status(order["id"], "paid")
    stripe = stack.emulator.client()
    intent_id = started["payment_intent_id"]
    refund = stripe.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 1000, "metadata": {"note": "goodwill"}}
    )
    status, dispute = stack.emulator.control("POST", "/disputes", {"payment": intent_id})
    assert status == 200, dispute
    stack.settle()

    intent = stripe.v1.payment_intents.retrieve(intent_id)
    charge = stripe.v1.charges.retrieve(intent.latest_charge)
    customer = djstripe_models.Customer.objects.get(id=intent.customer)
    assert customer.email == shopper.email
    mirrored_intent = djstripe_models.PaymentIntent.objects.get(id=intent_id)
    assert mirrored_intent.stripe_data["status"] == "succeeded"
    assert mirrored_intent.customer_id == customer.id
    mirrored_charge = djstripe_models.Charge.objects.get(id=charge.id)
    assert mirrored_charge.status == "succeeded"
    assert mirrored_charge.stripe_data["amount"] == 3000
    assert mirrored_charge.stripe_data["amount_refunded"] == 1000
    assert mirrored_charge.balance_transaction.id == charge.balance_transaction
    assert mirrored_charge.balance_transaction.stripe_data["fee"] == 117  # 2.9% + 30
    mirrored_refund = djstripe_models.Refund.objects.get(id=refund.id)
    assert mirrored_refund.status == "succeeded"
    assert mirrored_refund.charge_id == mirrored_charge.id
    assert mirrored_refund.metadata == {"note": "goodwill"}
    assert mirrored_refund.balance_transaction.stripe_data["amount"] == -1000
    mirrored_dispute = djstripe_models.Dispute.objects.get(id=dispute["id"])
    assert mirrored_dispute.status == "needs_response"
    assert mirrored_dispute.charge_id == mirrored_charge.id
    withdrawal = djstripe_models.BalanceTransaction.objects.get(source=dispute["id"])
    assert withdrawal.stripe_data["reporting_category"] == "dispute"
    assert_no_mirror_failure(stack)


def test_a_checkout_session_paid_on_the_hosted_page_is_mirrored(stack):
    product = ProductFactory(unit_amount=2000, stock=5)
    shopper = Shopper(stack)
    order = shopper.order(product.pk)
    started = shopper.post(f"orders/{order['id']}/checkout-session/").json()
    session_id = started["checkout_session_id"]
    status, paid = stack.emulator.control(
        "POST", f"/checkout_sessions/{session_id}/pay", {"card": "4242424242424242"}
    )
    assert status == 200, paid
    shopper.wait_for_status(order["id"], "paid")
    stack.settle()

    def mirrored():
        session = djstripe_models.Session.objects.filter(id=session_id).first()
        assert session is not None
        assert (session.status, session.payment_status) == ("complete", "paid")
        assert session.payment_intent.id == paid["payment_intent"]["id"]

    eventually(mirrored)
    assert djstripe_models.Charge.objects.get(payment_intent__id=paid["payment_intent"]["id"])
    assert_no_mirror_failure(stack)
