"""python manage.py seed_demo: the demo's accounts and plants, bound to the local simulator."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, CompanyRole, ProAccountRequest, User
from devices.management.commands.simulate_fleet import device_for
from devices.models import Datalogger, Inverter, Protocol, Reach, Reading
from devices.partitions import reading_partitions_ensure
from devices.polling import history_slot
from devices.registermap import HISTORY_FIELDS, RATED_POWER_W, live_values
from economics.models import Tariff, TempoColour, TempoDay
from energy.accounting import daily_energy_compute
from plants.models import BatteryModel, Plant, PlantGrant, SystemType

PASSWORD = "aura-demo-2026"
COMPANIES = [
    ("Soleil Bleu Énergie", "soleilbleu", "12 rue des Lilas, 69003 Lyon", "Téréva Lyon"),
    ("Armor Solaire", "armorsolaire", "4 quai Duguay-Trouin, 35000 Rennes", "Téréva Rennes"),
]
# name, city, kWp, system type, battery, protocol, SN, port, unit id
PLANTS = {
    "soleilbleu": [
        (
            "Maison Martin",
            "Lyon",
            6,
            SystemType.DC,
            BatteryModel.AURA_10,
            Protocol.SOLARMAN_V5,
            "2355553510",
            8899,
            1,
        ),
        (
            "Gîte des Vignes",
            "Villefranche",
            9,
            SystemType.DC_BACKUP,
            BatteryModel.AURA_15,
            Protocol.SOLARMAN_V5,
            "2355553511",
            8899,
            1,
        ),
        (
            "Ferme Dubois",
            "Bourg-en-Bresse",
            12,
            SystemType.DC_AC,
            BatteryModel.AURA_20,
            Protocol.SOLARMAN_V5,
            "2355553512",
            8899,
            1,
        ),
        (
            "Villa Roche (retrofit)",
            "Vienne",
            4.5,
            SystemType.AC,
            BatteryModel.AURA_5,
            Protocol.SOLARMAN_V5,
            "2355553513",
            8899,
            1,
        ),
        ("Chantier Petit", "Lyon", 3, SystemType.DC, BatteryModel.AURA_5, None, None, None, None),
    ],
    "armorsolaire": [
        (
            "Longère Le Gall",
            "Rennes",
            7.5,
            SystemType.DC_AC_BACKUP,
            BatteryModel.AURA_10,
            Protocol.MODBUS_TCP,
            "2377001001",
            1502,
            1,
        ),
        (
            "Atelier Kerbrat",
            "Saint-Malo",
            15,
            SystemType.AC_BACKUP,
            BatteryModel.AURA_25,
            Protocol.MODBUS_TCP,
            "2377001002",
            1502,
            2,
        ),
    ],
}


# So that the curves and bars show production at any hour of the demo, from its first start.
HISTORY_DAYS = 60
# The demo's contracts, at France's regulated prices of February 2025 (€/kWh, taxes included) and
# the surplus sale price of 2025: demo figures, not a reference. Plants not named here: Base.
BASE = {"base_price": Decimal("0.2016")}
TARIFFS = {
    "Maison Martin": {
        "kind": Tariff.Kind.PEAK_OFF_PEAK, "off_peak_hours": "22:00-06:00",
        "peak_price": Decimal("0.2146"), "off_peak_price": Decimal("0.1696"),
        "feed_in": Tariff.FeedIn.SURPLUS, "feed_in_price": Decimal("0.0400"),
    },
    "Gîte des Vignes": {
        "kind": Tariff.Kind.TEMPO,
        "blue_peak_price": Decimal("0.1552"), "blue_off_peak_price": Decimal("0.1288"),
        "white_peak_price": Decimal("0.1792"), "white_off_peak_price": Decimal("0.1447"),
        "red_peak_price": Decimal("0.6586"), "red_off_peak_price": Decimal("0.1518"),
    },
}  # fmt: skip


def demo_tempo_colour(day):
    """A made-up Tempo calendar for the demo (RTE's real one is imported by the distributor): red
    on some winter weekdays, white on others, blue otherwise."""
    if day.month in (4, 5, 6, 7, 8, 9, 10) or day.weekday() == 6:
        return TempoColour.BLUE
    if day.month in (12, 1, 2) and day.weekday() < 5 and day.toordinal() % 4 == 0:
        return TempoColour.RED
    return TempoColour.WHITE if day.toordinal() % 3 == 0 else TempoColour.BLUE


def seed_history(logger, *, days, now=None):
    """`days` of 5-minute history for the inverter behind a demo logger, from the simulator's own
    physics (the same device simulate_fleet serves: inverter serial AU<SN>, the plant's kWp, battery
    and place), as polls would have stored it (`pv_power` only while the inverter sleeps), and the
    days' energy computed from it. Nothing when that inverter already has history. Returns the days."""
    now = now or timezone.now()
    device = device_for(logger, 0)
    inverter, _created = Inverter.objects.get_or_create(
        datalogger=logger,
        serial_number=device.inverter_serial,
        defaults={
            "rated_power_w": RATED_POWER_W.get(device.model_code),
            "first_seen_at": now - timedelta(days=days),
        },
    )
    if inverter.readings.exists():
        return 0
    last = history_slot(now) - timedelta(minutes=settings.HISTORY_RESOLUTION_MINUTES)
    slot = last - timedelta(days=days)
    reading_partitions_ensure(first=slot, last=now)
    rows = []
    while slot <= last:
        device.step(slot)
        live = live_values(device.values())
        fields = {k: live[k] for k in HISTORY_FIELDS} if device.answers_stick else {"pv_power": 0}
        rows.append(Reading(inverter=inverter, slot=slot, **fields))
        slot += timedelta(minutes=settings.HISTORY_RESOLUTION_MINUTES)
    Reading.objects.bulk_create(rows, batch_size=5000)
    Inverter.objects.filter(pk=inverter.pk).update(history_slot=last, last_seen_at=last)
    today = timezone.localdate(now, logger.plant.tzinfo)
    for back in range(days, -1, -1):
        daily_energy_compute(plants=[logger.plant], day=today - timedelta(days=back), now=now)
    return days


class Command(BaseCommand):
    help = "Create (or keep) the demo accounts and plants; their dataloggers point at simulate_fleet."

    @transaction.atomic
    def handle(self, *args, **opts):
        admin = self._user(
            "admin", "admin@demo.aura", User.Role.DISTRIBUTOR_ADMIN, is_staff=True, is_superuser=True
        )
        logins = [("distributor admin", admin.username)]
        for name, login, address, agency in COMPANIES:
            company, _ = Company.objects.get_or_create(
                name=name,
                defaults={
                    "address": address,
                    "mobile_phone": "+33 6 12 34 56 78",
                    "email": f"contact@{login}.fr",
                    "agency": agency,
                    "customer_account_number": f"C{abs(hash(login)) % 100000:05d}",
                },
            )
            installer = self._user(
                login,
                f"{login}@demo.aura",
                User.Role.INSTALLER,
                company=company,
                company_role=CompanyRole.ADMINISTRATOR,
            )
            logins.append((f"installer, {name}", installer.username))
            if login == COMPANIES[0][1]:  # the roles, to try: a technician and a viewer
                for role in (CompanyRole.TECHNICIAN, CompanyRole.VIEWER):
                    member = f"{login}-{role}"
                    self._user(
                        member, f"{member}@demo.aura", User.Role.INSTALLER, company=company, company_role=role
                    )
                    logins.append((f"{role.label.lower()}, {name}", member))
            for row in PLANTS[login]:
                self._plant(company, installer, *row)
        customer = self._user("client.martin@demo.aura", "client.martin@demo.aura", User.Role.CUSTOMER)
        PlantGrant.objects.get_or_create(
            plant=Plant.objects.get(name="Maison Martin"),
            customer=customer,
            defaults={"granted_by": User.objects.get(username="soleilbleu"), "accepted_at": timezone.now()},
        )
        logins.append(("end customer of Maison Martin", customer.username))
        ProAccountRequest.objects.get_or_create(
            login="elecbreizh",
            defaults={
                "company_name": "Élec Breizh",
                "address": "8 rue du Port, 29200 Brest",
                "mobile_phone": "+33 6 98 76 54 32",
                "email": "contact@elecbreizh.fr",
                "agency": "Téréva Brest",
                "customer_account_number": "C42424",
            },
        )
        today = timezone.localdate()
        for back in range(HISTORY_DAYS + 2):
            day = today - timedelta(days=back)
            TempoDay.objects.get_or_create(day=day, defaults={"colour": demo_tempo_colour(day)})
        for logger in Datalogger.objects.active().select_related("plant"):
            days = seed_history(logger, days=HISTORY_DAYS)
            if days:
                self.stdout.write(f"  {logger.plant.name}: {days} days of history")
        self.stdout.write(f"Demo accounts (password for all: {PASSWORD}):")
        for role, login in logins:
            self.stdout.write(f"  {login:<28} {role}")

    def _plant(self, company, installer, pname, city, kwp, stype, battery, protocol, sn, port, unit):
        plant, _ = Plant.objects.get_or_create(
            company=company,
            name=pname,
            defaults={
                "address": "1 place de la Mairie",
                "postcode": "00000",
                "city": city,
                "pv_power_kwp": kwp,
                "system_type": stype,
                "battery_model": battery,
                "created_by": installer,
            },
        )
        if not plant.tariffs.exists():
            Tariff.objects.create(
                plant=plant,
                valid_from=timezone.localdate() - timedelta(days=HISTORY_DAYS + 1),
                created_by=installer,
                **TARIFFS.get(pname, BASE),
            )
        if sn and not Datalogger.objects.filter(serial_number=sn, archived_at__isnull=True).exists():
            # WiFi sticks call the demo's hub in, as real ones behind an internet box would;
            # Modbus TCP gateways are reached directly.
            hub = protocol == Protocol.SOLARMAN_V5
            Datalogger.objects.create(
                plant=plant,
                serial_number=sn,
                reach=Reach.HUB if hub else Reach.DIRECT,
                protocol=protocol,
                host="" if hub else "127.0.0.1",
                port=port,
                unit_id=unit,
            )

    def _user(self, username, email, role, company=None, **extra):
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": email, "role": role, "company": company, **extra}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user
