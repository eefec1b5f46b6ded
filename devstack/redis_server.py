"""A private `redis-server` on a loopback port: keeps nothing on disk, can be stopped."""

from devstack.ports import free_port, port_open
from devstack.process import Process


class RedisServer(Process):
    """`redis-server` on `port` (a free one by default), no persistence.

    `stop()` and `start()` again give an empty Redis on the same port, as a restart of a
    Redis that keeps nothing would.
    """

    name = "redis"

    def __init__(self, port: int | None = None, **options):
        self.port = port or free_port()
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        super().__init__([*argv, "--save", "", "--appendonly", "no"], **options)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ready(self) -> bool:
        return port_open(self.port)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def queued_messages(self, queue: str) -> int:
        """Messages waiting in a Celery queue (kombu keeps one list a priority: `queue*`);
        -1 when Redis does not answer."""
        import redis

        client = self.client()
        try:
            names = client.keys(f"{queue}*")
            return sum(client.llen(name) for name in names if client.type(name) == b"list")
        except redis.RedisError:
            return -1
        finally:
            client.close()

    def flushall(self) -> None:
        client = self.client()
        try:
            client.flushall()
        finally:
            client.close()
