"""`manage.py recount_energy`: the days counted before an upgrade get the half-hour split from their
5-minute history, with the same totals."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone

from devices.models import Reading
from energy.accounting import daily_energy_compute
from energy.models import DailyEnergy

from .factories import InverterFactory

PARIS = ZoneInfo("Europe/Paris")


def test_days_counted_before_the_split_are_counted_again_with_it(plant):
    inverter = InverterFactory(datalogger__plant=plant)
    day = timezone.localdate() - timedelta(days=2)
    noon = datetime.combine(day, datetime.min.time(), tzinfo=PARIS) + timedelta(hours=12)
    for i, kwh in enumerate(["1.0", "2.0", "4.0"]):
        Reading.objects.create(
            inverter=inverter, slot=noon + i * timedelta(minutes=30), pv_energy_today=Decimal(kwh)
        )
    daily_energy_compute(plants=[plant], day=day)
    DailyEnergy.objects.update(half_hours=None, tally=None)  # as a row counted before the split
    out = StringIO()
    call_command("recount_energy", "--since", str(day - timedelta(days=400)), stdout=out)
    row = DailyEnergy.objects.get(plant=plant, day=day)
    assert row.production_wh == 4000
    assert row.half_hours["production_wh"][24:26] == [2000, 2000]
    assert "daily rows counted again" in out.getvalue()
