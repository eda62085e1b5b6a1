"""The Tempo calendar: the distributor enters a day or imports a CSV (the portal runs without
internet); a wrong file is refused whole with its lines; installers and customers only read it."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from economics.models import TempoDay

from .conftest import login, text

URL = reverse("economics:tempo")


def upload(content, name="tempo.csv"):
    return {"import": "1", "import-file": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_the_distributor_imports_a_french_spreadsheets_csv(admin_user):
    csv = "Date;Couleur\r\n2026-12-14;BLEU\r\n2026-12-15;rouge\r\n\r\n2026-12-16;Blanc\r\n".encode(
        "utf-8-sig"
    )
    response = login(admin_user).post(URL, upload(csv))
    assert response.status_code == 302
    assert dict(TempoDay.objects.values_list("day", "colour")) == {
        date(2026, 12, 14): "blue",
        date(2026, 12, 15): "red",
        date(2026, 12, 16): "white",
    }


def test_an_import_replaces_a_days_colour(admin_user):
    TempoDay.objects.create(day=date(2026, 12, 15), colour="blue")
    login(admin_user).post(URL, upload(b"2026-12-15,red\n"))
    assert TempoDay.objects.get().colour == "red"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"2026-12-14;bleu\n2026-13-01;rouge\n2026-12-16;violet\n", "Les lignes 2, 3 ne sont pas"),
        (b"2026-12-14;bleu\x00\n", "caractère NUL"),
        ("2026-12-14;bleu\n".encode("utf-16"), "pas du texte UTF-8"),
        (b"Date;Couleur\n", "ne contient aucun jour"),
        (b"2026-12-14;bleu\n" * 5000, "Plus de 4000 lignes"),
        (b"x" * 200_000, "plus de 128 ko"),
    ],
    ids=["bad lines", "NUL", "UTF-16", "header only", "too many lines", "too large"],
)
def test_a_wrong_file_is_refused_whole_with_its_reason(admin_user, content, message):
    response = login(admin_user).post(URL, upload(content))
    assert response.status_code == 400
    assert message in text(response)
    assert not TempoDay.objects.exists()


def test_the_distributor_enters_one_day(admin_user):
    today = timezone.localdate()
    response = login(admin_user).post(URL, {"day-day": today.isoformat(), "day-colour": "white"})
    assert response.status_code == 302
    page = text(login(admin_user).get(URL))
    assert f'data-day="{today.isoformat()}"' in page and "Blanc" in page


def test_installers_and_customers_read_the_calendar_and_change_nothing(installer, customer):
    yesterday = timezone.localdate() - timedelta(days=1)
    TempoDay.objects.create(day=yesterday, colour="red")
    for user in (installer, customer):
        client = login(user)
        page = client.get(URL)
        assert page.status_code == 200 and "Rouge" in text(page) and "Importer" not in text(page)
        assert client.post(URL, upload(b"2026-12-15;bleu\n")).status_code == 403
        assert client.post(URL, {"day-day": yesterday.isoformat(), "day-colour": "blue"}).status_code == 403
    assert TempoDay.objects.get().colour == "red"
