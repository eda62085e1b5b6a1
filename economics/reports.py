"""The monthly reports as PDF: the customer's of one plant, the installer's of the fleet.

The customer's monthly report (WeasyPrint): the month's production, consumption and
self-sufficiency as the dashboard shows them (the same `energy_bars`), what the energy was worth
(the savings page's `money_by_day`), the incidents and what the installer wrote to the customer.
Rendered in the reader's language; the chart is inline SVG, nothing is fetched."""

from datetime import date, datetime, time, timedelta

from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from alarms.models import Alarm, AlarmNote
from devices.models import FirmwareNote, Inverter
from energy.accounting import other_production_wh
from energy.models import WH_FIELDS, MonthlyEnergy
from energy.reports import completeness_pct, energy_bars
from plants.models import Plant

from .money import money_by_day, total

CHART_WIDTH, CHART_HEIGHT = 480, 120


def month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_report_context(*, plant: Plant, month: date, user) -> dict:
    """What the report shows of `month` (its first day) to `user`, who may see the plant."""
    since = plant.history_since_for(user)
    last = month_end(month)
    bars = energy_bars(plant, "month", month, since=since)
    money = total(money_by_day(plant, month, last, since=since))
    start = datetime.combine(month, time(), tzinfo=plant.tzinfo)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=plant.tzinfo)
    alarms = Alarm.objects.filter(plant=plant, started_at__lt=end).exclude(cleared_at__lt=start)
    if since is not None:
        alarms = alarms.filter(started_at__gte=since)
    notes = (
        AlarmNote.objects.restrict(user)
        .filter(alarm__plant=plant, at__gte=max(start, since or start), at__lt=end)
        .select_related("by", "alarm__code")
        .order_by("at")
    )
    return {
        "plant": plant,
        "month": month,
        "totals": bars["totals"],
        "chart": _chart(bars["bars"]),
        "money": money,
        "incidents": alarms.count(),
        "faults": alarms.filter(code__kind="fault").count(),
        "notes": notes,
    }


def _chart(bars: list[dict]) -> dict:
    """Each day's production and consumption as bars scaled to the chart (kWh at the top)."""
    top = max((max(b["production_wh"], b["consumption_wh"]) for b in bars), default=0) or 1
    step = CHART_WIDTH / 31
    days = []
    for i, bar in enumerate(bars):
        production = round(bar["production_wh"] / top * CHART_HEIGHT, 1)
        consumption = round(bar["consumption_wh"] / top * CHART_HEIGHT, 1)
        days.append(
            {
                "x": round(i * step, 1),
                "consumption_x": round(i * step + step / 2, 1),
                "production": production,
                "production_y": round(CHART_HEIGHT - production, 1),
                "consumption": consumption,
                "consumption_y": round(CHART_HEIGHT - consumption, 1),
            }
        )
    bar = round(step / 2 - 1, 1)
    return {"days": days, "width": CHART_WIDTH, "height": CHART_HEIGHT, "bar": bar, "top_wh": top}


def monthly_report_pdf(*, plant: Plant, month: date, user, language: str) -> bytes:
    with translation.override(language):
        html = render_to_string(
            "economics/monthly_report.html", monthly_report_context(plant=plant, month=month, user=user)
        )
    # Only inline data: the report never fetches a file or an address.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()


LISTED = 15  # rows per table of the fleet report: the worst first
LOW_YIELD_SHARE = 0.7  # under 70 % of the fleet's median kWh/kWp: worth a look
BATTERY_CODES = ("P07", "P08")  # state of health under the warranty level, or falling fast


