"""The alarm codes of the installer guide (chapter 5-b), as data.

Numbering of the guide's misprints: "FII" is F11 and "WII" is W11 (a letter I for a digit 1); the
table's last row, a second "W26" (clock-initialisation failure), is W29 here, the code newer firmware
gives it, so that W26 keeps its BMS-program meaning (no public source confirms W29: users are told).
"COM" is the portal's own alarm for a logger that stopped answering, "INV" for a stick whose inverter
does not answer it. Faults stop production; warnings do not.
"""

from django.utils.functional import lazy
from django.utils.translation import get_language

from devices.registermap import alarm_bit

FAULT, WARNING, COMMUNICATION = "fault", "warning", "communication"
# Triage order: a fault first, then a lost logger (we no longer know), then warnings.
SEVERITY = {FAULT: 1, COMMUNICATION: 2, WARNING: 3}
COMMUNICATION_LOST = "COM"
# The stick answers but the inverter behind it does not (its `05 00` in daylight): RS485, unit id, COM LED.
INVERTER_SILENT = "INV"
# Another inverter serial answers behind a logger: a replacement, until an installer confirms or
# rejects it (devices.Inverter). Told at once, like a lost logger.
INVERTER_REPLACED = "SWP"
COMMUNICATION_CODES = (COMMUNICATION_LOST, INVERTER_SILENT, INVERTER_REPLACED)
# A company's threshold rule held for its duration (alarms.rules): a warning, told when it fires.
RULE = "THR"
# Failures with no fault code, found by the portal itself (the P family, warnings): production far
# below the clear-sky expectation while nearby plants produced normally (monitoring.findings), one
# PV string far below the other (alarms.rules).
UNDERPERFORMING, STRING_LOW = "P01", "P02"
# Daily, from the energy accounting (monitoring.findings): a battery that never cycles, a grid-charge
# window that charged nothing, a day counter that stopped while the inverter produced.
BATTERY_IDLE, GRID_CHARGE_MISSED, COUNTER_STOPPED, NO_PRODUCTION = "P03", "P04", "P05", "P06"
# Daily, from the stored state of health (energy.battery): below the warranty level, or falling fast.
BATTERY_WORN, BATTERY_AGEING_FAST = "P07", "P08"
FINDINGS = (
    UNDERPERFORMING,
    STRING_LOW,
    BATTERY_IDLE,
    GRID_CHARGE_MISSED,
    COUNTER_STOPPED,
    NO_PRODUCTION,
    BATTERY_WORN,
    BATTERY_AGEING_FAST,
    RULE,
)
# What an end customer who opted in is told of, in plain words: the system stopped (a fault), the
# connection lost, production far too low, the battery empty or off.
CUSTOMER_ALERTS = (COMMUNICATION_LOST, UNDERPERFORMING, NO_PRODUCTION, "W06", "W13", "S03")
# Printed otherwise in the guide: shown to people as "W29 (printed « W26 » in the guide: …)".
PRINTED_AS = {"W29": "W26"}
# Raised every night by many hybrids when PV fades: never opened while it is night at the plant.
NIGHT_NOISE = {"W04"}

