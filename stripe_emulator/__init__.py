"""An offline, stateful Stripe emulator for development and tests (never imported in production).

Start it::

    python -m stripe_emulator --port 12111 \\
        --webhook-url http://127.0.0.1:8000/api/v1/webhooks/stripe/ \\
        --webhook-secret whsec_dev_only

and point the shop at it: ``STRIPE_API_BASE=http://127.0.0.1:12111``,
``STRIPE_SECRET_KEY=sk_test_<anything>``, ``STRIPE_PUBLISHABLE_KEY=pk_test_<anything>``,
``STRIPE_WEBHOOK_SECRETS=whsec_dev_only``. It binds 127.0.0.1 only and keeps everything
in memory (a restart or ``POST /_emulator/reset`` forgets it all). Standard library plus
the ``stripe`` package; no other dependency.

Options: ``--webhook-url URL`` (repeatable; every event, signed with ``--webhook-secret``
or ``$STRIPE_EMULATOR_WEBHOOK_SECRET``, else a random secret readable at
``GET /_emulator/webhook_endpoints``), ``--retry-base-seconds`` (1; a failed delivery is
retried after base x 2^(n-1) seconds), ``--max-delivery-attempts`` (5),
``--webhook-timeout-seconds`` (10), ``--async-delay-seconds`` (5; delayed payment methods
settle by themselves after this long, 0 = only through the control API),
``--hang-seconds`` (30; default length of an injected timeout), ``--quiet``.

What it speaks
--------------
Stripe's wire format at the SDK's pinned API version (``2026-08-26.dahlia``): form-encoded
requests, Stripe-shaped objects, lists and errors (``{"error": {"type", "code",
"decline_code", "message", "param"}}``), ``expand[]``. ``Authorization: Bearer
sk_test_...`` (or Basic) is required: 401 without it, 401 for any live key. Parameters
are checked against the ``stripe`` package's own TypedDicts (``stripe.params.*``): an
unknown one is 400 ``parameter_unknown``, a mistyped one ``parameter_invalid`` /
``parameter_invalid_integer``, a missing one ``parameter_missing``, each with ``param``.
``Idempotency-Key`` (POST) is scoped per API key and path: the same parameters replay the
stored answer with ``Idempotent-Replayed: true``; other parameters are 400
``idempotency_error``; a request refused by validation stores nothing.

Endpoints: customers (create, retrieve, update, list); payment_intents (create, retrieve,
update, confirm, cancel, capture for ``capture_method=manual``, list); checkout/sessions
(create in ``mode=payment`` with ``price_data`` line items, retrieve, expire,
line_items, list); charges (retrieve, list; ``expand[]=refunds``); refunds (create by
``payment_intent`` or ``charge``, partial or full, never more than the charge:
``charge_already_refunded`` / ``amount_too_large``; retrieve, list); disputes (retrieve,
update evidence, close = accept → lost, list); events (retrieve, list with ``type`` /
``types`` (``*`` wildcards), ``created`` and ``delivery_success``); webhook_endpoints
(create → ``secret``, retrieve, list, delete). A publishable key (``pk_test_...``) plus the
``client_secret`` may retrieve and confirm its PaymentIntent, with CORS headers, so a
browser page can stand in for Stripe.js.

Test payment methods (``payment_method`` on confirm) and hosted-page choices:

- ``pm_card_visa`` / 4242424242424242: succeeds
- ``pm_card_visa_chargeDeclined`` / 4000000000000002: 402 card_declined, generic_decline
- ``pm_card_visa_chargeDeclinedInsufficientFunds`` / 4000000000009995: 402 card_declined,
  insufficient_funds
- ``pm_card_threeDSecure2Required`` / 4000002500003155: requires_action (3-D Secure page
  at ``next_action.redirect_to_url.url``, or the control API)
- ``pm_card_createDispute`` / 4000000000000259: succeeds, then a dispute opens
- ``pm_async_success`` (a bank debit): processing, then succeeded
- ``pm_async_failure`` (a bank debit): processing, then failed

A Checkout Session's ``url`` is a page served by the emulator: pick a test payment method,
pay, and it redirects 303 to ``success_url`` (``{CHECKOUT_SESSION_ID}`` filled in); a
decline shows the message and lets the shopper retry; 3-D Secure goes through
``/3ds/<pi>`` (complete or fail); the bank debits complete the session with
``payment_status=unpaid`` and later send ``checkout.session.async_payment_succeeded`` /
``_failed``. The PaymentIntent a session makes carries ``payment_intent_data.metadata``.

Events and webhooks
-------------------
Events as Stripe sends them: ``payment_intent.created/succeeded/processing/
requires_action/amount_capturable_updated/payment_failed/canceled``, ``charge.succeeded/
failed/pending/captured/refunded``, ``charge.refund.updated``, ``refund.created/updated/
failed``, ``charge.dispute.created/updated/closed/funds_withdrawn/funds_reinstated``,
``checkout.session.completed/async_payment_succeeded/async_payment_failed/expired``,
``customer.created/updated``. Each is POSTed to every enabled endpoint from a background
thread with ``Stripe-Signature: t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<payload>")>``
(verifies with ``stripe.WebhookSignature.verify_header``), retried with backoff on a
non-2xx answer or a connection error; ``pending_webhooks`` and ``delivery_success`` follow.

Control API (``/_emulator/``, JSON, no key, loopback only)
-----------------------------------------------------------
=================================================  =========================================
``GET  /health``                                   ``{"status": "ok"}``
``POST /reset``                                    forget everything (faults, modes included)
``GET  /webhook_endpoints``                        endpoints with their secrets
``GET  /test_cards``                               the table above
``POST /payment_intents/<pi|cs>/authenticate``     ``{"outcome": "succeeded"|"failed"}`` (3DS)
``POST /payment_intents/<pi|cs>/settle``           ``{"outcome": "succeeded"|"failed"}`` (async)
``POST /disputes``                                 ``{"payment": "<ch|pi|cs id>", "reason"?}``
``POST /disputes/<du>/resolve``                    ``{"outcome": "won"|"lost"}``
``POST /refunds/<re>/fail``                        the refund fails (refund.failed, ...)
``POST /checkout_sessions/<cs>/expire``            expire now (checkout.session.expired)
``POST /checkout_sessions/<cs>/pay``               ``{"card": "4242424242424242"}`` as the page
``POST /faults``                                   ``{"kind": "500"|"429"|"timeout", "count": N,
                                                   "when": "before"|"after", "hang_seconds",
                                                   "path_prefix"}``: the next N API calls fail
``GET|DELETE /faults``                             list / clear armed faults
``POST /webhooks/modes``                           ``{"mode": "duplicate"|"delay"|"reorder"|
                                                   "drop", "count"?, "seconds"?, "batch"?}``
``DELETE /webhooks/modes[?mode=<mode>]``           clear one mode or all
``POST /webhooks/pause`` | ``resume`` | ``flush``  hold deliveries / send them / release held
``GET  /webhooks``                                 paused, queued, held, modes
``GET  /deliveries[?event_id=evt_...]``            every delivery attempt and its outcome
=================================================  =========================================

Faults with ``when=after`` run the call (and store its idempotent answer) before failing
the reply: the answer is lost, not the work. ``delay`` holds new deliveries ``seconds``;
``reorder`` holds ``batch`` deliveries and sends them newest first; ``duplicate`` sends
each delivery twice; ``drop`` loses deliveries (no retry; the event stays
``delivery_success=false``). ``count`` limits a mode to the next N deliveries.
"""
