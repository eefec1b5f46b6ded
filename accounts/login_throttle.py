"""Failed logins, counted per account and per client address, for every way in.

The admin login page and `POST auth/token/` (and anything else that calls Django's
`authenticate`) share the same counters: a failure is counted from Django's
`user_login_failed` signal (accounts.signals), so no way in can become a password oracle
for an account the other one has locked. Past either limit (RATE_LIMITS["login_failures"]:
per account, default 5 in 15 minutes; per address, default 20 in 15 minutes) the account
or address is refused with 429 until the window has passed, even with the right password,
and the password is not even checked. A successful login does not reset the count.

The account is keyed by the e-mail address as typed, lower-cased: unknown addresses count
too, so the answer does not reveal which accounts exist.
"""

from django.conf import settings

from api.ratelimits import client_key, seconds_until_reset, usage
from core.errors import RateLimited

GROUP = "login_failures"


class TooManyFailedLogins(RateLimited):
    code = "too_many_failed_logins"
    message = "Too many failed login attempts. Try again later."


def account_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _keys(email: str) -> dict:
    account = account_key(email)
    return {"ip": client_key, "account": lambda group, request: account}


def seconds_refused(request, email: str) -> int | None:
    """Seconds until this account and address may try again, or None when they may now."""
    keys = _keys(email)
    waits = []
    for name, rate in settings.RATE_LIMITS[GROUP].items():
        found = usage(request, group=GROUP, name=name, key=keys[name], rate=rate, increment=False)
        if found is None:  # cache unreachable: logged and counted by `usage`
            return None
        if found["count"] >= found["limit"]:
            waits.append(seconds_until_reset(found))
    return max(waits) if waits else None


def check(request, email: str) -> None:
    """Raise TooManyFailedLogins (429, Retry-After) when this login must not be tried."""
    wait = seconds_refused(request, email)
    if wait is not None:
        raise TooManyFailedLogins(
            retry_after=wait,
            audit={
                "action": "auth.login_refused",
                "actor_label": "login",
                "details": {"reason": "too_many_failed_logins"},
            },
        )


def record_failure(request, email: str) -> None:
    keys = _keys(email)
    for name, rate in settings.RATE_LIMITS[GROUP].items():
        if (
            usage(request, group=GROUP, name=name, key=keys[name], rate=rate, increment=True)
            is None
        ):
            return
