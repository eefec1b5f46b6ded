"""The emulator's API: who may call it (keys, loopback, the control API's origin checks)."""

import json
import socket
from pathlib import Path

import pytest
import stripe

from tests.stripe_emulator.helpers import (
    CARD,
    http,
    intent,
)


# --- authentication ------------------------------------------------------------------------
def test_a_request_without_a_key_is_refused_like_stripe(emulator):
    status, _, body = http("GET", f"{emulator.url}/v1/customers")
    assert status == 401
    assert set(json.loads(body)["error"]) >= {"type", "message"}


@pytest.mark.parametrize("key", ["sk_live_abcdef", "rk_live_abcdef", "nonsense"])
def test_live_and_unknown_keys_are_refused(emulator, key):
    with pytest.raises(stripe.AuthenticationError):
        emulator.client(key).v1.customers.list()


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses a TCP socket listens on for `port`, from the kernel's table."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_it_listens_on_loopback_only(emulator):
    assert listening_addresses(emulator.port) == {"127.0.0.1"}
    # And from another of this machine's addresses, when it has one, nothing answers.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # picks the outward interface; sends nothing
            address = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    if not address.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((address, emulator.port), timeout=1).close()


# --- the control API cannot be reached from a web page --------------------------------------
def control_post(emulator, path, headers):
    return http("POST", f"{emulator.url}/_emulator{path}", b"{}", headers)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused_everywhere(emulator, host):
    # DNS rebinding: a page on evil.example resolves its name to 127.0.0.1.
    json_body = {"Content-Type": "application/json", "Host": host}
    assert control_post(emulator, "/reset", json_body)[0] == 400
    assert (
        http("GET", f"{emulator.url}/_emulator/webhook_endpoints", None, {"Host": host})[0] == 400
    )
    assert http("GET", f"{emulator.url}/v1/customers", None, {"Host": host})[0] == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST:1234"])
def test_loopback_host_names_are_served(emulator, host):
    status, _, _ = control_post(
        emulator, "/reset", {"Content-Type": "application/json", "Host": host}
    )
    assert status == 200


def test_a_cross_site_origin_is_refused(emulator, client):
    customer = client.v1.customers.create(params={"email": "kept@example.com"})
    status, _, _ = control_post(
        emulator,
        "/reset",
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
    )
    assert status == 403
    assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"  # not reset
    own = control_post(
        emulator, "/reset", {"Content-Type": "application/json", "Origin": emulator.url}
    )
    assert own[0] == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_control_post_a_browser_form_could_send_is_refused(emulator, client, content_type):
    customer = client.v1.customers.create(params={"email": "kept@example.com"})
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, _ = control_post(emulator, "/reset", headers)
    assert status == 415
    assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"


def test_a_control_post_with_the_custom_header_needs_no_json_type(emulator):
    status, _, _ = http("POST", f"{emulator.url}/_emulator/reset", b"", {"X-Emulator-Control": "1"})
    assert status == 200


def test_the_control_api_grants_no_cross_origin_preflight(emulator):
    _, headers, _ = http(
        "OPTIONS",
        f"{emulator.url}/_emulator/reset",
        None,
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in headers
    # Stripe's own API stays open to pages, as Stripe.js needs.
    _, api_headers, _ = http(
        "OPTIONS",
        f"{emulator.url}/v1/payment_intents",
        None,
        {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert api_headers.get("Access-Control-Allow-Origin") == "*"


def test_expand_with_empty_brackets_as_stripe_js_sends_it(emulator, client):
    pi = intent(client, payment_method=CARD, confirm=True)
    status, _, body = http(
        "GET",
        f"{emulator.url}/v1/payment_intents/{pi.id}?expand[]=latest_charge",
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    assert status == 200
    assert json.loads(body)["latest_charge"]["object"] == "charge"
