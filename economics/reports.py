"""The customer's monthly report as PDF (WeasyPrint): the month's production, consumption and
self-sufficiency as the dashboard shows them (the same `energy_bars`), what the energy was worth
(the savings page's `money_by_day`), the incidents and what the installer wrote to the customer.
Rendered in the reader's language; the chart is inline SVG, nothing is fetched."""

from datetime import date, datetime, time, timedelta

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from alarms.models import Alarm, AlarmNote
from energy.reports import energy_bars
from plants.models import Plant

from .money import money_by_day, total

CHART_WIDTH, CHART_HEIGHT = 480, 120


def month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


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
