"""Idempotency keys as Stripe keeps them (docs.stripe.com/api/idempotent_requests).

A key belongs to the account (here: the API key) that sent it, not to one endpoint. The
first request that reaches an endpoint's work stores its status and body under the key;
a repeat on the same endpoint with the same parameters gets them back, a repeat on another
endpoint or with other parameters is 400 `idempotency_error`. Stripe prunes a key once it
is at least 24 hours old, and a key used after that starts a new request: here a key
lives exactly 24 hours of the emulator's clock, so a test can let it lapse with
`POST /_emulator/clock/advance`. Every function runs under the store's lock.
"""

import json
from dataclasses import dataclass

from stripe_emulator.errors import StripeAPIError
from stripe_emulator.state import Store, now

KEY_LIFETIME = 24 * 60 * 60


@dataclass(frozen=True)
class Stored:
    path: str
    params: dict
    status: int
    answer: str  # JSON, so that a replay is a fresh copy
    request_id: str
    created: int


def find(store: Store, api_key: str, key: str, path: str, params: dict) -> Stored | None:
    """The stored answer to replay, None for a first use, or a 400 for a misuse."""
    stored = store.idempotency.get((api_key, key))
    if stored is not None and now() - stored.created >= KEY_LIFETIME:
        del store.idempotency[(api_key, key)]  # pruned: the key is new again
        stored = None
    if stored is None:
        return None
    if stored.path != path:
        raise _misuse(
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{stored.path}' vs '{path}'). Try using a key other than "
            f"'{key}' if you meant to execute a different request."
        )
    if stored.params != params:
        raise _misuse(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request."
        )
    return stored


def remember(
    store: Store, api_key: str, key: str, path: str, params: dict, status: int, answer, request_id
) -> None:
    store.idempotency[(api_key, key)] = Stored(
        path, params, status, json.dumps(answer), request_id, now()
    )


def _misuse(message: str) -> StripeAPIError:
    return StripeAPIError(400, message, type_="idempotency_error")
