"""Checks Stripe makes on a request's values after their types are known (validation.py
checks the types): e-mail addresses, parameters that exclude each other, and the
`return_url` a server-side confirm needs when the payment may redirect. Each raises the
400 Stripe answers with, before anything is created or changed.
"""

import re

from stripe_emulator.errors import invalid

# One address: no spaces, one @, a local part and a domain with a dot and no empty label.
_EMAIL = re.compile(r"[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]+\Z")

RETURN_URL_NEEDED = (
    "A `return_url` must be specified because this Payment Intent is configured to "
    "automatically accept the payment methods enabled in the Dashboard, some of which may "
    "require a full page redirect to succeed. If you do not want to accept redirect-based "
    "payment methods, set `automatic_payment_methods[enabled]` to `true` and "
    "`automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents "
    "and Payment Intents."
)


def check_email(params: dict, param: str) -> None:
    """`param` holds an e-mail address, or nothing (an empty string unsets it)."""
    value = params.get(param)
    if value and not _EMAIL.match(value):
        raise invalid(f"Invalid email address: {value}", code="email_invalid", param=param)


def check_exclusive(params: dict, first: str, *others: str) -> None:
    for other in others:
        if first in params and other in params:
            raise invalid(
                f"You may only specify one of these parameters: {first}, {other}.",
                code="parameters_exclusive",
                param=first,
            )


def automatic_payment_methods(params: dict) -> dict | None:
    """A new PaymentIntent's `automatic_payment_methods`: at this API version they are on
    unless `payment_method_types` names the methods."""
    given = params.get("automatic_payment_methods")
    if given is None:
        if params.get("payment_method_types"):
            return None
        return {"enabled": True, "allow_redirects": "always"}
    if not given.get("enabled"):
        return None
    return {"enabled": True, "allow_redirects": given.get("allow_redirects", "always")}


def check_return_url(automatic: dict | None, return_url: str | None, ctx) -> None:
    """A server confirming a PaymentIntent that may redirect must say where to come back."""
    if ctx.client_side or return_url:
        return
    if automatic and automatic.get("enabled") and automatic.get("allow_redirects") != "never":
        raise invalid(RETURN_URL_NEEDED)
