"""A Celery worker keeps its database connection from task to task, as a web process does.

Celery's Django fix-up closes every connection before and after each task unless
`CELERY_DB_REUSE_MAX` is set: a payment event then paid for a new PostgreSQL session (a
forked server process, authentication, the session's settings) on top of its own work,
about a tenth of the worker's time (bench/run processing --profile). The settings set that
limit out of reach (config/settings/services.py), and these handlers apply Django's own
rules around each task instead, as its request signals do around a request: a connection
older than CONN_MAX_AGE, left in a transaction or broken by an error is closed, and the
next task's first query checks the connection's health (CONN_HEALTH_CHECKS) first.

A task run eagerly (inside a request or a test's transaction) is left alone: its caller's
connection is in use.
"""

from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def release_stale_connections(task=None, **kwargs):
    if task is not None and task.request.is_eager:
        return
    close_old_connections()
