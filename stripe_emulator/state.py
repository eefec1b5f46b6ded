"""The emulator's memory: every object, every event, and the lock that guards them.

One re-entrant lock serialises all changes. An API call, a control call or a timer takes
it for the whole of its work, so a PaymentIntent, its charge and the events about them
always change together, the way Stripe shows them. Webhook delivery works on snapshots
taken when an event is made and never holds the lock while it talks to a receiver.
"""

import copy
import itertools
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from stripe_emulator.clock import CLOCK
from stripe_emulator.errors import invalid, missing_resource

_ALPHABET = string.ascii_letters + string.digits

# What `expand[]=<field>` can reach: field name → the object type it refers to (None: any
# type, as a balance transaction's `source` is a charge, a refund or a dispute).
EXPANDABLE = {
    "customer": "customer",
    "payment_intent": "payment_intent",
    "latest_charge": "charge",
    "charge": "charge",
    "balance_transaction": "balance_transaction",
    "failure_balance_transaction": "balance_transaction",
    "source": None,
    "test_clock": "test_helpers.test_clock",
}


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def now() -> int:
    """Stripe's timestamps: whole seconds of the emulator's clock (clock.py)."""
    return int(CLOCK.now())


@dataclass(frozen=True)
class RequestContext:
    """What an event says about the API request that caused it (null for automatic ones)."""

    request_id: str | None = None
    idempotency_key: str | None = None
    # Sent by a page with a publishable key and the client_secret (as Stripe.js does), not
    # by a server with its secret key.
    client_side: bool = False

    def as_event_request(self) -> dict:
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


AUTOMATIC = RequestContext()


