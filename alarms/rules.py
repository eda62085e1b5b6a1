"""Threshold rules (alarms.models.ThresholdRule) applied to each poll: a value beyond a rule's
threshold since a moment (RuleState) opens an alarm once it has lasted the rule's minutes, and the
alarm clears when the value is back. The portal's own check of the PV strings (P02) works the same
way. Like detection from codes, it is idempotent: a poll processed twice changes nothing the second
time."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from devices.messages import Message, define
from devices.models import Datalogger, Inverter
from devices.reading import PollResult
from devices.registermap import live_values

from .catalogue import RULE, STRING_LOW
from .models import Alarm, RuleState, ThresholdRule

CROSSED = define(
    "alarm.rule",
    gettext_lazy(
        "Rule “%(rule)s”: %(value)s %(unit)s for %(minutes)s min or more (threshold %(threshold)s %(unit)s)."
    ),
)


STRING_HELD_MINUTES = 60
STRING_MIN_VOLTS = 50  # below, the string is taken as not wired (a one-string plant)
STRING_SUN_SHARE = 0.1  # of the plant's kWp: below, too little sun to compare the strings
STRING_LOW_SHARE = 0.1  # one string under a tenth of the other

STRING_DETAIL = define(
    "alarm.string_low",
    gettext_lazy("PV1 %(pv1)s W at %(v1)s V, PV2 %(pv2)s W at %(v2)s V, for %(minutes)s min or more."),
)


def string_low(live, kwp) -> bool | None:
    """Whether one PV string gives under a tenth of the other in good sun; None when it cannot be
    said (night, clouds, a string not wired).

    UNVERIFIED: that both MPPT inputs of an AURA carry comparable strings. A plant designed with
    very unequal strings would need this check off (a company's per-code delay of a day, or a rule)."""
    p1, p2, v1, v2 = (live.get(k) for k in ("pv1_power", "pv2_power", "pv1_voltage", "pv2_voltage"))
    if None in (p1, p2, v1, v2) or min(v1, v2) < STRING_MIN_VOLTS:
        return None
    if p1 + p2 < float(kwp) * 1000 * STRING_SUN_SHARE:
        return None
    return min(p1, p2) < STRING_LOW_SHARE * max(p1, p2)


def rule_alarms_from_poll(items: Iterable[tuple[Datalogger, Inverter | None, PollResult]]) -> list[Alarm]:
    """Open and clear the rules' and the built-in checks' alarms from one batch of polls; returns
    the alarms it opened."""
    read = [(lg, inv, result) for lg, inv, result in items if inv is not None and result.ok]
    if not read:
        return []
    rules = _rules_of({lg.plant.company_id for lg, _inv, _r in read})
    inverters = [inv.pk for _lg, inv, _r in read]
    states = {
        (s.rule_id or s.builtin, s.inverter_id): s
        for s in RuleState.objects.filter(inverter_id__in=inverters)
    }
    open_alarms = {
        (a.rule_id or a.code_id, a.inverter_id): a
        for a in Alarm.objects.filter(
            code_id__in=[RULE, STRING_LOW], inverter_id__in=inverters, cleared_at__isnull=True
        )
    }
    opened = []
    for logger, inverter, result in read:
        live = live_values(result.values)
        opened.append(_string_check(logger, inverter, result, live, states, open_alarms))
        for rule in rules.get(logger.plant.company_id, []):
            if _applies(rule, logger.plant):
                opened.append(_rule_check(rule, logger, inverter, result, live, states, open_alarms))
    return [alarm for alarm in opened if alarm is not None]


def _rule_check(rule, logger, inverter, result, live, states, open_alarms) -> Alarm | None:
    key = (rule.pk, inverter.pk)
    crossed = rule.crossed(live)
    if crossed:
        state = states.get(key) or _remember(rule, inverter, result.at)
        if key not in open_alarms and (result.at - state.since).total_seconds() >= rule.minutes * 60:
            return _open(rule, logger, inverter, state, live)
    elif crossed is False:
        _forget(states, key)
        if key in open_alarms:
            Alarm.objects.filter(pk=open_alarms[key].pk).clear(result.at)
    return None


def _string_check(logger, inverter, result, live, states, open_alarms) -> Alarm | None:
    key = (STRING_LOW, inverter.pk)
    low = string_low(live, logger.plant.pv_power_kwp)
    if not low:
        _forget(states, key)
        if low is False and key in open_alarms:
            Alarm.objects.filter(pk=open_alarms[key].pk).clear(result.at)
        return None
    state = (
        states.get(key)
        or RuleState.objects.get_or_create(
            rule=None, builtin=STRING_LOW, inverter=inverter, defaults={"since": result.at}
        )[0]
    )
    if key in open_alarms or (result.at - state.since).total_seconds() < STRING_HELD_MINUTES * 60:
        return None
    params = {
        "pv1": live["pv1_power"],
        "pv2": live["pv2_power"],
        "v1": live["pv1_voltage"],
        "v2": live["pv2_voltage"],
        "minutes": STRING_HELD_MINUTES,
    }
    return _save(
        Alarm(
            plant_id=logger.plant_id,
            datalogger=logger,
            inverter=inverter,
            code_id=STRING_LOW,
            started_at=state.since,
            detail=Message(STRING_DETAIL, params),
        )
    )


def _forget(states: dict, key) -> None:
    """The condition is over: its state goes, if it had one (loaded with the batch: the normal poll,
    nothing crossed, costs no query)."""
    if (state := states.pop(key, None)) is not None:
        RuleState.objects.filter(pk=state.pk).delete()


def _rules_of(company_ids: set[int]) -> dict[int, list[ThresholdRule]]:
    rules: dict[int, list[ThresholdRule]] = {}
    for rule in ThresholdRule.objects.filter(company_id__in=company_ids, enabled=True).prefetch_related(
        "plants"
    ):
        rule.plant_ids = {p.pk for p in rule.plants.all()}
        rules.setdefault(rule.company_id, []).append(rule)
    return rules


def _applies(rule: ThresholdRule, plant) -> bool:
    return (
        (not rule.system_type or rule.system_type == plant.system_type)
        and (not rule.tag or rule.tag in plant.tags)
        and (not rule.plant_ids or plant.pk in rule.plant_ids)
    )


def _remember(rule: ThresholdRule, inverter: Inverter, at) -> RuleState:
    state, _created = RuleState.objects.get_or_create(rule=rule, inverter=inverter, defaults={"since": at})
    return state


def _open(rule, logger, inverter, state, live) -> Alarm | None:
    return _save(
        Alarm(
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
    )


def _save(alarm: Alarm) -> Alarm | None:
    try:
        with transaction.atomic():
            alarm.save()
    except IntegrityError:
        return None  # another worker opened it first
    return alarm
