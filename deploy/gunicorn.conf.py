"""gunicorn's settings for the shop (`gunicorn --config deploy/gunicorn.conf.py ...`).

Read from the environment, so the systemd unit, the container and `scripts/deploy-smoke`
run one command line and differ only in their environment (docs/deploy.md):

- GUNICORN_BIND: where to listen (default the Unix socket nginx proxies to);
- GUNICORN_WORKERS: worker processes (default 2 x CPU cores: the benchmarks found no gain
  beyond that, and each worker keeps one database connection);
- GUNICORN_THREADS: threads per worker (default 1; more makes them gthread workers, for
  serving without a buffering proxy in front);
- GUNICORN_TIMEOUT: seconds a request may take before its worker is replaced (default 30:
  the longest a request waits on Stripe is STRIPE_CONNECT_TIMEOUT + STRIPE_READ_TIMEOUT).

GUNICORN_CMD_ARGS (gunicorn's own variable) still overrides anything here.
"""

import multiprocessing
import os

bind = [os.environ.get("GUNICORN_BIND", "unix:/run/shop/gunicorn.sock")]
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = "sync"  # nginx buffers requests and responses: slow clients never hold a worker
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# The socket is reachable by its group only (nginx's group, through /run/shop's mode).
umask = 0o007
# Peers whose X-Forwarded-Proto gunicorn believes: the shop's own TRUSTED_PROXIES (the
# Unix socket is always trusted by gunicorn; the word "unix" is the shop's, not gunicorn's).
forwarded_allow_ips = (
    ",".join(
        entry.strip()
        for entry in os.environ.get("TRUSTED_PROXIES", "127.0.0.1").split(",")
        if entry.strip() and entry.strip().lower() != "unix"
    )
    or "127.0.0.1"
)
# Logs on stderr (journald, docker logs); the shop's own request log is JSON already.
accesslog = None
errorlog = "-"
# A worker is replaced after this many requests (with jitter), bounding slow leaks.
max_requests = 2000
max_requests_jitter = 200
