"""Polling: read a batch of dataloggers (devices.reading), then store what was read
(devices.storing); which loggers are due, in batches; the commissioning's connection test."""

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.metrics import polls_observed

from .messages import Message
from .models import Datalogger, Reach
from .reading import REMOVED, PollResult, read_loggers
from .storing import store_results


def history_slot(moment: datetime) -> datetime:
    """The start of the history slot `moment` falls in (5 minutes by default)."""
    minutes = settings.HISTORY_RESOLUTION_MINUTES
    floored = moment.replace(second=0, microsecond=0)
    return floored - timedelta(minutes=floored.minute % minutes)


def poll_loggers(
    logger_ids: Iterable[int], *, cycle_at: datetime | None = None, force_info: bool = False
) -> list[PollResult]:
    """Poll these loggers once, store what was read, and update their alarms. Returns the results."""
    loggers = list(
        Datalogger.objects.active()
        .filter(id__in=logger_ids)
        .select_related("plant")
        .prefetch_related("inverters__live")
    )
    if not loggers:
        return []
    now = timezone.now()
    need_info = {
        lg.id: force_info or lg.identity_due(now, identified=bool(lg.inverters.all())) for lg in loggers
    }
    results = asyncio.run(read_loggers(loggers, need_info))
    store_results(loggers, results, slot=history_slot(cycle_at or now))
    polls_observed(results)
    return results


def due_logger_ids() -> list[int]:
    """Every active logger the portal can reach (called in, or with an address), in a stable order."""
    loggers = Datalogger.objects.active().filter(Q(reach=Reach.HUB) | ~Q(host=""))
    return list(loggers.order_by("id").values_list("id", flat=True))


def batches(ids: Sequence[int], size: int) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def datalogger_test_connection(logger: Datalogger) -> PollResult:
    """Read the logger now, identity included, and store it like a poll: the commissioning check."""
    (result,) = poll_loggers([logger.id], force_info=True) or [PollResult(logger.id, error=Message(REMOVED))]
    logger.refresh_from_db()
    return result
