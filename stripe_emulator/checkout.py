"""Checkout Sessions in `mode=payment`: created by the API, paid on the hosted page.

Like Stripe since 2022-08-01, a session has no PaymentIntent until the shopper pays; it
is created then, with `payment_intent_data` (metadata, capture method) copied onto it.
The session follows its PaymentIntent through a listener on the store: paid → complete
and `paid`, processing → complete and `unpaid` (then async_payment_succeeded / _failed).
"""

from stripe_emulator import money, objects, rules
from stripe_emulator.errors import invalid, unexpected_state
from stripe_emulator.payments import Payments
from stripe_emulator.state import AUTOMATIC, RequestContext, Store, merge_metadata, new_id, now
from stripe_emulator.test_clocks import living_in
from stripe_emulator.timers import Timers

MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60


class Checkout:
    def __init__(self, store: Store, payments: Payments, *, base_url: str, timers: Timers):
        self.store = store
        self.timers = timers
        self.payments = payments
        self.base_url = base_url
        store.payment_intent_listeners.append(self._follow_payment_intent)
        store.virtual_fields[("checkout.session", "line_items")] = self._line_items_list
        # Sent only when expanded; no discounts or taxes are ever applied here.
        store.virtual_fields[("total_details", "breakdown")] = lambda _: {
            "discounts": [],
            "taxes": [],
        }
        store.virtual_fields[("item", "discounts")] = lambda _: []

    # --- API ---------------------------------------------------------------------------
    def create(self, params: dict, ctx: RequestContext) -> dict:
        mode = params.get("mode", "payment")
        if mode != "payment":
            raise invalid(
                "The emulator supports Checkout in mode=payment only.",
                code="parameter_invalid",
                param="mode",
            )
        if not params.get("success_url"):
            raise invalid(
                "Missing required param: success_url.",
                code="parameter_missing",
                param="success_url",
            )
        for name in ("success_url", "cancel_url"):
            # Stripe refuses anything but a web URL; the page puts cancel_url in a link.
            if name in params and not params[name].startswith(("http://", "https://")):
                raise invalid("Not a valid URL", code="url_invalid", param=name)
        rules.check_email(params, "customer_email")
        line_items = self._line_items(params.get("line_items"))
        currencies = {item["currency"] for item in line_items}
        if len(currencies) != 1:
            raise invalid(
                "All line items must use the same currency.",
                code="parameter_invalid",
                param="line_items",
            )
        created = now()
        expires_at = params.get("expires_at", created + MAX_LIFETIME)
        if not created + MIN_LIFETIME <= expires_at <= created + MAX_LIFETIME:
            raise invalid(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours after "
                "the Checkout Session is created.",
                code="parameter_invalid",
                param="expires_at",
            )
        if params.get("customer"):
            self.store.get("customer", params["customer"], param="customer")
        session_id = new_id("cs_test", 58)
        total = sum(item["amount_total"] for item in line_items)
        money.check_session_total(total, line_items[0]["currency"])
        session = objects.build(
            "checkout.session",
            id=session_id,
            amount_subtotal=total,
            amount_total=total,
            cancel_url=params.get("cancel_url"),
            client_reference_id=params.get("client_reference_id"),
            created=created,
            currency=currencies.pop(),
            customer=params.get("customer"),
            customer_creation=None if params.get("customer") else "if_required",
            customer_details=None,
            customer_email=params.get("customer_email"),
            expires_at=expires_at,
            livemode=False,
            metadata=merge_metadata({}, params.get("metadata") or {}),
            mode="payment",
            payment_intent=None,
            payment_method_types=["card"],
            payment_status="unpaid",
            status="open",
            success_url=params["success_url"],
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            ui_mode="hosted_page",
            url=f"{self.base_url}/c/pay/{session_id}",
        )
        self.store.add(
            session,
            line_items=line_items,
            payment_intent_data=params.get("payment_intent_data") or {},
        )
        # In the customer's test clock's time when it has one (the request runs in it).
        self.timers.at(expires_at, lambda: self._expire_if_due(session_id))
        return session

    def _line_items(self, items) -> list[dict]:
        if not items:
            raise invalid(
                "Missing required param: line_items.", code="parameter_missing", param="line_items"
            )
        result = []
        for index, item in enumerate(items):
            param = f"line_items[{index}]"
            if item.get("price"):
                raise invalid(
                    f"No such price: '{item['price']}'",
                    code="resource_missing",
                    param=f"{param}[price]",
                )
            price = item.get("price_data")
            if not price:
                raise invalid(
                    f"Missing required param: {param}[price_data].",
                    code="parameter_missing",
                    param=f"{param}[price_data]",
                )
            unit_amount = price.get("unit_amount")
            if unit_amount is None or unit_amount < 0:
                raise invalid(
                    f"Missing required param: {param}[price_data][unit_amount].",
                    code="parameter_missing",
                    param=f"{param}[price_data][unit_amount]",
                )
            quantity = item.get("quantity")
            if not quantity or quantity < 1:
                raise invalid(
                    f"Missing required param: {param}[quantity].",
                    code="parameter_missing",
                    param=f"{param}[quantity]",
                )
            name = (price.get("product_data") or {}).get("name") or price.get("product") or ""
            currency = money.check_currency(price["currency"], f"{param}[price_data][currency]")
            money.check_step(unit_amount, currency, f"{param}[price_data][unit_amount]")
            money.check_maximum(unit_amount, currency, f"{param}[price_data][unit_amount]")
            result.append(
                objects.build(
                    "item",
                    id=new_id("li"),
                    amount_discount=0,
                    amount_subtotal=unit_amount * quantity,
                    amount_tax=0,
                    amount_total=unit_amount * quantity,
                    currency=currency,
                    description=name,
                    price=_price(currency, unit_amount),
                    quantity=quantity,
                )
            )
        return result

    def _line_items_list(self, session: dict) -> dict:
        items = self.store.private[session["id"]]["line_items"]
        return {
            "object": "list",
            "data": [dict(item) for item in items],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
        }

    def list_line_items(self, session: dict, params: dict) -> dict:
        items = self.store.private[session["id"]]["line_items"]
        limit = params.get("limit", 10)
        ids = [i["id"] for i in items]
        start = 0
        if params.get("starting_after") in ids:
            start = ids.index(params["starting_after"]) + 1
        window = items[start:]
        return {
            "object": "list",
            "data": [dict(i) for i in window[:limit]],
            "has_more": len(window) > limit,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
        }

    def expire(self, session: dict, ctx: RequestContext = AUTOMATIC) -> dict:
        if session["status"] != "open":
            raise unexpected_state(
                "checkout_session_unexpected_state",
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f"session has a status of {session['status']}.",
            )
        session.update(status="expired", url=None)
        intent = self.store.find("payment_intent", session.get("payment_intent"))
        if intent is not None and intent["status"] in (
            "requires_payment_method",
            "requires_action",
        ):
            self.payments.cancel_intent(intent, {"cancellation_reason": "abandoned"}, ctx)
        self.store.emit("checkout.session.expired", session, ctx)
        return session

    def _expire_if_due(self, session_id: str) -> None:
        """A session still open at `expires_at` expires by itself, as at Stripe."""
        session = self.store.find("checkout.session", session_id)
        if session is not None and session["status"] == "open" and session["expires_at"] <= now():
            self.expire(session)

    # --- the hosted page's actions --------------------------------------------------------
    def pay(self, session: dict, payment_method_id: str, ctx=AUTOMATIC) -> dict:
        """The shopper pays: returns the PaymentIntent (a decline leaves the session open)."""
        with living_in(self.store, session.get("customer")):
            return self._pay(session, payment_method_id, ctx)

    def _pay(self, session: dict, payment_method_id: str, ctx) -> dict:
        if session["status"] != "open":
            raise unexpected_state(
                "checkout_session_unexpected_state",
                f"This Checkout Session is {session['status']}; it can no longer be paid.",
            )
        intent = self.store.find("payment_intent", session.get("payment_intent"))
        if intent is None or intent["status"] != "requires_payment_method":
            data = self.store.private[session["id"]]["payment_intent_data"]
            intent = self.payments.create_intent(
                {
                    "amount": session["amount_total"],
                    "currency": session["currency"],
                    "metadata": data.get("metadata") or {},
                    "capture_method": data.get("capture_method", "automatic_async"),
                    "description": data.get("description"),
                    "receipt_email": data.get("receipt_email") or session.get("customer_email"),
                    "customer": session.get("customer"),
                    "payment_method_types": session["payment_method_types"],
                },
                ctx,
            )
            self.store.private[intent["id"]]["checkout_session"] = session["id"]
            session["payment_intent"] = intent["id"]
        session["customer_details"] = objects.customer_details(email=session.get("customer_email"))
        return self.payments.confirm_intent(
            intent, {"payment_method": payment_method_id, "return_url": None}, ctx
        )

    def success_url(self, session: dict) -> str:
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    def _follow_payment_intent(self, intent: dict, previous: str, ctx) -> None:
        session = self.store.find(
            "checkout.session", self.store.private[intent["id"]].get("checkout_session")
        )
        if session is None:
            return
        status = intent["status"]
        if session["status"] == "open" and status in ("succeeded", "requires_capture"):
            session.update(status="complete", url=None)
            session["payment_status"] = "paid" if status == "succeeded" else "unpaid"
            self.store.emit("checkout.session.completed", session, ctx)
        elif session["status"] == "open" and status == "processing":
            session.update(status="complete", url=None, payment_status="unpaid")
            self.store.emit("checkout.session.completed", session, ctx)
        elif session["status"] == "complete" and previous == "processing":
            if status == "succeeded":
                session["payment_status"] = "paid"
                self.store.emit("checkout.session.async_payment_succeeded", session, ctx)
            else:
                self.store.emit("checkout.session.async_payment_failed", session, ctx)


def _price(currency: str, unit_amount: int) -> dict:
    """The one-off Price Stripe makes for a line item's `price_data` (inactive, as there)."""
    return objects.build(
        "price",
        id=new_id("price"),
        active=False,
        created=now(),
        currency=currency,
        product=new_id("prod"),
        tax_behavior="unspecified",
        type="one_time",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
    )
