from django.urls import reverse

from alarms import troubleshooting
from alarms.models import AlarmCode

from .conftest import login, text

# The guide's chapter 5-b, as printed (FII → F11, WII → W11, the second W26 → W29).
GUIDE = {
    "F00": "Délai d'attente toléré",
    "F01": "Court-circuit tension onduleur (OND)",
    "F02": "Défaut capteur GFCI",
    "F04": "Tension bus basse",
    "F05": "Tension bus haute",
    "F06": "Court-circuit bus",
    "F07": "Défaut isolement PV",
    "F08": "Court-circuit entrée PV",
    "F09": "Défaut relais by-pass",
    "F10": "Surtension courant onduleur (OND)",
    "F11": "Surtension continue onduleur (DC)",
    "F12": "Température ambiante élevée",
    "F13": "Température élevée dissipateur",
    "F14": "Défaut relais réseau",
    "F15": "Surtension courant de décharge",
    "F16": "Surtension courant de charge",
    "F17": "Défaut capteur de courant",
    "F18": "Anomalie onduleur (OND)",
    "F19": "Défaut relais EPS",
    "F20": "Surcharge permanente",
    "F32": "Défaut SCI",
    "W00": "Tension réseau trop basse",
    "W01": "Tension réseau trop élevée",
    "W02": "Fréquence réseau trop basse",
    "W03": "Fréquence réseau trop élevée",
    "W04": "Perte de production solaire",
    "W05": "Perte de batterie",
    "W06": "Batterie en sous-tension",
    "W07": "Tension batterie basse",
    "W08": "Tension batterie élevée",
    "W09": "Surcharge",
    "W10": "Défaut GFCI (détection de fuite à la terre)",
    "W11": "Inversion phase/neutre",
    "W12": "Défaut ventilateur",
    "W13": "Batterie hors tension",
    "W14": "Surcharge de décharge côté BMS",
    "W15": "Surcharge de charge côté BMS",
    "W16": "Surtension côté BMS",
    "W17": "Surchauffe côté BMS",
    "W18": "Température de décharge trop basse (BMS)",
    "W19": "Déséquilibre de tension entre cellules (BMS)",
    "W20": "Défaut de communication BMS",
    "W21": "Sous-tension côté BMS",
    "W22": "Température de charge trop basse (BMS)",
    "W23": "Surtension critique côté BMS",
    "W24": "Surchauffe critique côté BMS",
    "W25": "Mise à jour du BMS",
    "W26": "Erreur de version du programme BMS",
    "W27": "Échec de la mise à jour du programme BMS",
    "W28": "Transformateur de courant (TC) inversé",
    "W29": "Échec de l'initialisation de l'horloge",
}


def test_every_code_of_the_guide_is_in_the_catalogue_with_its_french_text(db):
    catalogue = dict(AlarmCode.objects.values_list("code", "meaning_fr"))
    for code, meaning in GUIDE.items():
        assert catalogue[code] == meaning, code
    assert AlarmCode.objects.get(code="F13").kind == "fault"
    assert AlarmCode.objects.get(code="W13").kind == "warning"
    assert all(c.meaning_en for c in AlarmCode.objects.all())


def test_the_catalogue_is_searchable_by_code_and_words(installer):
    client = login(installer)
    body = text(client.get(reverse("alarms:catalogue"), {"q": "F13"}))
    assert "Température élevée dissipateur" in body and ">F12<" not in body
    body = text(client.get(reverse("alarms:catalogue"), {"q": "ventilateur"}))
    assert ">W12<" in body and ">F13<" not in body


def test_the_catalogue_speaks_english_when_asked(installer):
    client = login(installer)
    client.post(reverse("set_language"), {"language": "en"})
    assert "Heat-sink temperature high" in text(client.get(reverse("alarms:catalogue"), {"q": "F13"}))


def test_the_stick_led_helper_gives_the_guides_diagnosis(installer):
    body = text(
        login(installer).get(reverse("alarms:stick_leds"), {"net": "off", "com": "on", "ready": "slow"})
    )
    assert "Connexion anormale entre le logger et le routeur" in body
    assert (
        troubleshooting.diagnose_stick("slow", "off", "slow")["fault"]
        == "Communication anormale avec l'onduleur"
    )
    assert troubleshooting.diagnose_stick("fast", "off", "off")["normal"]
    assert troubleshooting.diagnose_stick("off", "off", "off")["fault"] == "Alimentation électrique anormale"


def test_the_battery_led_helper_reads_the_state_of_charge_band(installer):
    assert troubleshooting.diagnose_battery(True, ["on", "blink", "off", "off"]) == "26–50 %"
    assert troubleshooting.diagnose_battery(False, ["on", "on", "on", "off"]) == "51–75 %"
    assert troubleshooting.diagnose_battery(True, ["on", "on", "on", "on"]) is None
    body = text(
        login(installer).get(
            reverse("alarms:battery_leds"),
            {"mode": "discharging", "led1": "on", "led2": "on", "led3": "on", "led4": "on"},
        )
    )
    assert "76–100 %" in body


def test_the_catalogue_page_lists_the_unlisted_bits_and_the_fault_statuses(installer):
    page = text(login(installer).get(reverse("alarms:catalogue")))
    assert "Défaut non répertorié (bit 3)" in page and "Alerte non répertoriée (bit 31)" in page
    assert "Erreur permanente (état système)" in page
