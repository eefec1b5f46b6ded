"""Offline Stripe emulator for development and tests. Production code never imports it.

## Starting it

```sh
python -m stripe_emulator --port 12111 \\
    --webhook-url http://127.0.0.1:8000/api/v1/webhooks/stripe/ \\
    --webhook-secret whsec_dev_only
```

Then point the shop at it with `STRIPE_API_BASE=http://127.0.0.1:12111`,
`STRIPE_SECRET_KEY=sk_test_<anything>`, `STRIPE_PUBLISHABLE_KEY=pk_test_<anything>` and
`STRIPE_WEBHOOK_SECRETS=whsec_dev_only`. The emulator binds 127.0.0.1 only. It keeps
everything in memory, so a restart or `POST /_emulator/reset` forgets it all. It needs the
standard library and the `stripe` package, nothing else.

| option | default | meaning |
|---|---|---|
| `--port N` | required | port on 127.0.0.1 |
| `--webhook-url URL` | none | send every event to this URL (repeatable) |
| `--webhook-secret whsec_...` | `$STRIPE_EMULATOR_WEBHOOK_SECRET`, else random | signing secret for those URLs; read it back with `GET /_emulator/webhook_endpoints` |
| `--retry-schedule` | `test`, or `fast` when one of the next two is given | when failed deliveries are retried, in the emulator's time: `test` (Stripe's sandbox), `live` or `fast` (retry_schedule.py) |
| `--retry-base-seconds` | 1 | `fast`: a failed delivery is retried after base * 2^(n-1) s |
| `--max-delivery-attempts` | 5 | `fast`: then the delivery counts as failed |
| `--webhook-timeout-seconds` | 10 | how long to wait for a receiver's answer |
| `--async-delay-seconds` | 5 | delayed payment methods and their refunds settle on their own after this, in emulator (or test clock) time; 0 = only through the control API |
| `--hang-seconds` | 30 | default length of an injected timeout |
| `--latency-ms` | 0 | wait this long before every API answer (not the control API), as Stripe's network round trip would; the benchmarks use it |
| `--quiet` | off | no request log lines (they never show keys, bodies or query strings anyway) |

## What it speaks

It speaks Stripe's wire format at the SDK's pinned API version (`2026-08-26.dahlia`):
form-encoded requests, Stripe-shaped objects, lists and errors
(`{"error": {"type", "code", "decline_code", "message", "param"}}`), and `expand[]`.
`latest_charge` and `balance_transaction` are ids. `charge.refunds`, `customer.sources`,
`checkout.session.line_items` (and their `discounts`) and `total_details.breakdown` show
up only when expanded. What dj-stripe fetches to mirror customers, PaymentIntents,
charges, refunds, disputes and Checkout Sessions is served, so its `sync_from_stripe_data`
works against the emulator.

Each object has every field Stripe sends for its type at that version, built from one
template per type (`objects/`); the emulator's tests check every answer and event against
the SDK's types (tests/stripe_emulator/conformance.py; docs/emulator.md, "Conformance").

- Auth: every call needs `Authorization: Bearer sk_test_...` (Basic auth works too).
  Without a key the answer is 401. Live keys (`sk_live_`, `rk_live_`, `pk_live_`) also get 401.
- Parameters are checked against the `stripe` package's own TypedDicts
  (`stripe.params.*`), with Stripe's limits on metadata. An unknown parameter is 400
  `parameter_unknown`, a mistyped one `parameter_invalid` or `parameter_invalid_integer`,
  and a missing one `parameter_missing`, each with `param`.
- Amounts follow Stripe's currency rules wherever they enter (PaymentIntent create and
  update, capture, Checkout prices and totals, refunds; money.py): zero-decimal currencies
  take whole units, three-decimal ones (BHD, JOD, KWD, OMR, TND) multiples of 10, ISK and
  UGX multiples of 100; a charge below the currency's minimum is `amount_too_small` naming
  it ("Amount must be at least $0.50 usd"), one over eight digits (IDR: twelve)
  `amount_too_large`.
- Checks on values (rules.py): a malformed `receipt_email`, customer `email` or
  `customer_email` is 400 `email_invalid`. Without `payment_method_types` a PaymentIntent
  has `automatic_payment_methods` on (`allow_redirects: always`), as at this API version;
  `automatic_payment_methods` with `payment_method_types` or `confirmation_method` is
  `parameters_exclusive`. A server-side confirm (`confirm=true`, or `/confirm` with the
  secret key) of a PaymentIntent that may redirect needs `return_url`, unless
  `allow_redirects=never` or `payment_method_types` rules redirects out; a page confirming
  with the publishable key needs none.
- `Idempotency-Key` (POST) belongs to the API key that sent it (idempotency.py). The same
  endpoint and parameters replay the stored answer (a card decline included) with
  `Idempotent-Replayed: true`. Another endpoint or other parameters is 400
  `idempotency_error`. A key lapses 24 hours after its first use by the emulator's clock;
  used again after that, it starts a new request. A request refused by validation stores
  nothing.
- Endpoints:
  - account: retrieve (`GET /v1/account`): one platform account for every key, which
    `/_emulator/reset` keeps
  - customers: create (`test_clock`: the customer lives in that clock's time), retrieve,
    update, list
  - payment_intents: create, retrieve, update, confirm, cancel, capture
    (`capture_method=manual`), list
  - checkout/sessions: create (`mode=payment`, `price_data` line items), retrieve,
    expire, line_items, list
  - charges: retrieve, list
  - payment_methods: create (from a test token, US bank account or IBAN), retrieve
  - refunds: create by `payment_intent` or `charge`, partial or full, never more than the
    charge (`charge_already_refunded`, `amount_too_large`; a lost dispute gives
    `charge_disputed`); retrieve, list. Card refunds succeed at once, and bank debit
    refunds start `pending`.
  - disputes: retrieve, update (evidence merged, metadata, `submit`: `under_review`,
    `submission_count`, `past_due`), close (accept → `lost`; an inquiry `warning_closed`),
    list. Evidence is refused once submitted or closed, per field over Stripe's length and
    over 150,000 characters in all (stripe_emulator/disputes.py)
  - balance_transactions: retrieve, list (`source`, `type`, `currency`, `created`). One is
    made when money moves: a charge's when it is captured (`pending`, available two days
    later; fee 2.9% + 30 for cards, 0.8% capped at 500 for bank debits), a refund's when
    it is made, a failed refund's `failure_balance_transaction`, and a dispute's
    withdrawal (fee 1500) and reinstatement, embedded in `dispute.balance_transactions`.
  - events: retrieve, list with `type` / `types` (`*` wildcards), `created`,
    `delivery_success`; only the last 30 days (in the emulator's time) are kept
  - webhook_endpoints: create (the answer alone carries `secret`), retrieve, update (`url`,
    `enabled_events`, `disabled`, `description`, `metadata`), list, delete; Stripe's event
    type names only (webhook_endpoints.py)
  - test_helpers/test_clocks: create (`frozen_time`, `name`, `customer`), retrieve, list,
    advance (later `frozen_time`, at most two years ahead; `advancing`, then `ready`),
    delete (with its customers). See "Time" below.
- A browser page can stand in for Stripe.js. With a publishable key (`pk_test_...`, as
  `key=` or Bearer) and the PaymentIntent's `client_secret`, it may retrieve and confirm
  that PaymentIntent, and CORS headers are sent. Confirm with `payment_method=<test id below>`.

## Test payment methods

Stripe's documented test PaymentMethod ids (`pm_card_visa`, `pm_card_chargeDeclined`,
`pm_card_threeDSecure2Required`, `pm_usBankAccount_success`, `pm_success_de`, ...), card
numbers, tokens (`tok_visa`, through `POST /v1/payment_methods` `card[token]`) and bank
accounts (`payment_method_data` with a test US account number or IBAN), each with the outcome
Stripe documents. They come from one table, `stripe_emulator/cards/table.py`;
`python -m stripe_emulator --help` and docs/emulator.md list them all. Raw card numbers are
refused by the API as Stripe refuses them, and work on the hosted Checkout page.

A Checkout Session's `url` is a page the emulator serves. The shopper picks a test payment
method and pays, and the page redirects 303 to `success_url`, with
`{CHECKOUT_SESSION_ID}` filled in. A decline shows Stripe's message and lets the shopper
try again. 3-D Secure goes through `/3ds/<pi>`, where it can be completed or failed. The
bank debits complete the session with `payment_status=unpaid` and later send
`checkout.session.async_payment_succeeded` or `_failed`. The page's cancel link goes to
`cancel_url`. The PaymentIntent that a session creates when the shopper pays carries
`payment_intent_data.metadata`.

## Time

What time causes is kept as deadlines (stripe_emulator/timers.py): a Checkout Session open
at `expires_at` expires (`checkout.session.expired`); a manual-capture card authorization
not captured by its charge's `payment_method_details.card.capture_before` (7 days) expires
(`charge.expired`, then `payment_intent.canceled` with `cancellation_reason=automatic`);
bank debits and their pending refunds settle after `--async-delay-seconds`. In the
emulator's own time they act by themselves as the wall clock reaches them, and at once
when `/_emulator/clock/advance` jumps past them. A test clock's customers
(stripe_emulator/test_clocks.py) live in its `frozen_time`: their objects take it as
`created`, and their deadlines act only when that clock is advanced past them.

## Events and webhooks

The emulator sends events where Stripe would:

- `payment_intent.created / succeeded / processing / requires_action /
  amount_capturable_updated / payment_failed / canceled`
- `charge.succeeded / failed / pending / captured / expired / refunded`, `charge.refund.updated`
- `refund.created / updated / failed`
- `charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated`
- `checkout.session.completed` (`paid` or `unpaid`), `checkout.session.async_payment_succeeded / async_payment_failed / expired`
- `customer.created / updated / deleted`
- `test_helpers.test_clock.created / advancing / ready / deleted`

A background thread POSTs each event to every enabled endpoint. It is signed
`Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>`, which
`stripe.WebhookSignature.verify_header` accepts. A non-2xx answer or a connection error is
retried on the retry schedule. The event's `pending_webhooks` and its `delivery_success`
(the events list filter) follow the deliveries.

Each endpoint gets only the types it enables, while it is enabled, stamped with its
`api_version` when it has one. Retries follow `--retry-schedule`, in the emulator's time:
`test` (the default, Stripe's sandbox: 30 min, 1 h, 2 h), `live` (5 min doubling up to 12 h
apart, for 3 days) or `fast` (`--retry-base-seconds`, `--max-delivery-attempts`; what
`devstack.Emulator` asks for). An endpoint whose every attempt failed for 5 days is
disabled (warned at 3 days): webhook_endpoints.py.

## Control API

The control API lives under `/_emulator/`. It takes and returns JSON, needs no key, and
answers only loopback clients. So that no web page can drive it (cross-site forms, DNS
rebinding), every request must carry a loopback `Host` (127.0.0.1, localhost or [::1], any
port; 400 otherwise, on the API and the hosted pages too), a request with an `Origin` other
than a loopback http one is refused with 403, a POST or DELETE needs
`Content-Type: application/json` or an `X-Emulator-Control` header (415 otherwise), and the
control API answers no CORS preflight.

| call | does |
|---|---|
| `GET /health` | `{"status": "ok"}` |
| `POST /latency` `{"ms": N}` | wait N ms before every API answer from now on (`--latency-ms` while running; a reset restores the option's value) |
| `POST /clock/advance` `{"seconds": N}` | let N seconds pass at once: every timestamp after it is N seconds later, and what falls due meanwhile (expiry, settlement) acts before the answer; `GET /clock` reads it; a reset goes back to the wall clock; test clocks keep their own time |
| `POST /reset` | forgets all objects, events, faults and delivery modes; the `--webhook-url` endpoints come back |
| `GET /webhook_endpoints` | endpoints with their secrets and failure runs (`failing_since`, `warned_at`) |
| `GET /test_cards` | the table above |
| `POST /payment_intents/<pi or cs>/authenticate` `{"outcome": "succeeded" or "failed"}` | 3-D Secure passed or failed |
| `POST /payment_intents/<pi or cs>/settle` `{"outcome": "succeeded" or "failed"}` | a bank debit settles now |
| `POST /disputes` `{"payment": "<ch, pi or cs id>", "reason"?, "amount"?, "inquiry"?, "evidence_due_by"?}` | the card holder disputes (an inquiry moves no money) |
| `POST /disputes/<du>/resolve` `{"outcome": "won" or "lost"}` | the bank decides (an inquiry: `warning_closed`) |
| `POST /refunds/<re>/settle` `{"outcome": "succeeded" or "failed"}` | a pending refund (of a bank debit; they settle on their own after `--async-delay-seconds`) is paid out or fails |
| `POST /refunds/<re>/fail` `{"reason"?}` | the refund fails, even a succeeded card refund (`refund.failed`, `refund.updated`, `charge.refund.updated`) |
| `POST /checkout_sessions/<cs>/expire` | expires now (`checkout.session.expired`) |
| `POST /checkout_sessions/<cs>/pay` `{"card": "4242424242424242" or a pm id}` | what the page's Pay button does; answers `{session, payment_intent, redirect}` |
| `POST /faults` `{"kind": "500", "429" or "timeout", "count": 1, "when": "before" or "after", "hang_seconds"?, "path_prefix": "/v1/"}` | the next `count` API calls fail |
| `GET /faults`, `DELETE /faults` | list or clear armed faults (clearing ends running hangs) |
| `POST /webhooks/modes` `{"mode": "duplicate", "delay", "reorder" or "drop", "count"?, "seconds"?, "batch"?}` | make deliveries misbehave (`count`: only the next N) |
| `DELETE /webhooks/modes[?mode=<mode>]` | clear one mode, or all |
| `POST /webhooks/pause`, `/resume`, `/flush` | hold deliveries, send them, release a reorder batch and delays now |
| `GET /webhooks` | paused, queued, held, modes, the retry schedule |
| `GET /deliveries[?event_id=evt_...]` | every delivery attempt: event, URL, attempt, outcome, status |

Faults:

- A `before` fault fails the call before it does anything.
- An `after` fault does the work and stores the idempotent answer, then fails the reply.
  The answer is lost, but the work is done, so a retry with the same key gets the stored
  answer.

Delivery modes apply to the events made while they are on, however late those are sent:

- `duplicate` sends each delivery twice.
- `delay` holds new deliveries for `seconds`.
- `reorder` holds `batch` deliveries (default 2) and sends them newest first.
- `drop` loses deliveries with no retry. The event stays `delivery_success=false`.
"""  # noqa: E501 (Markdown table rows cannot wrap)
