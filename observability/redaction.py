"""Scrubbing secrets and personal data out of anything we write down or show staff.

One function, `redact`, is applied to every log line (observability.logging), every Sentry event
(observability.sentry), every audit entry's details (audit.services.record) and the webhook
payloads the admin shows, so a key, a client secret, a token, a full e-mail address or a
card number can only ever reach those places masked. It works on strings and on nested
dicts/lists/tuples at any depth (past MAX_DEPTH a value is replaced by a marker, never
returned as it was); dict values under a key that names a secret are replaced whole,
whatever they look like, and dict keys are redacted like any other text.
"""

import re

REDACTED = "[redacted]"
TOO_DEEP = "[redacted: nested too deep]"
# JSON bodies are refused past 64 levels; anything deeper is not worth reading.
MAX_DEPTH = 100

# Values of these keys are secrets whatever their shape (headers, form fields, settings).
SECRET_KEYS = {
    "authorization",
    "http_authorization",
    "proxy_authorization",
    "cookie",
    "cookies",
    "http_cookie",
    "set_cookie",
    "x_api_key",
    "stripe_signature",
    "http_stripe_signature",
    "password",
    "password1",
    "password2",
    "secret",
    "client_secret",
    "api_key",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "csrfmiddlewaretoken",
    "sessionid",
    "csrftoken",
    "secret_key",
    "stripe_secret_key",
    "stripe_mirror_key",
    "stripe_webhook_secrets",
    "webhook_secret",
    "metrics_token",
    "sentry_dsn",
    "card_number",
    "cvc",
    "cvv",
}
# Key names that hold a secret when they merely contain one of these words (auth_token,
# user_password, private_key, ...); numbers and booleans under them stay (tokens_revoked: 3).
_SECRET_WORDS = re.compile(
    r"token|secret|passw|passphrase|authoriz|cookie|signature|credential|private_key|"
    r"api_key|apikey|access_key|session_key|sessionid|csrf|card_number|cvc|cvv|dsn"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _key_name(key: str) -> str:
    """`X-Api-Key`, `apiKey`, `api key` → `x_api_key`, `api_key`, `api_key`."""
    return re.sub(r"[\s-]+", "_", _CAMEL.sub("_", key.strip())).lower()


def _is_secret_key(key, value) -> bool:
    if not isinstance(key, str) or value in (None, "", b"", [], {}):
        return False
    named = _known_names.get(key)
    if named is None:
        name = _key_name(key)
        named = (name in SECRET_KEYS, bool(_SECRET_WORDS.search(name)))
        _remember(_known_names, key, named)
    listed, worded = named
    return listed or (worded and not isinstance(value, bool | int | float))


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char)
        if position % 2:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


# Card numbers: 13 to 19 digits, contiguous or grouped (4-4-4-4[-3], 4-6-5, 4-6-4) with
# spaces or dashes; masked only when the Luhn check passes, so ids and amounts stay.
_CARD = re.compile(
    r"(?<!\d)(?:\d{13,19}|\d{4}(?:[ -]+\d{4}){2,3}(?:[ -]+\d{1,3})?|\d{4}[ -]+\d{6}[ -]+\d{4,5})"
    r"(?!\d)"
)


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn_valid(digits):
        return "[card redacted]"
    return match.group(0)


