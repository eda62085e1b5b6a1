"""Saved filters of the plant list (`saved_filter_create`, `saved_filter_delete`): a person keeps the
list's filters under a name, finds them on the list, replaces or deletes them; nobody else sees them."""

import re

from django.urls import reverse

from plants.models import SavedFilter

from .conftest import login, make_user, text


def keep(client, name, query):
    return client.post(reverse("plants:saved_filter_create"), {"name": name, "query": query})


def test_the_filters_are_kept_without_the_page_or_unknown_keys_and_shown_on_the_list(installer, company):
    client = login(installer)
    response = keep(client, "Hors ligne SAV", "status=offline&tag=SAV&page=3&evil=1")
    assert response.url == reverse("plants:list") + "?status=offline&tag=SAV"
    assert "Filtre «\u00a0Hors ligne SAV\u00a0» gardé." in text(client.get(response.url))
    page = client.get(reverse("plants:list")).content.decode()
    assert re.search(r'<a href="\?status=offline&amp;tag=SAV">Hors ligne SAV</a>', page)

    colleague = make_user("marc", "installer", company)
    assert "Hors ligne SAV" not in text(login(colleague).get(reverse("plants:list")))  # a person's own


def test_the_same_name_replaces_and_the_limit_is_said(installer):
    client = login(installer)
    keep(client, "Bretagne", "city=Brest")
    keep(client, "Bretagne", "city=Rennes")
    assert list(SavedFilter.objects.values_list("name", "query")) == [("Bretagne", "city=Rennes")]
    for n in range(SavedFilter.MAX_PER_USER - 1):
        keep(client, f"Filtre {n:02}", "status=offline")
    response = keep(client, "Un de trop", "status=offline")
    assert "Vous gardez déjà 20 filtres\u00a0: supprimez-en un d’abord." in text(client.get(response.url))
    assert SavedFilter.objects.count() == SavedFilter.MAX_PER_USER  # nothing lost, nothing added


def test_no_filter_or_a_bad_one_is_refused_with_its_reason(installer):
    client = login(installer)
    response = keep(client, "Rien", "page=2")
    assert "Choisissez au moins un filtre avant de le garder." in text(client.get(response.url))
    response = keep(client, "Faux", "status=bogus")
    assert "Ces filtres ne sont pas valides\u00a0: corrigez-les d’abord sur la liste." in text(
        client.get(response.url)
    )
    keep(client, "Deux\nlignes", "status=offline")
    keep(client, "x" * 61, "status=offline")
    assert not SavedFilter.objects.exists()


def test_only_its_owner_deletes_a_filter(installer, company):
    kept = SavedFilter.objects.create(user=installer, name="Bretagne", query="city=Brest")
    colleague = make_user("marc", "installer", company)
    assert login(colleague).post(reverse("plants:saved_filter_delete", args=[kept.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=kept.pk).exists()
    login(installer).post(reverse("plants:saved_filter_delete", args=[kept.pk]))
    assert not SavedFilter.objects.exists()


def test_a_viewer_keeps_filters_and_a_customer_cannot(installer, company, customer):
    viewer = make_user("lise", "installer", company, company_role="viewer")
    assert keep(login(viewer), "Mes pannes", "status=offline").status_code == 302
    assert SavedFilter.objects.filter(user=viewer).count() == 1
    assert keep(login(customer), "Chez moi", "status=offline").status_code == 403
