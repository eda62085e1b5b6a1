"""Threshold rules (alarms.models.ThresholdRule) applied to each poll: a value beyond a rule's
threshold since a moment (RuleState) opens an alarm once it has lasted the rule's minutes, and the
alarm clears when the value is back. Like detection from codes, it is idempotent: a poll processed
twice changes nothing the second time."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from devices.messages import Message, define
from devices.models import Datalogger, Inverter
from devices.reading import PollResult
from devices.registermap import live_values

from .catalogue import RULE
from .models import Alarm, RuleState, ThresholdRule

CROSSED = define(
    "alarm.rule",
    gettext_lazy(
        "Rule “%(rule)s”: %(value)s %(unit)s for %(minutes)s min or more (threshold %(threshold)s %(unit)s)."
    ),
)


def rule_alarms_from_poll(items: Iterable[tuple[Datalogger, Inverter | None, PollResult]]) -> list[Alarm]:
    """Open and clear the rules' alarms from one batch of polls; returns the alarms it opened."""
    read = [(lg, inv, result) for lg, inv, result in items if inv is not None and result.ok]
    rules = _rules_of({lg.plant.company_id for lg, _inv, _r in read})
    if not rules:
        return []
    inverters = [inv.pk for _lg, inv, _r in read]
    states = {(s.rule_id, s.inverter_id): s for s in RuleState.objects.filter(inverter_id__in=inverters)}
    open_alarms = {
        (a.rule_id, a.inverter_id): a
        for a in Alarm.objects.filter(code_id=RULE, inverter_id__in=inverters, cleared_at__isnull=True)
    }
    opened = []
    for logger, inverter, result in read:
        live = live_values(result.values)
        for rule in rules.get(logger.plant.company_id, []):
            if not _applies(rule, logger.plant):
                continue
            key = (rule.pk, inverter.pk)
            crossed = rule.crossed(live)
            if crossed:
                state = states.get(key) or _remember(rule, inverter, result.at)
                if key not in open_alarms and (result.at - state.since).total_seconds() >= rule.minutes * 60:
                    alarm = _open(rule, logger, inverter, state, live)
                    if alarm is not None:
                        opened.append(alarm)
            elif crossed is False:
                RuleState.objects.filter(rule=rule, inverter=inverter).delete()
                if key in open_alarms:
                    Alarm.objects.filter(pk=open_alarms[key].pk, cleared_at__isnull=True).update(
                        cleared_at=result.at
                    )
    return opened


def _rules_of(company_ids: set[int]) -> dict[int, list[ThresholdRule]]:
    rules: dict[int, list[ThresholdRule]] = {}
    for rule in ThresholdRule.objects.filter(company_id__in=company_ids, enabled=True).prefetch_related(
        "plants"
    ):
        rule.plant_ids = {p.pk for p in rule.plants.all()}
        rules.setdefault(rule.company_id, []).append(rule)
    return rules


def _applies(rule: ThresholdRule, plant) -> bool:
    return (not rule.system_type or rule.system_type == plant.system_type) and (
        not rule.plant_ids or plant.pk in rule.plant_ids
    )


def _remember(rule: ThresholdRule, inverter: Inverter, at) -> RuleState:
    state, _created = RuleState.objects.get_or_create(rule=rule, inverter=inverter, defaults={"since": at})
    return state


def _open(rule, logger, inverter, state, live) -> Alarm | None:
    alarm = Alarm(
        plant_id=logger.plant_id,
        datalogger=logger,
        inverter=inverter,
        code_id=RULE,
        rule=rule,
        started_at=state.since,
        detail=Message(
            CROSSED,
            {
                "rule": rule.name,
                "value": live.get(rule.value),
                "unit": rule.unit,
                "minutes": rule.minutes,
                "threshold": rule.threshold,
            },
        ),
    )
    try:
        with transaction.atomic():
            alarm.save()
    except IntegrityError:
        return None  # another worker opened it first
    return alarm