# code, French meaning (guide), English meaning, French hint, English hint
CODES = [
    (
        "F00",
        "Délai d'attente toléré",
        "Soft-start timeout",
        "Vérifier les tensions PV et batterie au démarrage, puis redémarrer l'onduleur.",
        "Check PV and battery voltages at start-up, then restart the inverter.",
    ),
    (
        "F01",
        "Court-circuit tension onduleur (OND)",
        "Inverter output voltage short circuit",
        "Couper AC et DC, rechercher un court-circuit sur la sortie AC / backup.",
        "Switch AC and DC off and look for a short circuit on the AC / backup output.",
    ),
    (
        "F02",
        "Défaut capteur GFCI",
        "GFCI sensor fault",
        "Redémarrer l'onduleur ; si le défaut persiste, contacter la hotline.",
        "Restart the inverter; if it persists, call the hotline.",
    ),
    (
        "F04",
        "Tension bus basse",
        "DC bus voltage low",
        "Vérifier la tension batterie et PV ; redémarrer.",
        "Check battery and PV voltage; restart.",
    ),
    (
        "F05",
        "Tension bus haute",
        "DC bus voltage high",
        "Vérifier que la tension PV ne dépasse pas la plage de l'onduleur.",
        "Check that the PV voltage stays within the inverter's range.",
    ),
    (
        "F06",
        "Court-circuit bus",
        "DC bus short circuit",
        "Couper l'onduleur et contacter la hotline.",
        "Switch the inverter off and call the hotline.",
    ),
    (
        "F07",
        "Défaut isolement PV",
        "PV insulation fault",
        "Mesurer l'isolement des chaînes PV par rapport à la terre (câbles, connecteurs humides).",
        "Measure the PV strings' insulation to earth (cables, damp connectors).",
    ),
    (
        "F08",
        "Court-circuit entrée PV",
        "PV input short circuit",
        "Vérifier la polarité et le câblage des chaînes PV.",
        "Check PV string polarity and wiring.",
    ),
    (
        "F09",
        "Défaut relais by-pass",
        "Bypass relay fault",
        "Redémarrer ; si le défaut persiste, contacter la hotline.",
        "Restart; if it persists, call the hotline.",
    ),
    (
        "F10",
        "Surtension courant onduleur (OND)",
        "Inverter output overcurrent",
        "Réduire les charges raccordées (backup) et redémarrer.",
        "Reduce the connected (backup) loads and restart.",
    ),
    (
        "F11",
        "Surtension continue onduleur (DC)",
        "DC injection too high",
        "Redémarrer ; si le défaut persiste, contacter la hotline.",
        "Restart; if it persists, call the hotline.",
    ),
    (
        "F12",
        "Température ambiante élevée",
        "Ambient temperature high",
        "Ventiler le local, dégager l'onduleur, éviter le soleil direct.",
        "Ventilate the room, clear space around the inverter, avoid direct sun.",
    ),
    (
        "F13",
        "Température élevée dissipateur",
        "Heat-sink temperature high",
        "Vérifier la ventilation et l'espace libre autour du dissipateur.",
        "Check the ventilation and the clearance around the heat sink.",
    ),
    (
        "F14",
        "Défaut relais réseau",
        "Grid relay fault",
        "Vérifier le câblage AC (L/N/PE) et redémarrer.",
        "Check AC wiring (L/N/PE) and restart.",
    ),
    (
        "F15",
        "Surtension courant de décharge",
        "Battery discharge overcurrent",
        "Vérifier les limites de décharge et les charges raccordées.",
        "Check the discharge limits and the connected loads.",
    ),
    (
        "F16",
        "Surtension courant de charge",
        "Battery charge overcurrent",
        "Vérifier les limites de charge et le câblage batterie.",
        "Check the charge limits and the battery wiring.",
    ),
    (
        "F17",
        "Défaut capteur de courant",
        "Current sensor fault",
        "Redémarrer ; si le défaut persiste, contacter la hotline.",
        "Restart; if it persists, call the hotline.",
    ),
    (
        "F18",
        "Anomalie onduleur (OND)",
        "Inverter abnormal",
        "Couper AC puis DC, attendre 3 minutes, redémarrer.",
        "Switch AC then DC off, wait 3 minutes, restart.",
    ),
    (
        "F19",
        "Défaut relais EPS",
        "EPS (backup) relay fault",
        "Vérifier le câblage du coffret backup.",
        "Check the backup box wiring.",
    ),
    (
        "F20",
        "Surcharge permanente",
        "Permanent overload",
        "Réduire les charges sur la sortie backup.",
        "Reduce the loads on the backup output.",
    ),
    (
        "F32",
        "Défaut SCI",
        "SCI (internal communication) fault",
        "Redémarrer l'onduleur ; si le défaut persiste, contacter la hotline.",
        "Restart the inverter; if it persists, call the hotline.",
    ),
    (
        "W00",
        "Tension réseau trop basse",
        "Grid voltage too low",
        "Vérifier la tension réseau et la norme réseau (EN 50549).",
        "Check the grid voltage and the grid code (EN 50549).",
    ),
    (
        "W01",
        "Tension réseau trop élevée",
        "Grid voltage too high",
        "Vérifier la section des câbles AC et la norme réseau.",
        "Check the AC cable section and the grid code.",
    ),
    (
        "W02",
        "Fréquence réseau trop basse",
        "Grid frequency too low",
        "Vérifier la norme réseau ; attendre le retour du réseau.",
        "Check the grid code; wait for the grid to recover.",
    ),
    (
        "W03",
        "Fréquence réseau trop élevée",
        "Grid frequency too high",
        "Vérifier la norme réseau ; attendre le retour du réseau.",
        "Check the grid code; wait for the grid to recover.",
    ),
    (
        "W04",
        "Perte de production solaire",
        "PV lost",
        "Vérifier le sectionneur PV et les chaînes PV.",
        "Check the PV isolator and strings.",
    ),
    (
        "W05",
        "Perte de batterie",
        "Battery lost",
        "Vérifier les disjoncteurs batterie (ordre de démarrage) et les câbles.",
        "Check the battery breakers (start-up order) and cables.",
    ),
    (
        "W06",
        "Batterie en sous-tension",
        "Battery under-voltage",
        "Laisser la batterie se recharger ; vérifier le SOC minimal.",
        "Let the battery recharge; check the minimum SOC.",
    ),
    (
        "W07",
        "Tension batterie basse",
        "Battery voltage low",
        "Laisser la batterie se recharger.",
        "Let the battery recharge.",
    ),
    (
        "W08",
        "Tension batterie élevée",
        "Battery voltage high",
        "Vérifier le paramétrage batterie.",
        "Check the battery settings.",
    ),
    ("W09", "Surcharge", "Overload", "Réduire les charges raccordées.", "Reduce the connected loads."),
    (
        "W10",
        "Défaut GFCI (détection de fuite à la terre)",
        "GFCI fault (earth leakage)",
        "Rechercher une fuite à la terre côté PV ou AC.",
        "Look for an earth leakage on the PV or AC side.",
    ),
    (
        "W11",
        "Inversion phase/neutre",
        "Phase / neutral swapped",
        "Inverser L et N au raccordement AC.",
        "Swap L and N at the AC connection.",
    ),
    (
        "W12",
        "Défaut ventilateur",
        "Fan fault",
        "Vérifier que le ventilateur n'est pas obstrué.",
        "Check that the fan is not blocked.",
    ),
    (
        "W13",
        "Batterie hors tension",
        "Battery switched off",
        "Mettre les disjoncteurs batterie sur ON.",
        "Switch the battery breakers on.",
    ),
    (
        "W14",
        "Surcharge de décharge côté BMS",
        "BMS discharge overcurrent",
        "Réduire les charges ; vérifier les limites de décharge.",
        "Reduce the loads; check the discharge limits.",
    ),
    (
        "W15",
        "Surcharge de charge côté BMS",
        "BMS charge overcurrent",
        "Vérifier les limites de charge.",
        "Check the charge limits.",
    ),
    (
        "W16",
        "Surtension côté BMS",
        "BMS over-voltage",
        "Vérifier le paramétrage batterie.",
        "Check the battery settings.",
    ),
    (
        "W17",
        "Surchauffe côté BMS",
        "BMS over-temperature",
        "Ventiler le local de la batterie.",
        "Ventilate the battery's room.",
    ),
    (
        "W18",
        "Température de décharge trop basse (BMS)",
        "BMS discharge temperature too low",
        "Le local est trop froid pour décharger la batterie.",
        "The room is too cold to discharge the battery.",
    ),
    (
        "W19",
        "Déséquilibre de tension entre cellules (BMS)",
        "BMS cell voltage imbalance",
        "Laisser la batterie faire un cycle complet ; si persistant, contacter la hotline.",
        "Let the battery run a full cycle; if it persists, call the hotline.",
    ),
    (
        "W20",
        "Défaut de communication BMS",
        "BMS communication fault",
        "Vérifier le câble de communication (gris) entre batterie et onduleur.",
        "Check the (grey) communication cable between battery and inverter.",
    ),
    (
        "W21",
        "Sous-tension côté BMS",
        "BMS under-voltage",
        "Laisser la batterie se recharger.",
        "Let the battery recharge.",
    ),
    (
        "W22",
        "Température de charge trop basse (BMS)",
        "BMS charge temperature too low",
        "Le local est trop froid pour charger la batterie.",
        "The room is too cold to charge the battery.",
    ),
    (
        "W23",
        "Surtension critique côté BMS",
        "BMS critical over-voltage",
        "Couper la batterie et contacter la hotline.",
        "Switch the battery off and call the hotline.",
    ),
    (
        "W24",
        "Surchauffe critique côté BMS",
        "BMS critical over-temperature",
        "Couper la batterie et ventiler ; contacter la hotline.",
        "Switch the battery off and ventilate; call the hotline.",
    ),
    (
        "W25",
        "Mise à jour du BMS",
        "BMS updating",
        "Attendre la fin de la mise à jour.",
        "Wait for the update to finish.",
    ),
    (
        "W26",
        "Erreur de version du programme BMS",
        "BMS program version error",
        "Contacter la hotline pour la mise à jour du BMS.",
        "Call the hotline for a BMS update.",
    ),
    (
        "W27",
        "Échec de la mise à jour du programme BMS",
        "BMS program update failed",
        "Relancer la mise à jour ; si persistant, contacter la hotline.",
        "Retry the update; if it persists, call the hotline.",
    ),
    (
        "W28",
        "Transformateur de courant (TC) inversé",
        "Current clamp (CT) reversed",
        "Retourner le tore de mesure (flèche vers l'onduleur) ou inverser ses fils.",
        "Turn the clamp round (arrow towards the inverter) or swap its wires.",
    ),
    (
        "W29",
        "Échec de l'initialisation de l'horloge",
        "Clock initialisation failed",
        "Régler la date et l'heure sur l'écran de l'onduleur.",
        "Set date and time on the inverter's screen.",
    ),
    (
        INVERTER_SILENT,
        "L'onduleur ne répond pas à l'enregistreur",
        "The inverter does not answer the logger",
        "La clé répond mais pas l'onduleur : vérifier le câble RS485 entre clé et onduleur, l'identifiant "
        "Modbus (unit id) et le voyant COM de la clé.",
        "The stick answers but the inverter does not: check the RS485 cable between stick and inverter, "
        "the Modbus unit id and the stick's COM LED.",
    ),
    (
        COMMUNICATION_LOST,
        "Communication perdue avec l'enregistreur",
        "Communication lost with the logger",
        "Vérifier les voyants de la clé WiFi (NET / COM / READY) et la box internet du client.",
        "Check the WiFi stick's LEDs (NET / COM / READY) and the customer's internet box.",
    ),
]


