"""The shop pointed at an emulator process instead of the recording fake (tests/conftest.py's
`stripe_fake`): real HTTP through the SDK, no retries, so a test sees each answer once."""

from payments.gateway import client as stripe_client


def point_shop_at(settings, emulator, *, secret_key: str, webhook_secret: str, **more) -> None:
    settings.STRIPE_API_BASE = emulator.url
    settings.STRIPE_SECRET_KEY = secret_key
    settings.STRIPE_WEBHOOK_SECRETS = [webhook_secret]
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    for name, value in more.items():
        setattr(settings, name, value)
    stripe_client.use_http_client(None)  # the SDK's own HTTP client, not the fake's
