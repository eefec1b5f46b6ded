"""`/v1/test_helpers/test_clocks`: Stripe's test clock operations, in its API reference order
(stripe_emulator/test_clocks.py has what they do)."""

from stripe.params import test_helpers as sp_test_helpers

from stripe_emulator.api import list_page, render, route
from stripe_emulator.test_clocks import get_clock

PATH = "/v1/test_helpers/test_clocks"


@route("POST", PATH, sp_test_helpers.TestClockCreateParams)
def create_test_clock(emulator, *, params, ctx):
    return render(emulator, emulator.test_clocks.create(params, ctx), params)


@route("GET", PATH + "/{id}", sp_test_helpers.TestClockRetrieveParams)
def retrieve_test_clock(emulator, clock_id, *, params, ctx):
    return render(emulator, get_clock(emulator.store, clock_id), params)


@route("GET", PATH, sp_test_helpers.TestClockListParams)
def list_test_clocks(emulator, *, params, ctx):
    return list_page(emulator, "test_helpers.test_clock", params, PATH)


@route("DELETE", PATH + "/{id}", sp_test_helpers.TestClockDeleteParams)
def delete_test_clock(emulator, clock_id, *, params, ctx):
    return emulator.test_clocks.delete(get_clock(emulator.store, clock_id), ctx)


@route("POST", PATH + "/{id}/advance", sp_test_helpers.TestClockAdvanceParams)
def advance_test_clock(emulator, clock_id, *, params, ctx):
    clock = get_clock(emulator.store, clock_id)
    return render(emulator, emulator.test_clocks.advance(clock, params, ctx), params)