def kind_of(code):
    if code in COMMUNICATION_CODES:
        return COMMUNICATION
    return FAULT if code.startswith(("F", "S")) and code != STATUS_OFF_GRID else WARNING


def _bits(prefix):
    return {alarm_bit(code): code for code, *_rest in CODES if code.startswith(prefix) and code[1:].isdigit()}


GUIDE_WARNING_BITS = _bits("W")
GUIDE_FAULT_BITS = _bits("F")
# No silent fault: a bit the guide names no code for still raises an alarm of its own, "FBnn" /
# "WBnn" (bit nn), with the raw word. The family's firmware sets bits the guide does not list.
UNLISTED_FAULT, UNLISTED_WARNING = "FB", "WB"
WARNING_BITS = {bit: GUIDE_WARNING_BITS.get(bit, f"{UNLISTED_WARNING}{bit:02d}") for bit in range(32)}
FAULT_BITS = {bit: GUIDE_FAULT_BITS.get(bit, f"{UNLISTED_FAULT}{bit:02d}") for bit in range(32)}
# System status 3046 (public list): 7 Fault, 13 Permanent error. A fault the words do not show (or
# that a firmware reports by status only) is not missed: S07 opens when the fault word has no bit up
# (a fault code says more), S13 always (the inverter stays stopped).
STATUS_FAULT, STATUS_PERMANENT = "S07", "S13"
# System status 3, "Off grid" in the public list: the grid is gone and the inverter runs the house's
# backup output from the battery (with a backup box). A warning for the installer, the customer's
# "power cut" alert. UNVERIFIED: that the real inverter reports 3 during an outage (and not 6).
STATUS_OFF_GRID = "S03"
STATUS_CODES = {3: STATUS_OFF_GRID, 7: STATUS_FAULT, 13: STATUS_PERMANENT}
UNLISTED_CODES = [
    *(
        (f"{UNLISTED_FAULT}{bit:02d}", f"Défaut non répertorié (bit {bit})", f"Unlisted fault (bit {bit})",
         "Le guide ne nomme pas ce bit du mot de défaut : noter le mot brut, redémarrer l'onduleur, "
         "et transmettre le mot à la hotline si le défaut persiste.",
         "The guide names no code for this bit of the fault word: note the raw word, restart the "
         "inverter, and give the word to the hotline if it persists.")
        for bit in range(32) if bit not in GUIDE_FAULT_BITS
    ),
    *(
        (f"{UNLISTED_WARNING}{bit:02d}", f"Alerte non répertoriée (bit {bit})",
         f"Unlisted warning (bit {bit})",
         "Le guide ne nomme pas ce bit du mot d'alerte : noter le mot brut et le transmettre à la "
         "hotline s'il revient.",
         "The guide names no code for this bit of the warning word: note the raw word and give it to "
         "the hotline if it comes back.")
        for bit in range(32) if bit not in GUIDE_WARNING_BITS
    ),
    (INVERTER_REPLACED, "Onduleur remplacé", "Inverter replaced",
     "Un autre onduleur répond derrière l'enregistreur. Si vous l'avez remplacé, confirmez-le sur la "
     "page de la centrale ; sinon rejetez-le : ses mesures quittent les chiffres de la centrale et "
     "aucun réglage ne lui est envoyé avant confirmation.",
     "Another inverter answers behind the logger. If you replaced it, confirm on the plant's page; "
     "otherwise reject it: its readings leave the plant's figures, and no setting is sent to it "
     "before it is confirmed."),
    (UNDERPERFORMING, "Production très inférieure à l'attendu", "Production far below expectation",
     "Hier, la centrale a produit bien moins que ne le permettait le ciel clair à sa position, alors que "
     "les centrales voisines ont produit normalement : ombrage, panneaux ou chaîne déconnectés, onduleur "
     "bridé. Voir les chiffres dans le détail de l'alarme.",
     "Yesterday the plant produced far less than a clear sky allowed at its position, while nearby plants "
     "produced normally: shading, panels or a string disconnected, a curtailed inverter. The figures are "
     "in the alarm's detail."),
    (STRING_LOW, "Une chaîne PV très inférieure à l'autre", "One PV string far below the other",
     "Une chaîne produit moins d'un dixième de l'autre en plein soleil depuis une heure : vérifier ses "
     "connecteurs, son fusible et son sectionneur, et l'ombrage.",
     "One string has produced under a tenth of the other in good sun for an hour: check its connectors, "
     "fuse and isolator, and shading."),
    (BATTERY_IDLE, "Batterie inactive depuis plusieurs jours", "Battery idle for days",
     "La batterie ne s'est ni chargée ni déchargée depuis plusieurs jours complets : vérifier le "
     "disjoncteur « Load » des batteries, la communication BMS et la profondeur de décharge réglée.",
     "The battery has neither charged nor discharged for several whole days: check the batteries' "
     "« Load » breaker, the BMS communication and the depth of discharge set."),
    (GRID_CHARGE_MISSED, "Charge réseau programmée sans effet", "Scheduled grid charging did nothing",
     "La charge depuis le réseau est activée mais la batterie ne s'est pas chargée pendant la plage "
     "horaire : vérifier l'heure de l'onduleur, la plage et le SOC maximal de charge.",
     "Grid charging is on but the battery did not charge in its window: check the inverter's clock, "
     "the window and the maximum charge SOC."),
    (COUNTER_STOPPED, "Compteur du jour arrêté", "Day counter stopped",
     "L'onduleur a mesuré de la puissance PV mais son compteur d'énergie du jour n'a pas bougé : les "
     "chiffres d'énergie de ce jour sont faux ; redémarrer l'onduleur, et signaler à la hotline si cela "
     "revient.",
     "The inverter measured PV power but its day energy counter did not move: that day's energy figures "
     "are wrong; restart the inverter, and tell the hotline if it comes back."),
    (NO_PRODUCTION, "Aucune production hier", "No production yesterday",
     "L'onduleur a répondu toute la journée sans mesurer de puissance PV : vérifier le sectionneur PV, "
     "le disjoncteur DC, les connecteurs des panneaux (et la neige).",
     "The inverter answered all day but measured no PV power: check the PV isolator, the DC breaker, the "
     "panels' connectors (and snow)."),
    (BATTERY_WORN, "Santé de la batterie sous le niveau de garantie",
     "Battery health below the warranty level",
     "L'état de santé (SOH) que la batterie indique est passé sous le niveau de garantie réglé par le "
     "distributeur : vérifier l'historique de santé de la batterie et contacter la hotline pour la "
     "garantie.",
     "The state of health the battery reports has fallen below the warranty level the distributor set: "
     "check the battery's health history and call the hotline about the warranty."),
    (BATTERY_AGEING_FAST, "Batterie qui vieillit vite", "Battery ageing fast",
     "L'état de santé (SOH) de la batterie a baissé plus vite que prévu sur les derniers mois : vérifier "
     "sa température, ses cycles et la profondeur de décharge réglée.",
     "The battery's state of health fell faster than expected over the last months: check its "
     "temperature, its cycles and the depth of discharge set."),
    (RULE, "Seuil de règle dépassé", "Rule threshold crossed",
     "Une règle de l'entreprise (page Règles d'alarme) a vu cette valeur au-delà de son seuil pendant "
     "toute sa durée : voir le détail de l'alarme.",
     "One of the company's rules (Alarm rules page) saw this value beyond its threshold for its whole "
     "duration: see the alarm's detail."),
    ("S03", "Coupure du réseau : la maison est sur la batterie", "Grid outage: the house runs on the battery",
     "L'onduleur est « hors réseau » : le réseau est coupé et, avec un coffret backup, les circuits "
     "secourus sont alimentés par la batterie. Rien à faire s'il s'agit d'une coupure du réseau ; "
     "sinon vérifier le disjoncteur d'abonné et le disjoncteur AC de l'onduleur.",
     "The inverter is off grid: the grid is down and, with a backup box, the backed-up circuits run on "
     "the battery. Nothing to do in a grid outage; otherwise check the main breaker and the inverter's "
     "AC breaker."),
    ("S07", "Onduleur en défaut (état système)", "Inverter in fault (system status)",
     "L'état système de l'onduleur est « Défaut » : lire le code affiché à l'écran de l'onduleur.",
     "The inverter's system status is Fault: read the code shown on the inverter's screen."),
    ("S13", "Erreur permanente (état système)", "Permanent error (system status)",
     "L'onduleur s'est arrêté sur une erreur permanente : couper AC et DC, attendre 5 minutes, "
     "redémarrer ; contacter la hotline si l'erreur revient.",
     "The inverter stopped on a permanent error: switch AC and DC off, wait 5 minutes, restart; call "
     "the hotline if it comes back."),
]  # fmt: skip


