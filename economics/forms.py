"""The tariff form of a plant and the Tempo calendar's entry and CSV import."""

import csv
import io
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from energy.forms import FIRST_DAY, ISO_DAY, LAST_DAY, day_in_range

from .models import Tariff, TempoColour

# The colours as RTE and EDF write them, in French and English.
COLOUR_NAMES = {
    "bleu": TempoColour.BLUE, "blue": TempoColour.BLUE,
    "blanc": TempoColour.WHITE, "white": TempoColour.WHITE,
    "rouge": TempoColour.RED, "red": TempoColour.RED,
}  # fmt: skip
# A Tempo season is 365 days; a file of ten seasons is more than anyone imports at once.
MAX_IMPORT_LINES = 4000
MAX_IMPORT_BYTES = 128 * 1024


class TariffForm(forms.ModelForm):
    class Meta:
        model = Tariff
        fields = [
            "valid_from",
            "kind",
            "base_price",
            "off_peak_hours",
            "peak_price",
            "off_peak_price",
            "blue_peak_price",
            "blue_off_peak_price",
            "white_peak_price",
            "white_off_peak_price",
            "red_peak_price",
            "red_off_peak_price",
            "feed_in",
            "feed_in_price",
            "billing_day",
        ]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, plant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.plant = plant
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):  # 0,2516 as a French bill writes it
                field.localize = True
                field.widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
                field.widget.is_localized = True

    def clean_valid_from(self):
        day = day_in_range(self.cleaned_data["valid_from"])
        if (
            Tariff.objects.filter(plant=self.instance.plant, valid_from=day)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError(_("This plant already has a tariff from that day: delete it first."))
        return day


class TempoDayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), input_formats=ISO_DAY, widget=forms.DateInput(attrs={"type": "date"})
    )
    colour = forms.ChoiceField(label=_("Colour"), choices=TempoColour.choices)

    def clean_day(self):
        return day_in_range(self.cleaned_data["day"])


class TempoImportForm(forms.Form):
    """A CSV of days and colours, one a line: `2026-12-07;bleu` (or a comma; a header line and blank
    lines are skipped; colours in French or English). Every line must be right or nothing is kept."""

    file = forms.FileField(
        label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"})
    )

    def clean_file(self) -> dict[date, str]:
        text = _text_of(self.cleaned_data["file"])
        days, errors = {}, []
        # Semicolons (a French spreadsheet's CSV) read as commas: no cell holds either.
        for number, cells in enumerate(csv.reader(io.StringIO(text.replace(";", ","))), start=1):
            cells = [cell.strip() for cell in cells if cell.strip()]
            if not cells:
                continue
            day, colour = _tempo_line(cells)
            if colour is not None:
                days[day] = colour
            elif not (number == 1 and day is None):  # a header line is skipped
                errors.append(number)
        if errors:
            shown = ", ".join(map(str, errors[:10])) + ("…" if len(errors) > 10 else "")
            raise forms.ValidationError(
                _("Lines %(lines)s are not a day (YYYY-MM-DD) and a colour (bleu, blanc, rouge).")
                % {"lines": shown}
                + " "
                + _("Nothing was imported.")
            )
        if not days:
            raise forms.ValidationError(_("The file holds no day."))
        return days


def _text_of(upload) -> str:
    if upload.size > MAX_IMPORT_BYTES:
        raise forms.ValidationError(_("The file is larger than 128 kB."))
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
    if "\x00" in text:
        raise forms.ValidationError(_("The file holds a NUL character: it is not a CSV."))
    if text.count("\n") >= MAX_IMPORT_LINES:
        raise forms.ValidationError(_("More than %(count)s lines.") % {"count": MAX_IMPORT_LINES})
    return text


def _tempo_line(cells: list[str]) -> tuple[date | None, str | None]:
    try:
        day = date.fromisoformat(cells[0])
    except ValueError:
        return None, None
    if not FIRST_DAY <= day <= LAST_DAY or len(cells) != 2:
        return day, None
    return day, COLOUR_NAMES.get(cells[1].lower())
