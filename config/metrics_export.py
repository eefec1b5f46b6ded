"""`GET /metrics`: Prometheus text format, for a scraper holding `METRICS_TOKEN`.

Counters come from the shared store (config.metrics); gauges are read from the database
and the cache at scrape time, so every process answers the same numbers. With no
`METRICS_TOKEN` configured the endpoint does not exist (404); a wrong token is a 403.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from config import metrics

# The classic text format generate_latest writes (what every Prometheus version scrapes).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _counters():
    for name, (documentation, label_names) in metrics.COUNTERS.items():
        family = CounterMetricFamily(
            f"{metrics.PREFIX}_{name}", documentation, labels=list(label_names)
        )
        for labels, value in sorted(metrics.read_counter(name).items()):
            family.add_metric(list(labels), value)
        yield family


def _histograms():
    for name, (documentation, _) in metrics.HISTOGRAMS.items():
        buckets, total = metrics.read_histogram(name)
        yield HistogramMetricFamily(
            f"{metrics.PREFIX}_{name}", documentation, buckets=buckets, sum_value=total
        )


def _gauges():
    from django.db.models import Count, Min

    from config import alerts
    from payments import breaker
    from payments.models import DISPUTE_CLOSED, Dispute, ReconciliationMismatch, WebhookEvent

    by_status = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())
    events = GaugeMetricFamily(
        f"{metrics.PREFIX}_webhook_events", "Inbox events by status, now", labels=["status"]
    )
    for status in WebhookEvent.Status.values:
        events.add_metric([status], by_status.get(status, 0))
    yield events

    oldest = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).aggregate(
        at=Min("received_at")
    )["at"]
    yield GaugeMetricFamily(
        f"{metrics.PREFIX}_webhook_oldest_received_age_seconds",
        "Age of the oldest event still waiting to be processed (0 when none)",
        value=(timezone.now() - oldest).total_seconds() if oldest else 0,
    )
    yield GaugeMetricFamily(
        f"{metrics.PREFIX}_stripe_circuit_breaker_open",
        "1 while the Stripe circuit breaker is open (calls fail fast), else 0",
        value=1 if breaker.is_open() else 0,
    )
    yield GaugeMetricFamily(
        f"{metrics.PREFIX}_disputes_open",
        "Disputes not closed yet",
        value=Dispute.objects.exclude(status__in=DISPUTE_CLOSED).count(),
    )
    yield GaugeMetricFamily(
        f"{metrics.PREFIX}_reconciliation_mismatches_open",
        "Differences with Stripe found by reconcile and not resolved yet",
        value=ReconciliationMismatch.objects.filter(resolved_at__isnull=True).count(),
    )
    firing = GaugeMetricFamily(
        f"{metrics.PREFIX}_alert_firing", "1 while an alert condition holds", labels=["alert"]
    )
    for name, is_firing in alerts.firing_states().items():
        firing.add_metric([name], 1 if is_firing else 0)
    yield firing


class ShopCollector:
    def collect(self):
        yield from _counters()
        yield from _histograms()
        yield from _gauges()


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ShopCollector())
    return generate_latest(registry)


def _token_matches(request, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected.encode())


@require_GET
def metrics_view(request):
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are not enabled.")
    if not _token_matches(request, expected):
        return HttpResponseForbidden("Forbidden.", content_type="text/plain")
    return HttpResponse(render(), content_type=CONTENT_TYPE)
