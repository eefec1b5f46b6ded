"""redact_text skips its patterns for text none of them can match, and only for that text:
on any string the answer is the one every pattern applied in turn gives."""

import random

import pytest

from observability import redaction

# Text each pattern masks, and near misses.
EXAMPLES = [
    "pi_3Qabc_secret_XYZ",
    "seti_1abc_secret_x",
    "cs_test_a1_secret_b2",
    "src_9_secret_9",
    "pi_xx" + "secret" + "yy",
    "sk_" + "test_" + "abc123",
    "rk_" + "live_" + "x" * 24,
    "sk_" + "A" * 20,
    "ek_" + "test_1",
    "whsec_" + "abc",
    "Bearer abcdefgh1",
    "token 12345678abc",
    "Basic dXNlcjpwYXNz1",
    "password=hunter2",
    '"api_key": "k1"',
    "sessionid=abc",
    "a" * 40,
    "0123456789abcdef" * 3,
    "4242 4242 4242 4242",
    "4242424242424242",
    "3782-822463-10005",
    "jane.doe@example.com",
    "jane.doe%40example.com",
    "POST /api/v1/webhooks/stripe/ 200",
    "2026-11-30T09:03:43.207721Z",
    "5c371035da0e400f98b7a605d93b9241",
    "127.0.0.1",
    "shop.request",
    "info",
    "",
    "\u0663\u0664\u0665\u0666",  # digits of another script
    "TOKEN=Xy",
    "SECRET",
]
PIECES = [
    "a",
    "Z",
    "_",
    "-",
    " ",
    "=",
    ":",
    '"',
    "'",
    "@",
    "%40",
    ".",
    "/",
    "1",
    "42",
    "4242",
    "0000",
    "sk_",
    "rk_",
    "ek_",
    "pi_",
    "cs_",
    "whsec_",
    "secret",
    "Secret",
    "token",
    "bearer ",
    "basic ",
    "passw",
    "pwd",
    "api_key",
    "apikey",
    "sessionid",
    "csrftoken",
    "deadbeef",
    "test_",
    "live_",
    "example.com",
    "\u0663",
]


def _every_pattern(text: str) -> str:
    for pattern, replacement in redaction._PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize("text", EXAMPLES)
def test_known_secrets_and_plain_text_are_redacted_as_by_every_pattern(text):
    assert redaction.redact_text(text) == _every_pattern(text)


def test_random_text_is_redacted_as_by_every_pattern():
    rng = random.Random(20261130)
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        assert redaction.redact_text(text) == _every_pattern(text), text


def test_plain_text_skips_the_patterns():
    for text in ("info", "shop.request", "POST /api/v1/webhooks/stripe/ 200", "127.0.0.1"):
        assert redaction.could_hold_a_secret(text) is False
    for text in EXAMPLES[:23]:
        assert redaction.could_hold_a_secret(text) is True, text


def test_a_text_seen_before_is_redacted_the_same_way_again():
    for text in EXAMPLES * 2:
        assert redaction.redact_text(text) == _every_pattern(text)
    keys = {"password": "x", "level": "info", "auth_token": "abc", "tokens_revoked": 3}
    for _ in range(2):
        assert redaction.redact(keys) == {
            "password": redaction.REDACTED,
            "level": "info",
            "auth_token": redaction.REDACTED,
            "tokens_revoked": 3,
        }


def test_nothing_that_could_hold_a_secret_is_remembered():
    for text in EXAMPLES:
        redaction.redact_text(text)
        redaction.redact({text: "value"})
    remembered = set(redaction._clean_texts) | set(redaction._known_names)
    assert not any(redaction.could_hold_a_secret(text) for text in remembered)
    assert "info" in redaction._clean_texts
