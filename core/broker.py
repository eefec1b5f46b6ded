"""kombu's Redis transport, with one redis-py client per channel for publishing.

kombu's `Channel.conn_or_acquire()` builds a new `redis.Redis` for every message it
publishes; with redis-py 8 that constructor (its response-callback table) costs about as
much CPU as the LPUSH itself: ~0.3 ms of the ~0.7 ms a webhook delivery spends queueing
its task (profiled in bench/). The client is kept per channel and per connection pool
(a new pool after a reconnect gets a new client); it is thread-safe (each command borrows
a connection from the pool), as the clients it replaces were.
Selected by CELERY_BROKER_TRANSPORT when the broker is Redis (config/settings/services.py).
"""

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _publish_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        cached = self._publish_client
        if cached is None or cached.connection_pool is not self.pool:
            cached = self._publish_client = self._create_client()
        yield cached


class Transport(redis.Transport):
    Channel = Channel
