"""Decline limits: what stops card testing.

A card tester does not need our API once a PaymentIntent exists: its client secret lets
Stripe.js confirm card after card straight at Stripe, and a Checkout page takes card after
card too. So declines are counted from Stripe's failure events (`payment_intent.
payment_failed`, `checkout.session.async_payment_failed`), one `PaymentDecline` row per
event id, whatever state the attempt is in, and keyed three ways over the last hour:

- the shopper (`PAYMENT_FAILURES_PER_HOUR`);
- the client address that made the attempt (`PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR`), so
  fresh accounts from one address share a budget;
- the card's Stripe fingerprint (`PAYMENT_FAILURES_PER_CARD_PER_HOUR`), so one stolen card
  tried from several accounts is stopped.

A key over its limit blocks new attempts (429 `too_many_failed_payments`, Retry-After
until enough of the counted declines are an hour old) and closes the open PaymentIntents
and Checkout Sessions it covers at Stripe, so the client secrets already handed out stop
working. One attempt that collects `PAYMENT_FAILURES_PER_ATTEMPT` declines is closed as
well. Closing calls Stripe, so it never runs in the webhook's transaction: it is queued
after the commit (`enforce`, a Celery task) and repeated by a beat sweep
(`close_blocked`), which also closes every open payment while `PAYMENTS_ENABLED` is off.

The limits are evaluated on committed rows after each decline, so two declines processed
at once by two workers cannot both miss the moment the limit is reached.
"""

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.errors import ShopError
from payments.checkout import tasks
from payments.checkout.closing import close_attempt_at_stripe
from payments.models import OPEN, PaymentAttempt, PaymentDecline, WebhookEvent

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
SHOPPER, ADDRESS, CARD = "shopper", "address", "card"
# Stripe's fingerprints are short letters and digits; anything else is not used as a key.
_FINGERPRINT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Block:
    key: str  # which limit: shopper, address or card
    retry_after: int  # seconds until that key is under its limit again


def _limits() -> dict[str, int]:
    return {
        SHOPPER: settings.PAYMENT_FAILURES_PER_HOUR,
        ADDRESS: settings.PAYMENT_FAILURES_PER_ADDRESS_PER_HOUR,
        CARD: settings.PAYMENT_FAILURES_PER_CARD_PER_HOUR,
    }


def card_fingerprint(obj: dict) -> str:
    """The declined card's fingerprint, from a PaymentIntent's `last_payment_error`."""
    error = obj.get("last_payment_error")
    method = error.get("payment_method") if isinstance(error, dict) else None
    card = method.get("card") if isinstance(method, dict) else None
    value = card.get("fingerprint") if isinstance(card, dict) else None
    return value if isinstance(value, str) and _FINGERPRINT.match(value) else ""


# --- recording (inside the webhook's transaction) ----------------------------------------
def record(event: WebhookEvent, attempt: PaymentAttempt, *, user_id, code: str) -> bool:
    """Count this failure event once; queue the limit check after the commit.

    Returns False when the event was counted before (a replay, a second run).
    """
    now = timezone.now()
    declined_at = min(event.stripe_created or now, now)
    try:
        with transaction.atomic():
            decline = PaymentDecline.objects.create(
                stripe_event_id=event.stripe_event_id,
                attempt=attempt,
                user_id=user_id,
                client_address=attempt.client_address,
                card_fingerprint=card_fingerprint(event.data_object),
                code=code[:64],
                declined_at=declined_at,
            )
    except IntegrityError:
        return False
    transaction.on_commit(lambda: _queue_enforcement(decline.pk))
    return True


def _queue_enforcement(decline_pk: int) -> None:
    try:
        tasks.enforce_decline_limits.apply_async((decline_pk,), retry=False)
    except Exception as exc:  # broker down: the beat sweep closes what is over a limit
        logger.warning("decline %s counted, limit check not queued (%s)", decline_pk, exc)


# --- reading the counts ------------------------------------------------------------------
def _recent(now: datetime):
    return PaymentDecline.objects.filter(declined_at__gt=now - WINDOW, declined_at__lte=now)


def _retry_after(declines, limit: int, now: datetime) -> int | None:
    """Seconds until fewer than `limit` of these declines are in the window, or None."""
    if limit <= 0:
        return None
    times = list(declines.order_by("-declined_at").values_list("declined_at", flat=True)[:limit])
    if len(times) < limit:
        return None
    # Once the limit-th newest decline is an hour old, limit - 1 are left in the window.
    return max(1, math.ceil((times[-1] + WINDOW - now).total_seconds()))


def _tripped_cards(cards, now: datetime) -> list[str]:
    limit = _limits()[CARD]
    return list(
        _recent(now)
        .filter(card_fingerprint__in=cards)
        .exclude(card_fingerprint="")
        .values("card_fingerprint")
        .annotate(n=Count("pk"))
        .filter(n__gte=limit)
        .values_list("card_fingerprint", flat=True)
    )


