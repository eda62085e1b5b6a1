"""The date parameters of charts, JSON and CSV exports, validated once for pages and the API: a bad
date is a 400 with its reason, never a 500."""

import calendar
from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
# A year of 5-minute readings, and a little more: the longest range one export reads.
MAX_RANGE_DAYS = 400
ISO_DAY = ["%Y-%m-%d"]


def day_in_range(day):
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(_("Give a date between 2000 and 2099."))
    return day


class DayForm(forms.Form):
    """One local day of the plant (today when not given): the day's power curves."""

    date = forms.DateField(label=_("Day"), required=False, input_formats=ISO_DAY)

    def clean_date(self):
        day = self.cleaned_data["date"]
        return None if day is None else day_in_range(day)


class PeriodForm(forms.Form):
    """Energy bars: the days of a month (date=YYYY-MM), the months of a year (date=YYYY), or every
    year (period=total)."""

    PERIODS = {"month": _("Month"), "year": _("Year"), "total": _("All years")}

    period = forms.ChoiceField(label=_("Period"), choices=list(PERIODS.items()), required=False)
    date = forms.CharField(label=_("Date"), required=False, max_length=7)

    def clean(self):
        data = super().clean()
        if "period" in self.errors:
            return data
        period = data["period"] = data.get("period") or "month"
        text = data.get("date") or ""
        if period == "total":
            return data
        try:
            if period == "month":
                year, month = (int(part) for part in text.split("-")) if text else (None, None)
                start = date(year, month, 1) if text else None
            else:
                start = date(int(text), 1, 1) if text else None
        except (ValueError, TypeError):
            example = "2026-06" if period == "month" else "2026"
            raise forms.ValidationError(
                {"date": _("Give the date as %(example)s.") % {"example": example}}
            ) from None
        if start is not None:
            day_in_range(start)
        data["start"] = start
        return data


def period_bounds(period, start):
    """First day, last day, and the previous and next anchors of a month or a year."""
    if period == "month":
        last = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        previous = (start - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
        return start, last, f"{previous:%Y-%m}", f"{following:%Y-%m}"
    last = date(start.year, 12, 31)
    return start, last, str(start.year - 1), str(start.year + 1)


class RangeForm(forms.Form):
    """A range of local days, both included, for exports."""

    start = forms.DateField(
        label=_("From"), input_formats=ISO_DAY, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), input_formats=ISO_DAY, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        day_in_range(start)
        day_in_range(end)
        if end < start:
            raise forms.ValidationError({"end": _("The end is before the start.")})
        if (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(
                {"end": _("At most %(days)s days at once.") % {"days": MAX_RANGE_DAYS}}
            )
        return data
