"""`GET /metrics`: Prometheus text format, for a scraper holding `METRICS_TOKEN`.

Counters come from the shared store (observability.metrics); gauges are read from the
database and the cache at scrape time, so every process answers the same numbers. Each app
registers its gauges (`register_gauge`, from its AppConfig.ready); this module adds one per
alert condition (firing or not). With no `METRICS_TOKEN` configured the endpoint does not
exist (404); a wrong token is a 403.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from observability import alerts, metrics

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


@dataclass(frozen=True)
class Gauge:
    """A number read at scrape time (`read()`): a float, or {label value: float} by `label`."""

    name: str  # exported as shop_<name>
    documentation: str
    read: Callable[[], float | dict[str, float]]
    label: str | None = None


GAUGES: dict[str, Gauge] = {}


def register_gauge(
    name: str,
    documentation: str,
    read: Callable[[], float | dict[str, float]],
    *,
    label: str | None = None,
) -> None:
    """Export `read()` at every scrape (the owning app calls this in AppConfig.ready)."""
    GAUGES[name] = Gauge(name, documentation, read, label)


def _gauge_family(gauge: Gauge) -> GaugeMetricFamily:
    name = f"{metrics.PREFIX}_{gauge.name}"
    if gauge.label is None:
        return GaugeMetricFamily(name, gauge.documentation, value=gauge.read())
    family = GaugeMetricFamily(name, gauge.documentation, labels=[gauge.label])
    for label_value, value in gauge.read().items():
        family.add_metric([label_value], value)
    return family


def _gauges():
    for gauge in GAUGES.values():
        yield _gauge_family(gauge)
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
