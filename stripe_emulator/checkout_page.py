"""The hosted pages: Checkout's payment page at a session's `url`, and the 3-D Secure step.

Plain HTML forms, no JavaScript, every value HTML-escaped (line item names, URLs and
messages come from the API caller). Paying redirects 303 to `success_url` with
`{CHECKOUT_SESSION_ID}` filled in; a decline shows Stripe's message and lets the shopper
try another card, as Checkout does.
"""

from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from stripe_emulator import cards, money
from stripe_emulator.errors import StripeAPIError

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; color: #1a1f36; }
.banner { background: #fff4e5; padding: .5rem 1rem; border-radius: 4px; font-size: .9rem; }
.error { background: #fde8e8; color: #a11; padding: .5rem 1rem; border-radius: 4px; }
table { width: 100%; border-collapse: collapse; } td { padding: .25rem 0; }
td.amount { text-align: right; } label { display: block; margin: .35rem 0; }
button { background: #635bff; color: white; border: 0; padding: .6rem 1.2rem;
         border-radius: 4px; font-size: 1rem; margin-top: 1rem; }
"""


class Page:
    def __init__(self, status: int, html: str = "", location: str | None = None):
        self.status = status
        self.html = html
        self.location = location


def _money(amount: int, currency: str) -> str:
    places = money.decimal_places(currency.lower())
    if not places:
        return f"{amount} {currency.upper()}"
    whole, fraction = divmod(amount, 10**places)
    return f"{whole}.{fraction:0{places}d} {currency.upper()}"


def _document(title: str, body: str, status: int = 200) -> Page:
    return Page(
        status,
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<p class="banner">Stripe emulator: test mode, no real money moves.</p>'
        f"{body}</body></html>",
    )


def _not_found() -> Page:
    return _document("Not found", "<h1>Not found</h1>", 404)


# --- Checkout ------------------------------------------------------------------------------
def checkout_get(emulator, session_id: str, error: str | None = None, status=200) -> Page:
    with emulator.store.lock:
        session = emulator.store.find("checkout.session", session_id)
        if session is None:
            return _not_found()
        items = emulator.store.private[session_id]["line_items"]
        if session["status"] != "open":
            link = ""
            if session["status"] == "complete":
                href = escape(emulator.checkout.success_url(session))
                link = f'<p><a href="{href}">Return to the shop</a></p>'
            return _document(
                "Checkout",
                f"<h1>This checkout is {escape(session['status'])}</h1>{link}",
                410 if session["status"] == "expired" else 200,
            )
        rows = "".join(
            f"<tr><td>{escape(item['description'])} x {item['quantity']}</td>"
            f'<td class="amount">{escape(_money(item["amount_total"], item["currency"]))}</td></tr>'
            for item in items
        )
        total = escape(_money(session["amount_total"], session["currency"]))
        choices = "".join(
            f'<label><input type="radio" name="choice" value="{escape(choice)}"'
            f"{' checked' if index == 0 else ''}> {escape(pm.number or '')} "
            f"{escape(pm.label)}</label>"
            for index, (choice, pm) in enumerate(cards.BY_CHOICE.items())
        )
        error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        cancel = (
            f'<p><a href="{escape(session["cancel_url"])}">Cancel and return</a></p>'
            if session.get("cancel_url")
            else ""
        )
        email = session.get("customer_email")
        body = (
            "<h1>Pay</h1>"
            + (f"<p>{escape(email)}</p>" if email else "")
            + f"<table>{rows}<tr><th>Total</th>"
            + f'<td class="amount"><strong>{total}</strong></td></tr></table>'
            + error_html
            + f'<form method="post" action="/c/pay/{escape(session_id)}">'
            + f"<fieldset><legend>Test payment method</legend>{choices}</fieldset>"
            + '<label>or type a card number <input name="number" inputmode="numeric" '
            + 'autocomplete="off"></label>'
            + f'<button type="submit">Pay {total}</button></form>'
            + cancel
        )
        return _document("Checkout", body, status)


def checkout_post(emulator, session_id: str, form: bytes) -> Page:
    fields = parse_qs(form.decode("utf-8", "replace"))
    choice = (fields.get("choice") or [""])[-1]
    typed = "".join((fields.get("number") or [""])[-1].split())
    pm = cards.BY_CHOICE.get(choice)
    with emulator.store.lock:
        session = emulator.store.find("checkout.session", session_id)
        if session is None:
            return _not_found()
        if pm is None and not typed:
            return checkout_get(emulator, session_id, "Choose one of the test cards.", 400)
        try:
            pm_id = (
                emulator.payments.payment_method_for_card_number(typed)
                if typed
                else page_choice(emulator, pm)
            )
            intent = emulator.checkout.pay(session, pm_id)
        except StripeAPIError as exc:
            return checkout_get(emulator, session_id, exc.message, exc.status)
        if intent["status"] == "requires_action":
            return Page(303, location=f"/3ds/{intent['id']}")
        return Page(303, location=emulator.checkout.success_url(session))


def page_choice(emulator, pm) -> str:
    """The PaymentMethod the page pays with: a card number becomes one, as Stripe.js makes
    one from what the shopper typed (an incorrect number is refused here, with 402)."""
    if pm.kind == "card":
        return emulator.payments.payment_method_for_card_number(pm.number)
    return pm.id


# --- 3-D Secure -------------------------------------------------------------------------------
def three_d_secure_get(emulator, intent_id: str) -> Page:
    with emulator.store.lock:
        intent = emulator.store.find("payment_intent", intent_id)
        if intent is None:
            return _not_found()
        if intent["status"] != "requires_action":
            return _document(
                "3-D Secure", f"<h1>Nothing to authenticate ({escape(intent['status'])})</h1>"
            )
        amount = escape(_money(intent["amount"], intent["currency"]))
        action = f"/3ds/{escape(intent_id)}"
        body = (
            f"<h1>3-D Secure authentication</h1><p>Confirm the payment of {amount}.</p>"
            f'<form method="post" action="{action}">'
            '<button type="submit" name="result" value="succeeded">Complete authentication'
            "</button> "
            '<button type="submit" name="result" value="failed">Fail authentication</button>'
            "</form>"
        )
        return _document("3-D Secure", body)


def three_d_secure_post(emulator, intent_id: str, form: bytes) -> Page:
    result = (parse_qs(form.decode("utf-8", "replace")).get("result") or [""])[-1]
    with emulator.store.lock:
        intent = emulator.store.find("payment_intent", intent_id)
        if intent is None:
            return _not_found()
        try:
            emulator.payments.authenticate(intent, result == "succeeded")
        except StripeAPIError as exc:
            return _document("3-D Secure", f"<h1>{escape(exc.message)}</h1>", exc.status)
        private = emulator.store.private[intent_id]
        session = emulator.store.find("checkout.session", private.get("checkout_session"))
        if session is not None:
            if session["status"] == "complete":
                return Page(303, location=emulator.checkout.success_url(session))
            error = (intent.get("last_payment_error") or {}).get("message")
            return checkout_get(emulator, session["id"], error, 402)
        if private.get("return_url"):
            return Page(303, location=_return_url(private["return_url"], intent))
        return _document("3-D Secure", f"<h1>Authentication done: {escape(intent['status'])}</h1>")


def _return_url(url: str, intent: dict) -> str:
    """Stripe appends these to the PaymentIntent's return_url after a redirect."""
    parts = urlsplit(url)
    extra = urlencode(
        {
            "payment_intent": intent["id"],
            "payment_intent_client_secret": intent["client_secret"],
            "redirect_status": "succeeded"
            if intent["status"] in ("succeeded", "requires_capture", "processing")
            else "failed",
        }
    )
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))
