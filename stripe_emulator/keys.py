"""Placeholder API keys for the emulator, the test suites, `make run`, bench/ and faults/.

They must look like Stripe's (dj-stripe refuses a key that is not `sk_test_` followed by 24+
letters and digits), and the emulator accepts any test key. They are built at run time so
that no key-shaped literal sits in the source for secret scanners to mistake for a real one.
"""

MODE = "test"  # never live: the project refuses a live key together with STRIPE_API_BASE


def placeholder_key(kind: str, label: str) -> str:
    """`kind` is sk, pk or rk; `label` (letters and digits) says who uses it."""
    if kind not in ("sk", "pk", "rk") or not label.isalnum():
        raise ValueError("kind is sk, pk or rk; label is letters and digits")
    return f"{kind}_{MODE}_{(label + '0' * 32)[:32]}"


if __name__ == "__main__":  # scripts/run-dev: python -m stripe_emulator.keys sk Label
    import sys

    print(placeholder_key(sys.argv[1], sys.argv[2]))