@dataclass
class Store:
    api_version: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict] = field(default_factory=dict)
    # Emulator-only facts about an object that Stripe does not show (the test card behind
    # a PaymentIntent, a session's line items, a webhook endpoint's secret, ...).
    private: dict[str, dict] = field(default_factory=dict)
    sequence: itertools.count = field(default_factory=itertools.count)
    event_listeners: list[Callable[[dict], None]] = field(default_factory=list)
    # Hooks run after a PaymentIntent changes status (Checkout follows its PaymentIntent).
    payment_intent_listeners: list[Callable[[dict, str, RequestContext], None]] = field(
        default_factory=list
    )
    # Virtual fields shown only when expanded (`charge.refunds` at this API version), keyed
    # by (the object type, or for a plain hash the field holding it; the field name).
    virtual_fields: dict[tuple[str, str], Callable[[dict], dict]] = field(default_factory=dict)
    # (API key, Idempotency-Key) → the stored answer (stripe_emulator/idempotency.py).
    idempotency: dict[tuple, object] = field(default_factory=dict)

    # --- objects -----------------------------------------------------------------------
    def add(self, obj: dict, **private) -> dict:
        self.objects[obj["id"]] = obj
        self.private[obj["id"]] = {"sequence": next(self.sequence), **private}
        return obj

    def get(self, object_type: str, object_id: str, *, param: str = "id") -> dict:
        obj = self.objects.get(object_id) if isinstance(object_id, str) else None
        if obj is None or obj.get("object") != object_type:
            raise missing_resource(object_type, str(object_id), param)
        return obj

    def find(self, object_type: str, object_id: str | None) -> dict | None:
        obj = self.objects.get(object_id) if object_id else None
        return obj if obj is not None and obj.get("object") == object_type else None

    def of_type(self, object_type: str) -> list[dict]:
        return [o for o in self.objects.values() if o.get("object") == object_type]

    def clear(self) -> None:
        self.objects.clear()
        self.private.clear()
        self.idempotency.clear()

    # --- reading -------------------------------------------------------------------------
    def render(self, obj: dict, expand: list[str] | None = None) -> dict:
        """A copy of `obj` as the API shows it, with `expand[]` paths followed."""
        result = copy.deepcopy(obj)
        for path in expand or []:
            self._expand(result, path.split("."), path)
        return result

    def _expand(self, obj: dict, parts: list[str], full_path: str, holder: str = "") -> None:
        head, rest = parts[0], parts[1:]
        if obj.get("object") == "list" and head == "data":
            for item in obj.get("data", []):
                if rest:
                    self._expand(item, rest, full_path)
            return
        virtual = self.virtual_fields.get((obj.get("object") or holder, head))
        if virtual is not None:
            obj[head] = virtual(obj)
        elif head in obj and isinstance(obj[head], str) and head in EXPANDABLE:
            target = self.objects.get(obj[head])
            if target is not None and EXPANDABLE[head] in (None, target.get("object")):
                obj[head] = copy.deepcopy(target)
        elif head not in obj or (obj[head] is not None and not isinstance(obj[head], dict)):
            raise invalid(
                f"This property cannot be expanded ({full_path}).",
                code="parameter_invalid",
                param="expand",
            )
        if rest and isinstance(obj.get(head), dict):
            self._expand(obj[head], rest, full_path, holder=head)

    def page(
        self,
        items: list[dict],
        params: dict,
        url: str,
        *,
        expand_prefix: str = "data.",
    ) -> dict:
        """Stripe's list object: newest first, `limit`, `starting_after`, `ending_before`."""
        items = [o for o in items if _created_matches(o, params.get("created"))]
        items.sort(key=lambda o: (o.get("created", 0), self._sequence(o)), reverse=True)
        limit = params.get("limit", 10)
        if not 1 <= limit <= 100:
            raise invalid(
                "Invalid limit: must be between 1 and 100",
                code="parameter_invalid_integer",
                param="limit",
            )
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            anchor = params["starting_after"]
            if anchor not in ids:
                raise missing_resource("object", anchor, "starting_after")
            window = items[ids.index(anchor) + 1 :]
            data, has_more = window[:limit], len(window) > limit
        elif params.get("ending_before"):
            anchor = params["ending_before"]
            if anchor not in ids:
                raise missing_resource("object", anchor, "ending_before")
            window = items[: ids.index(anchor)]
            data, has_more = window[-limit:], len(window) > limit
        else:
            data, has_more = items[:limit], len(items) > limit
        expand = [
            p[len(expand_prefix) :] for p in params.get("expand", []) if p.startswith(expand_prefix)
        ]
        return {
            "object": "list",
            "data": [self.render(o, expand) for o in data],
            "has_more": has_more,
            "url": url,
        }

    def _sequence(self, obj: dict) -> int:
        return self.private.get(obj.get("id"), {}).get("sequence", 0)

    # --- events ----------------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict, ctx: RequestContext = AUTOMATIC, **extra) -> dict:
        """Record an event about `obj` (a snapshot of it now) and hand it to the listeners."""
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            # Sent when it happens: the emulator's time even for a test clock's objects.
            "created": int(CLOCK.own_now()),
            "data": {"object": copy.deepcopy(obj), **extra},
            "livemode": False,
            "pending_webhooks": 0,
            "request": ctx.as_event_request(),
            "type": event_type,
        }
        self.add(event, deliveries={})
        for listener in self.event_listeners:
            listener(event)
        return event

    def payment_intent_changed(self, intent: dict, previous_status: str, ctx) -> None:
        for listener in self.payment_intent_listeners:
            listener(intent, previous_status, ctx)


def _created_matches(obj: dict, condition) -> bool:
    if condition is None:
        return True
    created = obj.get("created", 0)
    if isinstance(condition, int):
        return created == condition
    checks = {
        "gt": lambda v: created > v,
        "gte": lambda v: created >= v,
        "lt": lambda v: created < v,
        "lte": lambda v: created <= v,
    }
    return all(checks[op](value) for op, value in condition.items() if op in checks)


def merge_metadata(current: dict, update) -> dict:
    """Stripe's metadata update: keys merge, an empty value deletes, "" clears all."""
    if update == "":
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