# Every pattern below runs on every log line: each quantifier that could rescan a long run
# of word characters from many starting points is bounded (no quadratic blow-up on hostile
# input such as 50 000 underscores).
_NOT_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_PATTERNS: list[tuple[re.Pattern, object]] = [
    # Client secrets: PaymentIntent, SetupIntent, embedded Checkout Session, Source.
    (
        re.compile(
            _NOT_ALNUM_BEFORE + r"(pi|seti|cs|src)_(?:test_|live_)?[A-Za-z0-9]+_secret_[A-Za-z0-9]+"
        ),
        r"\1_[redacted]",
    ),
    (re.compile(_NOT_ALNUM_BEFORE + r"(pi|seti)_\w{0,200}?secret\w{0,200}"), r"\1_[redacted]"),
    # Stripe secret, restricted and ephemeral keys, glued to other text or not.
    (re.compile(_NOT_ALNUM_BEFORE + r"(sk|rk|ek)_(?:test|live)_\w+"), r"\1_[redacted]"),
    (re.compile(_NOT_ALNUM_BEFORE + r"(sk|rk)_[A-Za-z0-9]{16,}\w*"), r"\1_[redacted]"),
    # Webhook signing secrets: distinctive enough to mask anywhere.
    (re.compile(r"whsec_\w+"), "whsec_[redacted]"),
    # Authorization header values: "Bearer x", "Token x", "Basic x".
    # (a credential has a digit somewhere: "token expired" stays readable)
    (
        re.compile(
            r"(?i)\b(bearer|token|basic)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"
        ),
        r"\1\2[redacted]",
    ),
    # name=value / "name": "value" where the name says secret (token=, auth_token:, ...).
    (
        re.compile(
            r"(?i)(?<![\w-])([\w-]{0,40}?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|"
            r"sessionid|csrftoken))(\"?'?\s*[:=]\s*\"?'?)(?!\[)[^\s\"'&,;<>]+"
        ),
        r"\1\2[redacted]",
    ),
    # DRF-style API tokens: 40 hexadecimal characters standing alone.
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{40}(?![0-9A-Za-z])"), "[token redacted]"),
    (_CARD, _mask_card),
    # E-mail addresses (any letters, plus tags, subdomains, any case) keep their first
    # character and domain: s***@example.com; URL-encoded ones too (s***%40example.com).
    (
        re.compile(r"(?<![\w.%+'-])([\w])[\w.%+'-]*@((?:[\w-]+\.)+[\w-]+)"),
        r"\1***@\2",
    ),
    (
        re.compile(r"(?<![\w.%+-])([\w])[\w.+-]*%40((?:[\w-]+\.)+[\w-]+)"),
        r"\1***%40\2",
    ),
]


# Something every pattern above needs to match: the words of the client-secret, key, token
# and name=value patterns (case aside), `sk_`/`rk_`/`ek_`, `whsec_`, 40 hexadecimal digits,
# four digits in a row (every card pattern starts so), `@` or `%40`. Text with none of them
# (most of a log line: its level, logger, path, address) cannot change, and skips them.
_COULD_MATCH = re.compile(
    r"(?i:secret|token|bearer|basic|passw|pwd|api[_-]?key|sessionid|csrftoken)"
    r"|[sre]k_|whsec_|[0-9a-f]{40}|\d{4}|@|%40"
)


def could_hold_a_secret(text: str) -> bool:
    return _COULD_MATCH.search(text) is not None


# Short texts found clean, and what key names say, remembered per process: a log line's keys
# and most of its values (level, logger, method, path, route) repeat on every line. Only
# text that cannot hold a secret is kept; each memo is emptied when it reaches its size.
_MEMO_SIZE, _MEMO_TEXT = 4096, 256
_clean_texts: dict[str, bool] = {}
_known_names: dict[str, tuple[bool, bool]] = {}


def _remember(memo: dict, text: str, value) -> None:
    if len(text) > _MEMO_TEXT or could_hold_a_secret(text):
        return
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[text] = value


def redact_text(text: str) -> str:
    if text in _clean_texts:
        return text
    if not could_hold_a_secret(text):
        _remember(_clean_texts, text, True)
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value, _depth: int = 0):
    """A copy of `value` with secrets and personal data masked (strings, dicts, lists)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", errors="replace"))
    if isinstance(value, dict | list | tuple | set | frozenset) and _depth >= MAX_DEPTH:
        # Self-referencing or absurdly deep: a marker, never the value as it was.
        return TOO_DEEP
    if isinstance(value, dict):
        return {
            (redact_text(key) if isinstance(key, str) else key): (
                REDACTED if _is_secret_key(key, item) else redact(item, _depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact(item, _depth + 1) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value
