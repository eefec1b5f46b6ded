"""Every shape of secret and personal datum that reached a log, an audit entry or the
admin unmasked before: e-mail variants, client secrets, keys glued to other text, tokens,
grouped card numbers, values nested deeper than the old limit, lists of dicts."""

import time

import pytest

from observability.redaction import redact

# Assembled at run time: no key-shaped literal in the source for secret scanners.
SK = "sk_" + "test_" + "51HxYz0123456789abcdefGHIJ"
RK = "rk_" + "live_" + "51HxYz0123456789abcdefGHIJ"
WHSEC = "whsec_" + "Zx81Jk2LmNoPqRsTuVwXyZ0123"
DRF_TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
URLSAFE_TOKEN = "tk1_Q2hY7-pLm0_xZ9aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("to Jane.Doe+orders@Mail.Example.CO.UK today", "Jane.Doe+orders"),
        ("to JANE.DOE@EXAMPLE.COM", "JANE.DOE"),
        ("x=_private.person@sub.mail.example.com", "_private.person"),
        ("to jörg.müller@example.de", "jörg.müller"),
        ("GET /lookup?email=jane.doe%40example.com", "jane.doe%40"),
        ("pay pi_3PqRsTuVwXyZ0123_secret_AbCdEfGhIjKl now", "AbCdEfGhIjKl"),
        ("setup seti_1Nabc0123_secret_QwErTyUiOp", "QwErTyUiOp"),
        ("embedded cs_test_a1B2c3D4_secret_fidwbEhqYWpv", "fidwbEhqYWpv"),
        ("config=" + SK, SK[8:]),
        ("prefix_" + SK + "_suffix", SK[8:]),
        ('{"key":"' + RK + '"}', RK[8:]),
        ("signing" + WHSEC, WHSEC[6:]),
        ("token=" + DRF_TOKEN, DRF_TOKEN),
        ("auth_token: " + URLSAFE_TOKEN, URLSAFE_TOKEN),
        ('"access_token": "' + URLSAFE_TOKEN + '"', URLSAFE_TOKEN),
        ("password=hunter2hunter2", "hunter2hunter2"),
        ("bare " + DRF_TOKEN + " in a message", DRF_TOKEN),
        ("card:4242424242424242.", "4242424242424242"),
        ("card 4242  4242  4242  4242 declined", "4242  4242"),
        ("amex 3782-822463-10005", "822463"),
        ("pan 5555 5555 5555 4444x", "5555 4444"),
    ],
)
def test_each_shape_is_masked(text, gone):
    assert gone not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "amount 99999999 at 1732452345 for order 42",
        "the token expired",
        "evt_1Nabc pi_3Nabc re_1Nabc ch_3Nabc",
        "order 1234 5678 9012 3456 lines",  # not a Luhn number: an id list stays readable
        "task_test_runner finished",
    ],
)
def test_ordinary_text_stays_readable(text):
    assert redact(text) == text


def test_values_under_secret_sounding_keys_are_masked_whatever_their_spelling():
    scrubbed = redact(
        {
            "apiKey": "plain",
            "stripeSecretKey": "plain",
            "X-Api-Key": "plain",
            "auth_token": URLSAFE_TOKEN,
            "key": URLSAFE_TOKEN,
            "user_password": "plain",
            "Proxy-Authorization": "plain",
            "idempotency_key": "order-7-attempt-1",
            "tokens_revoked": 3,
            "number": 2,
            "order": {"number": "SHOP-000123"},
        }
    )
    assert scrubbed == {
        "apiKey": "[redacted]",
        "stripeSecretKey": "[redacted]",
        "X-Api-Key": "[redacted]",
        "auth_token": "[redacted]",
        "key": "[redacted]",
        "user_password": "[redacted]",
        "Proxy-Authorization": "[redacted]",
        "idempotency_key": "order-7-attempt-1",
        "tokens_revoked": 3,
        "number": 2,  # an attempt's or an order's number stays readable
        "order": {"number": "SHOP-000123"},
    }


def test_a_value_at_any_depth_is_never_returned_unredacted():
    deep = {"email": "jane.doe@example.com", "note": "card 4242424242424242"}
    for level in range(200):
        deep = {"level": deep} if level % 2 else [deep]
    text = repr(redact(deep))
    assert "jane.doe@" not in text
    assert "4242424242424242" not in text


def test_lists_of_dicts_and_tuples_and_dict_keys_are_redacted():
    scrubbed = redact(
        {
            "charges": [
                {"billing_details": {"email": "payer@example.org"}},
                {"client_secret": "pi_1_secret_2", "receipt_email": "b@example.org"},
            ],
            "pair": ("x@example.org", SK),
            "jane@example.com": "keyed by address",
        }
    )
    text = repr(scrubbed)
    for leaked in ("payer@", "b@example", "x@example", SK, "jane@", "_secret_2"):
        assert leaked not in text


def test_self_referencing_structures_do_not_crash():
    loop: list = ["jane@example.com"]
    loop.append(loop)
    assert "jane@" not in repr(redact(loop))


@pytest.mark.parametrize(
    "hostile",
    [
        "_" * 50_000,
        "-" * 50_000,
        "pi_a_" * 10_000,
        "seti_" + "_" * 50_000,
        "x_token-" * 6_000,
        "a." * 25_000,
        "4 " * 25_000,
    ],
)
def test_redaction_stays_linear_on_hostile_text(hostile):
    # Every log line goes through it: a quadratic pattern would let one request stall a
    # worker for minutes (50 000 underscores took 280 s before the quantifiers were bounded).
    started = time.perf_counter()
    redact(hostile)
    assert time.perf_counter() - started < 2