ALL_CODES = [*CODES, *UNLISTED_CODES]


def active_codes(values):
    """The codes up in decoded values: {"F13", "W02", "FB03", "S07", ...}; an unread word raises none."""
    codes = set()
    for key, bits in (("warning_bits", WARNING_BITS), ("fault_bits", FAULT_BITS)):
        word = values.get(key) or 0
        codes.update(code for bit, code in bits.items() if word >> bit & 1)
    status_code = STATUS_CODES.get(values.get("system_status"))
    if status_code in (STATUS_PERMANENT, STATUS_OFF_GRID) or (
        status_code == STATUS_FAULT and not values.get("fault_bits")
    ):
        codes.add(status_code)
    return codes


def raw_word(code, values):
    """The word that raised an unlisted bit's code, as the hotline reads it (0x0000_0008)."""
    key = {UNLISTED_FAULT: "fault_bits", UNLISTED_WARNING: "warning_bits"}.get(code[:2])
    return None if key is None or values.get(key) is None else f"0x{values[key]:08X}"


def bit_names():
    """{register key: {bit: "F13 Meaning"}} for the bit words, each name in the reader's language at
    the moment it is shown (devices.registermap.BIT_NAMES)."""
    meanings = {code: (fr, en) for code, fr, en, *_hints in ALL_CODES}

    def name(code):
        def text():
            fr, en = meanings.get(code, ("", ""))
            meaning = en if get_language() == "en" else fr
            return f"{code} {meaning}".strip()

        return lazy(text, str)()

    return {
        key: {bit: name(code) for bit, code in bits.items()}
        for key, bits in (("warning_bits", WARNING_BITS), ("fault_bits", FAULT_BITS))
    }
