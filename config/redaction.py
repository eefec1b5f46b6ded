"""Scrubbing secrets and personal data out of anything we write down.

One function, `redact`, is applied to every log line (config.logging), every Sentry event
(config.sentry) and every audit entry's details (audit.services.record), so a key, a
client secret, a token, a full e-mail address or a card number can only ever reach those
places masked. It works on strings and on nested dicts/lists/tuples; dict values under a
key that names a secret are replaced whole, whatever they look like.
"""

import re

REDACTED = "[redacted]"

# Values of these keys are secrets whatever their shape (headers, form fields, settings).
SECRET_KEYS = {
    "authorization",
    "http_authorization",
    "proxy-authorization",
    "cookie",
    "cookies",
    "http_cookie",
    "set-cookie",
    "x-api-key",
    "stripe-signature",
    "http_stripe_signature",
    "password",
    "password1",
    "password2",
    "secret",
    "client_secret",
    "api_key",
    "token",
    "access_token",
    "refresh_token",
    "csrfmiddlewaretoken",
    "sessionid",
    "csrftoken",
    "secret_key",
    "stripe_secret_key",
    "stripe_webhook_secrets",
    "webhook_secret",
    "metrics_token",
    "sentry_dsn",
    "card_number",
    "cvc",
    "cvv",
}

_PATTERNS: list[tuple[re.Pattern, str]] = [
    # Stripe secret and restricted keys, with or without the test/live marker.
    (re.compile(r"\b(sk|rk)_(?:test|live)_\w+"), r"\1_[redacted]"),
    (re.compile(r"\b(sk|rk)_[A-Za-z0-9]{16,}\w*"), r"\1_[redacted]"),
    # Webhook signing secrets.
    (re.compile(r"\bwhsec_\w+"), "whsec_[redacted]"),
    # PaymentIntent / SetupIntent client secrets (pi_123_secret_456) and any pi_..secret..
    (re.compile(r"\b(pi|seti)_\w*secret\w*"), r"\1_[redacted]"),
    # Authorization header values: "Bearer x", "Token x", "Basic x".
    # (a credential has a digit somewhere: "token expired" stays readable)
    (
        re.compile(
            r"(?i)\b(bearer|token|basic)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"
        ),
        r"\1\2[redacted]",
    ),
    # Card numbers: 13 to 19 digits, possibly grouped with spaces or dashes.
    (re.compile(r"(?<![\w.])(?:\d[ -]?){12,18}\d(?![\w.])"), "[card redacted]"),
    # E-mail addresses keep their first character and domain: s***@example.com.
    (
        re.compile(
            r"(?<![\w.%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
        ),
        r"\1***@\2",
    ),
]


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value, _depth: int = 0):
    """A copy of `value` with secrets and personal data masked (strings, dicts, lists)."""
    if _depth > 20:  # self-referencing or absurdly deep structures: stop, do not crash
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", errors="replace"))
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if isinstance(key, str)
                and key.lower() in SECRET_KEYS
                and value[key] not in (None, "")
                else redact(value[key], _depth + 1)
            )
            for key in value
        }
    if isinstance(value, list | tuple):
        items = [redact(item, _depth + 1) for item in value]
        return tuple(items) if type(value) is tuple else items
    return value
