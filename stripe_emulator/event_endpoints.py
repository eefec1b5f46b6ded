"""The `/v1/events` and `/v1/webhook_endpoints` operations, as Stripe's API reference has
them. Registered in `stripe_emulator.api`'s table like endpoints.py's; each runs under the
store's lock.

Stripe keeps events for 30 days: retrieving or listing one made longer ago (in the
emulator's time) answers as if it never was.
"""

import fnmatch

import stripe.params as sp

from stripe_emulator.api import list_page, render, route
from stripe_emulator.errors import invalid, missing_resource
from stripe_emulator.retry_schedule import DAY, delivery_time

EVENT_RETENTION_DAYS = 30


def _retained(event: dict) -> bool:
    return event["created"] > delivery_time() - EVENT_RETENTION_DAYS * DAY


# --- Events -------------------------------------------------------------------------------
@route("GET", "/v1/events/{id}", sp.EventRetrieveParams)
def retrieve_event(emulator, event_id, *, params, ctx):
    event = emulator.store.get("event", event_id)
    if not _retained(event):
        raise missing_resource("event", event_id)
    return render(emulator, event, params)


@route("GET", "/v1/events", sp.EventListParams)
def list_events(emulator, *, params, ctx):
    if params.get("type") and params.get("types"):
        raise invalid(
            "You may pass either `type` or `types`, not both.",
            code="parameters_exclusive",
            param="types",
        )
    if len(params.get("types") or []) > 20:
        raise invalid(
            "You may pass at most 20 event types in `types`.",
            code="parameter_invalid",
            param="types",
        )
    patterns = [params["type"]] if params.get("type") else params.get("types") or ["*"]

    def wanted(event: dict) -> bool:
        if not _retained(event):
            return False
        if not any(fnmatch.fnmatchcase(event["type"], p) for p in patterns):
            return False
        if "delivery_success" in params:
            return emulator.webhooks.delivery_succeeded(event) == params["delivery_success"]
        return True

    events = [e for e in emulator.store.of_type("event") if wanted(e)]
    return emulator.store.page(events, params, "/v1/events")


# --- Webhook endpoints --------------------------------------------------------------------
@route("POST", "/v1/webhook_endpoints", sp.WebhookEndpointCreateParams)
def create_webhook_endpoint(emulator, *, params, ctx):
    return render(emulator, emulator.webhooks.endpoints.create(params), params)


@route("GET", "/v1/webhook_endpoints/{id}", sp.WebhookEndpointRetrieveParams)
def retrieve_webhook_endpoint(emulator, endpoint_id, *, params, ctx):
    return render(emulator, emulator.store.get("webhook_endpoint", endpoint_id), params)


@route("POST", "/v1/webhook_endpoints/{id}", sp.WebhookEndpointUpdateParams)
def update_webhook_endpoint(emulator, endpoint_id, *, params, ctx):
    endpoint = emulator.store.get("webhook_endpoint", endpoint_id)
    return render(emulator, emulator.webhooks.endpoints.update(endpoint, params), params)


@route("GET", "/v1/webhook_endpoints", sp.WebhookEndpointListParams)
def list_webhook_endpoints(emulator, *, params, ctx):
    return list_page(emulator, "webhook_endpoint", params, "/v1/webhook_endpoints")


@route("DELETE", "/v1/webhook_endpoints/{id}", sp.WebhookEndpointDeleteParams)
def delete_webhook_endpoint(emulator, endpoint_id, *, params, ctx):
    endpoint = emulator.store.get("webhook_endpoint", endpoint_id)
    return emulator.webhooks.endpoints.delete(endpoint)