def fleet_report_context(*, user, month: date) -> dict:
    """The month of the plants `user` sees (an installer's company): availability, yield against
    the fleet's median, incidents and their time to resolve, batteries and firmware to look at."""
    plants = list(
        Plant.objects.restrict(user, "view").filter(archived_at__isnull=True).select_related("company")
    )
    energy = {row.plant_id: row for row in MonthlyEnergy.objects.filter(plant__in=plants, month=month)}
    rows = []
    for plant in plants:
        row = energy.get(plant.pk)
        availability = completeness_pct(row.slots_with_data, row.slots_expected) if row else None
        kwp = float(plant.pv_power_kwp or 0)
        # An AC-coupled retrofit's existing PV counts, derived from the balance as on its dashboard.
        produced = row.production_wh + (other_production_wh(plant, _wh(row)) or 0) if row else 0
        yield_ = round(produced / 1000 / kwp, 1) if row and kwp else None
        rows.append({"plant": plant, "availability": availability, "yield": yield_})
    yields = sorted(r["yield"] for r in rows if r["yield"] is not None)
    median = yields[len(yields) // 2] if yields else None
    start = datetime.combine(month, time(), tzinfo=timezone.get_current_timezone())
    end = datetime.combine(
        month_end(month) + timedelta(days=1), time(), tzinfo=timezone.get_current_timezone()
    )
    alarms = Alarm.objects.filter(plant__in=plants, started_at__gte=start, started_at__lt=end).select_related(
        "plant", "code"
    )
    cleared = sorted((a.cleared_at - a.started_at for a in alarms if a.cleared_at is not None), reverse=True)
    firmware_notes = {(n.firmware_arm, n.firmware_dsp): n.text for n in FirmwareNote.objects.all()}
    firmware = [
        {**row, "note": firmware_notes[row["firmware_arm"], row["firmware_dsp"]]}
        for row in Inverter.objects.filter(datalogger__plant__in=plants).firmware_inventory()
        if (row["firmware_arm"], row["firmware_dsp"]) in firmware_notes
    ]
    return {
        "month": month,
        "company": user.company,
        "yield_chart": _yield_chart(yields, median),
        "plants": len(plants),
        "least_available": sorted(
            (r for r in rows if r["availability"] is not None and r["availability"] < 100),
            key=lambda r: r["availability"],
        )[:LISTED],
        "median_yield": median,
        "low_yield": sorted(
            (r for r in rows if median and r["yield"] is not None and r["yield"] < LOW_YIELD_SHARE * median),
            key=lambda r: r["yield"],
        )[:LISTED],
        "alarms": len(alarms),
        "open_alarms": sum(1 for a in alarms if a.cleared_at is None),
        "median_resolution": cleared[len(cleared) // 2] if cleared else None,
        "longest": [
            {"alarm": a, "took": a.cleared_at - a.started_at}
            for a in sorted((a for a in alarms if a.cleared_at), key=lambda a: a.started_at - a.cleared_at)
        ][:LISTED],
        "batteries": Alarm.objects.filter(plant__in=plants, code_id__in=BATTERY_CODES)
        .filter(started_at__lt=end)
        .exclude(cleared_at__lt=start)
        .select_related("plant", "code")
        .order_by("plant__name")[:LISTED],
        "firmware": firmware,
    }


def _wh(row) -> dict:
    return {field: getattr(row, field) for field in WH_FIELDS}


def _yield_chart(yields: list[float], median: float | None) -> dict:
    """Each plant's yield of the month (kWh/kWp), lowest first, as bars, and the median as a line."""
    top = max(yields, default=0) or 1
    step = CHART_WIDTH / max(len(yields), 1)
    bars = [
        {
            "x": round(i * step, 1),
            "y": round(CHART_HEIGHT - y / top * CHART_HEIGHT, 1),
            "height": round(y / top * CHART_HEIGHT, 1),
        }
        for i, y in enumerate(yields)
    ]
    median_y = None if median is None else round(CHART_HEIGHT - median / top * CHART_HEIGHT, 1)
    bar = min(max(round(step - 1, 1), 0.5), 24)
    return {
        "bars": bars,
        "bar": bar,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "median_y": median_y,
        "top": top,
    }


def fleet_report_pdf(*, user, month: date, language: str) -> bytes:
    with translation.override(language):
        html = render_to_string("economics/fleet_report.html", fleet_report_context(user=user, month=month))
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf()
