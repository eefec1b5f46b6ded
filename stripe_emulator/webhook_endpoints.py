"""Webhook endpoints as Stripe keeps them: the objects, their secrets, and the rule that
disables an endpoint that keeps failing.

Parameters are checked against the SDK's own types before they get here (validation.py),
so `enabled_events` names only Stripe's event types (or `*`) and `api_version` only
Stripe's versions. The signing secret lives beside the object (`store.private`): Stripe
shows it once, in the answer to the create call.

**Disabling.** Stripe e-mails the account owner when an endpoint has failed for several days
running and disables it soon after unless it was fixed. The emulator counts a failure run
from the first failed attempt after a success (or since the endpoint was made or enabled);
any successful attempt ends the run. At a failed attempt, in the emulator's time, a run of
`WARN_AFTER_DAYS` is warned about (the "e-mail": a log line and `warned_at` in the control
API's endpoint list) and a run of `DISABLE_AFTER_DAYS` disables the endpoint: its `status`
becomes `disabled`, nothing more is sent to it, and retries already queued for it stop.
Updating it with `disabled=false` enables it again with a fresh run.
"""

import logging
from urllib.parse import urlsplit

from stripe_emulator.errors import invalid
from stripe_emulator.retry_schedule import DAY, delivery_time
from stripe_emulator.state import Store, merge_metadata, new_id, now

logger = logging.getLogger(__name__)

WARN_AFTER_DAYS = 3
DISABLE_AFTER_DAYS = 5


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Stripe's wording; test mode takes http:// as well as https://.
        raise invalid(f"Invalid URL: {url}", code="url_invalid", param="url")
    return url


def _checked_events(events: list[str], param: str = "enabled_events") -> list[str]:
    if not events:
        raise invalid(
            "You must specify at least one event type in `enabled_events`.",
            code="parameter_invalid_empty",
            param=param,
        )
    if "*" in events and len(events) > 1:
        raise invalid(
            "`*` enables every event: it cannot be combined with other event types.",
            code="parameter_invalid",
            param=param,
        )
    return list(dict.fromkeys(events))  # Stripe keeps each type once


class WebhookEndpoints:
    def __init__(self, store: Store):
        self.store = store

    # --- the API operations (store lock held) --------------------------------------------
    def create(self, params: dict, *, secret: str | None = None) -> dict:
        endpoint = {
            "id": new_id("we"),
            "object": "webhook_endpoint",
            "api_version": params.get("api_version"),
            "application": None,
            "created": now(),
            "description": params.get("description") or None,
            "enabled_events": _checked_events(params["enabled_events"]),
            "livemode": False,
            "metadata": merge_metadata({}, params.get("metadata") or {}),
            "status": "enabled",
            "url": _checked_url(params["url"]),
        }
        secret = secret or new_id("whsec", 32)
        self.store.add(endpoint, secret=secret, failing_since=None, warned_at=None)
        # Stripe shows the secret only in the answer to the create call.
        return {**endpoint, "secret": secret}

    def update(self, endpoint: dict, params: dict) -> dict:
        changes = {}
        if "url" in params:
            changes["url"] = _checked_url(params["url"])
        if "enabled_events" in params:
            changes["enabled_events"] = _checked_events(params["enabled_events"])
        if "description" in params:
            changes["description"] = params["description"] or None
        if "metadata" in params:
            changes["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
        if "disabled" in params:
            changes["status"] = "disabled" if params["disabled"] else "enabled"
            if not params["disabled"]:
                self._end_failure_run(endpoint["id"])
        endpoint.update(changes)
        return endpoint

    def delete(self, endpoint: dict) -> dict:
        del self.store.objects[endpoint["id"]]
        return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}

    # --- what delivery needs ---------------------------------------------------------------
    def secret_of(self, endpoint_id: str) -> str:
        return self.store.private[endpoint_id]["secret"]

    def listening_to(self, event_type: str) -> list[dict]:
        """The enabled endpoints that take `event_type`, oldest first."""
        return [
            e
            for e in self.store.of_type("webhook_endpoint")
            if e["status"] == "enabled"
            and ("*" in e["enabled_events"] or event_type in e["enabled_events"])
        ]

    def control_view(self, endpoint: dict) -> dict:
        """The endpoint with what Stripe keeps to itself: the secret and the failure run."""
        private = self.store.private[endpoint["id"]]
        return {
            **endpoint,
            "secret": private["secret"],
            "failing_since": private.get("failing_since"),
            "warned_at": private.get("warned_at"),
        }

    def attempt_made(self, endpoint_id: str, *, succeeded: bool) -> None:
        """Follow the endpoint's failure run after one delivery attempt (store lock held)."""
        endpoint = self.store.find("webhook_endpoint", endpoint_id)
        if endpoint is None:
            return
        if succeeded:
            self._end_failure_run(endpoint_id)
            return
        private = self.store.private[endpoint_id]
        moment = int(delivery_time())
        if private.get("failing_since") is None:
            private["failing_since"] = moment
        failing_for = moment - private["failing_since"]
        if failing_for >= WARN_AFTER_DAYS * DAY and private.get("warned_at") is None:
            private["warned_at"] = moment
            logger.warning(
                "webhook endpoint %s has failed every delivery for %d days; it will be "
                "disabled after %d",
                endpoint_id,
                failing_for // DAY,
                DISABLE_AFTER_DAYS,
            )
        if failing_for >= DISABLE_AFTER_DAYS * DAY and endpoint["status"] == "enabled":
            endpoint["status"] = "disabled"
            logger.warning(
                "webhook endpoint %s disabled: every delivery failed for %d days",
                endpoint_id,
                failing_for // DAY,
            )

    def _end_failure_run(self, endpoint_id: str) -> None:
        private = self.store.private[endpoint_id]
        private["failing_since"] = None
        private["warned_at"] = None
