"""The customer's monthly report: a PDF that opens (pdftoppm) with the month's figures of the
dashboard and the savings page; e-mailed on the 1st to the customers who asked for it, once, in
their language, for the plants granted to them."""

import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import User
from alarms.models import Alarm
from core import units
from devices.models import Datalogger, FirmwareNote
from economics.models import Tariff
from economics.money import money_by_day, total
from economics.reports import fleet_report_pdf, monthly_report_pdf
from economics.services import monthly_reports_send
from energy.models import MonthlyEnergy
from energy.reports import energy_bars
from plants.models import PlantGrant

from .conftest import login, make_plant, make_user
from .test_savings import counted_days  # noqa: F401 (the fixture)

PARIS = ZoneInfo("Europe/Paris")
DECEMBER = date(2026, 12, 1)
AFTER_DECEMBER = datetime(2027, 1, 1, 6, tzinfo=PARIS)


def pdf_text(pdf, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True
    )
    assert (tmp_path / "page-1.png").stat().st_size > 1000  # the page renders
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.replace("\u00a0", " ").split())  # pdftotext gives no-break spaces as spaces


@pytest.fixture
def report_plant(counted_days, customer, installer):  # noqa: F811
    Tariff.objects.create(plant=counted_days, valid_from=DECEMBER, base_price=Decimal("0.2516"))
    PlantGrant.objects.create(
        plant=counted_days, customer=customer, granted_by=installer, accepted_at=AFTER_DECEMBER
    )
    return counted_days


def test_the_pdf_has_the_dashboards_figures_for_the_month(report_plant, customer, tmp_path):
    with time_machine.travel(AFTER_DECEMBER, tick=False):
        text = pdf_text(
            monthly_report_pdf(plant=report_plant, month=DECEMBER, user=customer, language="fr"), tmp_path
        )
        dashboard = energy_bars(report_plant, "month", DECEMBER)["totals"]  # the dashboard's month
    savings = total(money_by_day(report_plant, DECEMBER, date(2026, 12, 31)))  # the savings page's
    assert dashboard["production_wh"] == 12_000
    assert f"Production {units.energy(dashboard['production_wh'])}".replace("\u00a0", " ") in text  # 12,0 kWh
    assert f"Consommation {units.energy(dashboard['consumption_wh'])}".replace("\u00a0", " ") in text
    assert units.euros(savings.not_bought) == "4,03\u00a0€" and "achetée 4,03 €" in text  # 2 × 8.0 × 0.2516
    assert "décembre 2026" in text


def test_the_reports_go_on_the_first_to_who_asked_once_in_their_language(report_plant, customer, installer):
    User.objects.filter(pk=customer.pk).update(monthly_report=True, language="en")
    quiet = make_user("silencieux", User.Role.CUSTOMER)  # granted too, but did not ask
    PlantGrant.objects.create(
        plant=report_plant, customer=quiet, granted_by=installer, accepted_at=AFTER_DECEMBER
    )
    with time_machine.travel(AFTER_DECEMBER, tick=False):
        assert monthly_reports_send() == 1
        assert monthly_reports_send() == 0  # the beat ran twice: sent once
    (message,) = mail.outbox
    assert message.to == [customer.email] and "December 2026" in message.subject
    (name, content, kind) = message.attachments[0]
    assert kind == "application/pdf" and content.startswith(b"%PDF") and name.endswith(".pdf")


def test_the_report_is_downloaded_by_who_sees_the_plant(report_plant, customer, stranger, installer):
    url = reverse("economics:monthly_report", args=[report_plant.pk, "2026-12"])
    response = login(installer).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert login(stranger).get(url).status_code == 404
    assert (
        login(installer)
        .get(reverse("economics:monthly_report", args=[report_plant.pk, "2026-13"]))
        .status_code
        == 404
    )


def fleet_plant(company, name, *, kwp=6, production_kwh=600, with_data=8000, expected=8000):
    plant = make_plant(company, name=name, pv_power_kwp=kwp)
    MonthlyEnergy.objects.create(
        plant=plant, company=company, month=date(2026, 11, 1), production_wh=production_kwh * 1000,
        slots_with_data=with_data, slots_expected=expected,
    )  # fmt: skip
    return plant


def test_the_fleet_report_says_what_to_look_at(company, other_company, installer, tmp_path):
    fleet_plant(company, "Toujours là")
    fleet_plant(company, "Souvent muette", with_data=4000)  # 50 % of its slots
    fleet_plant(company, "Bien moins que les autres", production_kwh=200)  # 33 kWh/kWp, median 100
    ombre = fleet_plant(company, "Onduleur ancien")
    fleet_plant(other_company, "Chez un autre installateur", with_data=1)
    logger = Datalogger.objects.create(plant=ombre, serial_number="2401000999", host="127.0.0.1")
    inverter = logger.inverters.create(serial_number="KSOLD", firmware_arm="1.2.3", firmware_dsp="2.0.7")
    FirmwareNote.objects.create(firmware_arm="1.2.3", firmware_dsp="2.0.7", text="Relance du BMS à prévoir")
    started = datetime(2026, 11, 10, 8, tzinfo=PARIS)
    Alarm.objects.create(plant=ombre, datalogger=logger, inverter=inverter, code_id="F13", started_at=started,
                         cleared_at=started + timedelta(hours=3, minutes=20))  # fmt: skip
    Alarm.objects.create(plant=ombre, datalogger=logger, inverter=inverter, code_id="P07", started_at=started)
    with time_machine.travel(datetime(2026, 12, 1, 7, tzinfo=PARIS), tick=False):
        text = pdf_text(fleet_report_pdf(user=installer, month=date(2026, 11, 1), language="fr"), tmp_path)
    assert "Souvent muette 50 %" in text and "Chez un autre" not in text
    assert "Bien moins que les autres 33,3 kWh/kWc" in text  # 200 kWh / 6 kWc; the median is 100
    assert "2 alarmes levées, 1 encore ouverte" in text and "3 h 20 min" in text
    assert "P07" in text and "Relance du BMS à prévoir" in text
    assert "la ligne en pointillés est la médiane" in text  # the yields' chart


def test_the_fleet_report_goes_to_installers_who_asked(company, installer, colleague):
    User.objects.filter(pk=installer.pk).update(monthly_report=True)
    fleet_plant(company, "Toujours là")
    with time_machine.travel(datetime(2026, 12, 1, 7, tzinfo=PARIS), tick=False):
        assert monthly_reports_send() == 1 and monthly_reports_send() == 0
    (message,) = mail.outbox
    assert message.to == [installer.email] and "novembre 2026" in message.subject
    assert message.attachments[0][1].startswith(b"%PDF")
    page = login(installer).get(reverse("economics:fleet_report", args=["2026-11"]))
    assert page.status_code == 200 and page["Content-Type"] == "application/pdf"
