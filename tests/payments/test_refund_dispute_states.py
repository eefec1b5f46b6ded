"""The refund and dispute state machines: what the handlers and reconciliation may do."""

import pytest
from django_fsm import InvalidResultState, TransitionNotAllowed, can_proceed

from payments.models import DISPUTE_CLOSED, DISPUTE_OPEN, Dispute, Refund, RefundStatus

R = RefundStatus
LADDER = [R.PENDING, R.REQUIRES_ACTION, R.SUCCEEDED]
FINAL = [R.FAILED, R.CANCELED]


# --- refunds ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "news", "moves"),
    [
        (R.PENDING, R.REQUIRES_ACTION, True),
        (R.PENDING, R.SUCCEEDED, True),
        (R.REQUIRES_ACTION, R.SUCCEEDED, True),
        (R.PENDING, R.FAILED, True),
        (R.SUCCEEDED, R.FAILED, True),  # a succeeded refund can still fail at Stripe
        (R.REQUIRES_ACTION, R.CANCELED, True),
        (R.SUCCEEDED, R.CANCELED, True),
        # no news, or older news arriving late: nothing moves
        (R.PENDING, R.PENDING, False),
        (R.SUCCEEDED, R.SUCCEEDED, False),
        (R.SUCCEEDED, R.PENDING, False),
        (R.SUCCEEDED, R.REQUIRES_ACTION, False),
        (R.REQUIRES_ACTION, R.PENDING, False),
        (R.FAILED, R.SUCCEEDED, False),
        (R.FAILED, R.CANCELED, False),
        (R.CANCELED, R.FAILED, False),
        (R.CANCELED, R.PENDING, False),
    ],
)
def test_a_refund_only_moves_up_stripes_ladder(start, news, moves):
    refund = Refund(status=start)
    move = refund.transition_to(news)
    assert (move is not None) is moves
    if moves:
        move()
        assert refund.status == news
    else:
        assert refund.status == start


@pytest.mark.parametrize("final", FINAL)
def test_a_failed_or_canceled_refund_is_final(final):
    refund = Refund(status=final)
    for transition in (refund.require_action, refund.mark_succeeded, refund.mark_failed):
        assert not can_proceed(transition)
    with pytest.raises(TransitionNotAllowed):
        refund.mark_succeeded()
    with pytest.raises(TransitionNotAllowed):
        refund.cancel()
    assert refund.status == final


def test_a_refund_cannot_go_back_to_requires_action():
    refund = Refund(status=R.SUCCEEDED)
    with pytest.raises(TransitionNotAllowed):
        refund.require_action()


def test_a_refunds_status_is_not_assigned():
    refund = Refund()
    assert refund.status == R.PENDING
    with pytest.raises(AttributeError):
        refund.status = R.SUCCEEDED


# --- disputes ---------------------------------------------------------------------------
@pytest.mark.parametrize("start", DISPUTE_OPEN)
@pytest.mark.parametrize("news", DISPUTE_OPEN)
def test_an_open_dispute_follows_stripe_between_open_statuses_in_any_order(start, news):
    # Events about one dispute arrive out of order: a late "updated" may say
    # needs_response after under_review, and is applied as Stripe's word.
    dispute = Dispute(status=start)
    dispute.follow(news)
    assert dispute.status == news


@pytest.mark.parametrize("start", DISPUTE_OPEN)
@pytest.mark.parametrize("outcome", DISPUTE_CLOSED)
def test_an_open_dispute_closes_with_its_outcome(start, outcome):
    dispute = Dispute(status=start)
    dispute.close(outcome)
    assert dispute.status == outcome
    assert dispute.is_closed


@pytest.mark.parametrize("closed", DISPUTE_CLOSED)
def test_a_closed_dispute_never_reopens_or_closes_again(closed):
    dispute = Dispute(status=closed)
    assert not can_proceed(dispute.follow)
    assert not can_proceed(dispute.close)
    with pytest.raises(TransitionNotAllowed):
        dispute.follow("needs_response")
    with pytest.raises(TransitionNotAllowed):
        dispute.close("won" if closed == "lost" else "lost")
    assert dispute.status == closed


def test_follow_cannot_close_and_close_cannot_leave_it_open():
    dispute = Dispute(status="needs_response")
    with pytest.raises(InvalidResultState):
        dispute.follow("lost")
    with pytest.raises(InvalidResultState):
        dispute.close("under_review")


def test_a_disputes_status_is_not_assigned():
    dispute = Dispute(status="needs_response")
    with pytest.raises(AttributeError):
        dispute.status = "won"