def block_for(*, user_id, address: str = "") -> Block | None:
    """Whether this shopper, at this address, is over a decline limit (the longest block)."""
    now = timezone.now()
    limits = _limits()
    recent = _recent(now)
    blocks = []
    if user_id is not None:
        wait = _retry_after(recent.filter(user_id=user_id), limits[SHOPPER], now)
        if wait:
            blocks.append(Block(SHOPPER, wait))
        # The cards this shopper tried: one over its limit (tried from any account) blocks.
        cards = recent.filter(user_id=user_id).exclude(card_fingerprint="")
        for card in _tripped_cards(cards.values("card_fingerprint"), now):
            wait = _retry_after(recent.filter(card_fingerprint=card), limits[CARD], now)
            if wait:
                blocks.append(Block(CARD, wait))
    if address:
        wait = _retry_after(recent.filter(client_address=address), limits[ADDRESS], now)
        if wait:
            blocks.append(Block(ADDRESS, wait))
    return max(blocks, key=lambda b: b.retry_after, default=None)


def recent_count(user_id) -> int:
    return _recent(timezone.now()).filter(user_id=user_id).count()


def capped_attempt_ids(attempt_ids) -> set[int]:
    """Attempts that collected their share of declines: never handed out again."""
    cap = settings.PAYMENT_FAILURES_PER_ATTEMPT
    if cap <= 0:
        return set()
    return set(
        PaymentDecline.objects.filter(attempt_id__in=attempt_ids)
        .values("attempt_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=cap)
        .values_list("attempt_id", flat=True)
    )


# --- closing at Stripe (after the commit: a task, and the beat sweep) -------------------
def open_at_stripe():
    """Attempts whose PaymentIntent or Session exists at Stripe and can still take a card."""
    return (
        PaymentAttempt.objects.filter(status__in=OPEN)
        .exclude(stripe_payment_intent_id=None, stripe_checkout_session_id=None)
        .order_by("pk")
    )


def _over_limits(now: datetime) -> Q:
    """Open payments covered by a key over its limit, or at the per-attempt cap."""
    limits = _limits()
    recent = _recent(now)
    covered = Q(pk__in=[])

    def over(field: str, limit: int, empty: Q) -> list:
        if limit <= 0:
            return []
        return list(
            recent.exclude(empty)
            .values(field)
            .annotate(n=Count("pk"))
            .filter(n__gte=limit)
            .values_list(field, flat=True)
        )

    users = over("user_id", limits[SHOPPER], Q(user_id=None))
    cards = over("card_fingerprint", limits[CARD], Q(card_fingerprint=""))
    if cards:
        users += list(
            recent.filter(card_fingerprint__in=cards)
            .exclude(user_id=None)
            .values_list("user_id", flat=True)
            .distinct()
        )
    if users:
        covered |= Q(order__user_id__in=users)
    addresses = over("client_address", limits[ADDRESS], Q(client_address=""))
    if addresses:
        covered |= Q(client_address__in=addresses)
    if settings.PAYMENT_FAILURES_PER_ATTEMPT > 0:
        capped = (
            PaymentDecline.objects.filter(attempt__status__in=OPEN)
            .values("attempt_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=settings.PAYMENT_FAILURES_PER_ATTEMPT)
            .values_list("attempt_id", flat=True)
        )
        covered |= Q(pk__in=list(capped))
    return covered


def _close(attempts, reason: str) -> tuple[int, int]:
    """Close each at Stripe; one that fails is left open for the next run. (closed, failed)"""
    closed = failed = 0
    for attempt in attempts:
        try:
            close_attempt_at_stripe(attempt)
        except ShopError as exc:
            failed += 1
            logger.warning(
                "could not close attempt %s at Stripe (%s, %s); will retry",
                attempt.pk,
                reason,
                exc.code,
            )
            continue
        closed += 1
        logger.info("closed attempt %s at Stripe (%s)", attempt.pk, reason)
    return closed, failed


def enforce(decline_pk: int) -> tuple[int, int]:
    """After a decline committed: close what the keys it touched now cover."""
    decline = PaymentDecline.objects.filter(pk=decline_pk).first()
    if decline is None:
        return 0, 0
    now = timezone.now()
    recent = _recent(now)
    limits = _limits()
    covered = Q(pk__in=[])
    if decline.attempt_id in capped_attempt_ids([decline.attempt_id]):
        covered |= Q(pk=decline.attempt_id)
    if decline.user_id is not None and _retry_after(
        recent.filter(user_id=decline.user_id), limits[SHOPPER], now
    ):
        covered |= Q(order__user_id=decline.user_id)
    if decline.client_address and _retry_after(
        recent.filter(client_address=decline.client_address), limits[ADDRESS], now
    ):
        covered |= Q(client_address=decline.client_address)
    if decline.card_fingerprint and _retry_after(
        recent.filter(card_fingerprint=decline.card_fingerprint), limits[CARD], now
    ):
        users = recent.filter(card_fingerprint=decline.card_fingerprint).values("user_id")
        covered |= Q(order__user_id__in=users)
    return _close(open_at_stripe().filter(covered), "decline limit")


def close_blocked() -> tuple[int, int]:
    """Beat: with payments switched off, close every open payment; else those over a limit."""
    if not settings.PAYMENTS_ENABLED:
        return _close(open_at_stripe(), "payments switched off")
    return _close(open_at_stripe().filter(_over_limits(timezone.now())), "decline limit")


def close_all_open() -> tuple[int, int]:
    """Every open PaymentIntent and Session, at once (the kill switch's command)."""
    return _close(open_at_stripe(), "closed by an operator")
