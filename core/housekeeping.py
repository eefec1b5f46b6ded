"""Periodic housekeeping that spans the apps: `manage.py cleanup` and the beat task.

Each app registers its job in its AppConfig.ready (`register`): expiring unpaid orders
(orders), purging idempotency keys (idempotency), pruning handled webhook events
(payments). A job is called as `job(now=..., dry_run=...)` and returns a report with
`lines()` and `counts()`; it prints nothing, the command and the task decide how to show
it. A dry run reads what a real run would touch and changes nothing (Stripe included).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.utils import timezone


class Report(Protocol):
    def lines(self) -> list[str]: ...

    def counts(self) -> dict: ...


@dataclass(frozen=True)
class Job:
    name: str  # the report's name on CleanupReport: report.orders, report.webhook_events
    run: Callable[..., Report]
    position: int  # jobs run, and report, in this order


_jobs: dict[str, Job] = {}


def register(name: str, run: Callable[..., Report], *, position: int) -> None:
    """Add a job to every cleanup run (idempotent: registering a name again replaces it)."""
    _jobs[name] = Job(name, run, position)


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.position)


@dataclass(frozen=True)
class PurgeReport:
    """Rows older than a cutoff, deleted (or, on a dry run, counted)."""

    what: str
    cutoff: datetime
    count: int
    dry_run: bool
    counted_as: str  # the key of `counts()`: "<counted_as>_deleted"

    def lines(self) -> list[str]:
        verb = "would be deleted" if self.dry_run else "deleted"
        return [f"{self.what} older than {self.cutoff.isoformat()}: {self.count} {verb}."]

    def counts(self) -> dict:
        return {f"{self.counted_as}_deleted": self.count}


@dataclass(frozen=True)
class CleanupReport:
    dry_run: bool
    reports: dict[str, Report] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Report:
        """Each job's report by the job's name: `report.orders`, `report.webhook_events`."""
        try:
            return self.__dict__["reports"][name]
        except KeyError:
            raise AttributeError(name) from None

    def lines(self) -> list[str]:
        header = ["Dry run: nothing is changed and Stripe is not called."] if self.dry_run else []
        return header + [line for report in self.reports.values() for line in report.lines()]

    def counts(self) -> dict:
        counts = {"dry_run": self.dry_run}
        for report in self.reports.values():
            counts.update(report.counts())
        return counts


def run_cleanup(
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> CleanupReport:
    """Every registered job, in order; `progress` is told as each starts and ends."""
    now = now or timezone.now()
    note = progress or (lambda line: None)
    reports = {}
    todo = jobs()
    for position, job in enumerate(todo, start=1):
        started = time.monotonic()
        note(f"[{position}/{len(todo)}] {job.name.replace('_', ' ')}...")
        reports[job.name] = job.run(now=now, dry_run=dry_run)
        counted = ", ".join(
            f"{n} {k.replace('_', ' ')}" for k, n in reports[job.name].counts().items()
        )
        note(
            f"[{position}/{len(todo)}] {job.name.replace('_', ' ')}: {counted or 'done'} "
            f"({time.monotonic() - started:.1f}s)"
        )
    return CleanupReport(dry_run=dry_run, reports=reports)
