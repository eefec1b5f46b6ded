"""Real threads against the real database: each thread has its own connection."""

import threading

from django.db import connections


def run_in_threads(functions, timeout=30):
    """Start every function at once (behind a barrier); return their results in order."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = []

    def runner(index, function):
        try:
            barrier.wait(timeout=timeout)
            results[index] = function()
        except Exception as exc:  # surfaced to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results
