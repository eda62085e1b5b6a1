"""/metrics for Prometheus (the official client library's text format), behind a token or an
allow-list: the counters and histograms core.metrics keeps in Redis, and what is true now (loggers
by status, hub connections, alarms open by kind, queue lengths, the alarm e-mail outbox), read at
scrape time."""

import ipaddress

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.crypto import constant_time_compare
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from alarms.models import Alarm
from alarms.services import alarms_pending_notification
from core.edge import client_address
from core.metrics import POLL_BUCKETS, POLL_SECONDS, POLLS, REQUEST_BUCKETS, REQUEST_SECONDS
from core.redisconn import redis_client
from devices.hubstate import hub_status
from devices.models import Datalogger


def _histogram(name, documentation, key, buckets):
    values = {k.decode(): float(v) for k, v in redis_client().hgetall(key).items()}
    rows = [(str(bound), values.get(str(bound), 0)) for bound in buckets]
    rows.append(("+Inf", values.get("+Inf", 0)))
    return HistogramMetricFamily(name, documentation, buckets=rows, sum_value=values.get("sum", 0))


class PortalCollector:
    """Everything /metrics says, read when it is scraped."""

    def collect(self):
        polls = CounterMetricFamily("aura_polls", "Logger polls by outcome.", labels=["outcome"])
        for outcome, count in redis_client().hgetall(POLLS).items():
            polls.add_metric([outcome.decode()], float(count))
        yield polls
        yield _histogram("aura_poll_seconds", "Time to poll one logger.", POLL_SECONDS, POLL_BUCKETS)
        yield _histogram(
            "aura_request_seconds", "Time to answer one web request.", REQUEST_SECONDS, REQUEST_BUCKETS
        )
        loggers = GaugeMetricFamily("aura_loggers", "Active dataloggers by status.", labels=["status"])
        for row in Datalogger.objects.active().values("status").annotate(n=Count("pk")).order_by():
            loggers.add_metric([row["status"]], row["n"])
        yield loggers
        hub = hub_status()
        yield GaugeMetricFamily("aura_hub_up", "Whether a logger hub beats.", value=int(hub["up"]))
        yield GaugeMetricFamily("aura_hubs", "Logger hubs beating.", value=hub["hubs"])
        yield GaugeMetricFamily("aura_hub_sticks", "Sticks connected to the hubs.", value=hub["sticks"])
        alarms = GaugeMetricFamily("aura_alarms_open", "Open alarms by kind.", labels=["kind"])
        for kind, count in Alarm.objects.active_counts().items():
            alarms.add_metric([kind], count)
        yield alarms
        queue = GaugeMetricFamily("aura_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"])
        queue.add_metric(["celery"], redis_client().llen("celery"))
        yield queue
        yield GaugeMetricFamily(
            "aura_alarm_outbox", "Alarm e-mails not sent yet.", value=len(alarms_pending_notification())
        )


def _allowed(request):
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and constant_time_compare(given, token):
        return True
    address = client_address(request)
    try:
        return any(ipaddress.ip_address(address) in net for net in settings.METRICS_ALLOWED_NETWORKS)
    except ValueError:
        return False


def metrics(request):
    if not _allowed(request):
        return HttpResponseForbidden("metrics: a token or an allowed address is needed\n")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
