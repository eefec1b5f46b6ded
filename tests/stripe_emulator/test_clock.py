"""The emulator's clock: a test lets days pass in a second, and Stripe's timestamps follow."""


def test_advancing_the_clock_moves_the_timestamps_stripe_returns(emulator, client):
    before = client.v1.customers.create(params={"email": "a@example.com"})
    status, body = emulator.control("POST", "/clock/advance", {"seconds": 3 * 86400})
    assert status == 200 and body["offset_seconds"] == 3 * 86400
    after = client.v1.customers.create(params={"email": "b@example.com"})
    assert 3 * 86400 <= after.created - before.created < 3 * 86400 + 60
    assert emulator.control("GET", "/clock")[1]["now"] >= after.created


def test_the_clock_only_moves_forward_and_a_reset_brings_back_the_wall_clock(emulator):
    assert emulator.control("POST", "/clock/advance", {"seconds": -1})[0] == 400
    assert emulator.control("POST", "/clock/advance", {"seconds": "1"})[0] == 400
    assert emulator.control("POST", "/clock/advance", {"seconds": 60})[0] == 200
    emulator.control("POST", "/reset")
    assert emulator.control("GET", "/clock")[1]["offset_seconds"] == 0
