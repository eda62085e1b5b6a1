"""Every URL of the resolver and every OpenAPI path × every kind of outsider × the methods it takes.

Company A owns a plant with a logger, an inverter, an alarm, a photo and a customer. Each URL is built
with A's objects and declared once below with its policy; a URL without a declaration fails the test.
For each actor and method: never a 5xx; an outsider (anonymous, another plant's customer, another
company's installer, a deactivated company's installer) never reads A's data (its secret names are
not in the body) and changes nothing (the database is the same after the request); the GET answer is
the one the URL's policy declares. The distributor admin reads everything and changes no plant.
"""

import io
import ipaddress
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.timezone import localdate, now
from PIL import Image

from accounts.models import Company, ProAccountRequest, User
from alarms.models import Alarm, MaintenanceWindow, ThresholdRule
from commissioning.models import HandoverReport, Tick
from devices import remote
from devices.models import Datalogger, Inverter, InverterLive, Reading, SettingChange, SettingsJob
from economics.models import Tariff
from energy.models import DailyEnergy, ReadingsExport
from integrations.services import api_token_create, webhook_create
from plants.models import Plant, PlantAccess, PlantGrant, PlantPhoto, SavedFilter
from plants.services import photo_add, plant_transfer
from privacy.services import data_export_build, data_export_request

from .conftest import make_plant, make_user

SECRET = "Villa Secrète Dupont"
SECRET_SN = "2355553510"

# What each URL is (a policy), declared once. GET answers per actor follow from the policy.
PUBLIC = "public"  # anyone
LOGGED_IN = "logged_in"  # any logged-in user, scoped to what they may see
INSTALLER = "installer"  # installers only (their own company's data)
ADMIN = "admin"  # the distributor admin only
PLANT_VIEW = "plant_view"  # one of A's objects: A's installers, A's customer, the admin
PLANT_CHANGE = "plant_change"  # changes one of A's objects: A's installers only
INSTALLER_OF_PLANT = "installer_of_plant"  # A's installers (and the admin reads)
DJANGO_ADMIN = "django_admin"  # Django's admin site: staff only
INVITEE = "invitee"  # a customer's invitation: that customer only
CUSTOMER = "customer"  # an end customer's own account (their data, their erasure)
OWN_COPY = "own_copy"  # a customer's copy of their data: that customer only
OWN_EXPORT = "own_export"  # a readings export built in the background: who asked for it only
PLANT_ADMINISTER = "plant_administer"  # hands over or deletes one of A's plants: A's administrators only
ADMINISTRATOR_OF_A = "administrator_of_a"  # one of A's members' plants: A's administrators only
OWN_TOKEN = "own_token"  # an API token or a webhook: its owner only (the person, or the company)

POLICIES = {
    "home": LOGGED_IN,
    "healthz": PUBLIC,
    "web_app_manifest": PUBLIC,
    "metrics": PUBLIC,  # refused without the token or an allowed address (tests/test_metrics.py)
    "set_language": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "account_request": PUBLIC,
    "account_request_sent": PUBLIC,
    "account_requests": ADMIN,
    "account_request_detail": ADMIN,
    "companies": ADMIN,
    "company_detail": ADMIN,
    "company_set_active": ADMIN,
    "team": INSTALLER,
    "security_events": ADMIN,
    "preferences": LOGGED_IN,
    "api_tokens": LOGGED_IN,
    "api_token_revoke": OWN_TOKEN,
    "webhooks": LOGGED_IN,
    "webhook": OWN_TOKEN,
    "webhook_test": OWN_TOKEN,
    "webhook_enable": OWN_TOKEN,
    "webhook_delete": OWN_TOKEN,
    "my_data": CUSTOMER,
    "my_data_download": OWN_COPY,
    "erase_account": CUSTOMER,
    "plants:transfer": PLANT_ADMINISTER,
    "plants:battery_confirm": PLANT_CHANGE,
    "plants:list": LOGGED_IN,
    "plants:invitation": INVITEE,
    "plants:create": INSTALLER,
    "plants:detail": PLANT_VIEW,
    "plants:edit": PLANT_CHANGE,
    "plants:about": PLANT_VIEW,
    "plants:settings_log": PLANT_VIEW,
    "plants:live": PLANT_VIEW,
    "energy:daily_csv": PLANT_VIEW,
    "energy:battery": PLANT_VIEW,
    "economics:savings": PLANT_VIEW,
    "economics:savings_csv": PLANT_VIEW,
    "economics:tariffs": PLANT_VIEW,  # its POST adds a tariff: A's installers only (tests/test_tariffs.py)
    "economics:tariff_delete": PLANT_CHANGE,
    "economics:tempo": LOGGED_IN,
    "economics:monthly_report": PLANT_VIEW,
    "economics:fleet_report": INSTALLER,
    "economics:charge_schedule": PLANT_CHANGE,
    "devices:settings_jobs": INSTALLER,
    "devices:settings_job_new": INSTALLER,
    "devices:settings_job": OWN_TOKEN,  # its author and the company's administrators
    "devices:settings_job_run": OWN_TOKEN,
    "devices:settings_job_cancel": OWN_TOKEN,  # its POST: the distributor admin only (tests/test_tempo.py)
    "energy:readings_csv": PLANT_VIEW,
    "energy:readings_export": OWN_EXPORT,
    "energy:readings_export_download": OWN_EXPORT,
    "plant-dashboard-live": PLANT_VIEW,
    "plant-dashboard-power": PLANT_VIEW,
    "plant-dashboard-energy": PLANT_VIEW,
    "fleet-list": LOGGED_IN,
    "setting-change-list": LOGGED_IN,
    "setting-change-detail": PLANT_VIEW,
    "plants:photo": PLANT_VIEW,
    "plants:photo_delete": PLANT_CHANGE,
    "plants:commission": PLANT_CHANGE,
    "plants:pick": INSTALLER,
    "plants:time_zones": INSTALLER,
    "plants:saved_filter_create": INSTALLER,
    "plants:saved_filter_delete": OWN_TOKEN,
    "plants:checklist": INSTALLER_OF_PLANT,
    "plants:checklist_tick": PLANT_CHANGE,
    "plants:checklist_untick": PLANT_CHANGE,
    "plants:checklist_site": PLANT_CHANGE,
    "plants:checklist_apply": PLANT_CHANGE,
    "plants:commissioning_finish": PLANT_CHANGE,
    "plants:report_issue": PLANT_CHANGE,
    "plants:report": PLANT_VIEW,
    "plants:datalogger_move": PLANT_CHANGE,
    "plants:datalogger_remove": PLANT_CHANGE,
    "plants:called_in": PLANT_CHANGE,
    "plants:grants": PLANT_CHANGE,
    "plants:grant_check": PLANT_CHANGE,
    "plants:grant_revoke": PLANT_CHANGE,
    "plants:archive": PLANT_ADMINISTER,
    "plants:accesses": PLANT_ADMINISTER,
    "plants:access_end": PLANT_ADMINISTER,
    "plants:member_plants": ADMINISTRATOR_OF_A,
    "devices:inverter": INSTALLER_OF_PLANT,
    "devices:firmware": LOGGED_IN,
    "devices:firmware_note": ADMIN,
    "devices:settings": INSTALLER_OF_PLANT,
    "devices:live": PLANT_CHANGE,
    "devices:live_values": PLANT_CHANGE,
    "devices:settings_read": PLANT_CHANGE,
    "devices:settings_write": PLANT_CHANGE,
    "devices:setting_changes": PLANT_CHANGE,
    "devices:replacement": PLANT_CHANGE,
    "alarms:list": LOGGED_IN,
    "alarms:export": LOGGED_IN,
    "alarms:detail": INSTALLER_OF_PLANT,
    "alarms:acknowledge": PLANT_CHANGE,
    "alarms:incident": PLANT_CHANGE,
    "alarms:note": PLANT_CHANGE,
    "alarm-incident": PLANT_CHANGE,
    "alarm-notes": PLANT_CHANGE,
    "alarms:catalogue": LOGGED_IN,
    "alarms:stick_leds": LOGGED_IN,
    "alarms:battery_leds": LOGGED_IN,
    "api-root": LOGGED_IN,
    "api-me": LOGGED_IN,
    "api-preferences": LOGGED_IN,
    "api-schema": LOGGED_IN,
    "api-docs": LOGGED_IN,
    "company-list": ADMIN,
    "company-detail": ADMIN,
    "company-activate": ADMIN,
    "company-deactivate": ADMIN,
    "account-request-list": ADMIN,
    "account-request-detail": ADMIN,
    "account-request-approve": ADMIN,
    "account-request-reject": ADMIN,
    "plant-list": LOGGED_IN,
    "plant-detail": PLANT_VIEW,
    "grant-list": INSTALLER,
    "grant-detail": PLANT_CHANGE,
    "photo-list": LOGGED_IN,
    "photo-detail": PLANT_VIEW,
    "datalogger-list": LOGGED_IN,
    "datalogger-detail": PLANT_VIEW,
    "datalogger-test": PLANT_CHANGE,
    "inverter-list": LOGGED_IN,
    "inverter-detail": PLANT_VIEW,
    "inverter-readings": PLANT_VIEW,
    "inverter-settings-read": PLANT_CHANGE,
    "inverter-settings-read-async": PLANT_CHANGE,
    "settings-read-detail": PLANT_CHANGE,
    "alarm-list": LOGGED_IN,
    "alarm-detail": PLANT_VIEW,
    "alarm-acknowledge": PLANT_CHANGE,
    "alarm-code-list": LOGGED_IN,
    "alarm-code-detail": LOGGED_IN,
    "alarm-policy": INSTALLER,
    "alarm-subscription": INSTALLER,
    "alarm-rule-list": INSTALLER,
    "alarm-rule-detail": INSTALLER,
    "maintenance-window-list": INSTALLER,
    "maintenance-window-detail": INSTALLER,
    "alarms:rules": INSTALLER,
    "alarms:my_emails": INSTALLER,
    "alarms:maintenance": PLANT_CHANGE,
    "alarms:maintenance_end": PLANT_CHANGE,
    "alarms:rule_delete": INSTALLER,
    "commissioning-detail": INSTALLER_OF_PLANT,
    "commissioning-tick": PLANT_CHANGE,
    "commissioning-untick": PLANT_CHANGE,
    "commissioning-site": PLANT_CHANGE,
    "commissioning-apply": PLANT_CHANGE,
    "commissioning-finish": PLANT_CHANGE,
    "commissioning-reports": PLANT_VIEW,
    "commissioning-report": PLANT_VIEW,
    "event-list": LOGGED_IN,
}
# A technician of A given none of A's plant, and a subcontractor whose lending of it has ended, are
# outsiders too.
OUTSIDERS = (
    "anonymous",
    "other_customer",
    "other_installer",
    "deactivated_installer",
    "limited_technician_a",
    "former_subcontractor",
)
# Members of A with less than the administrator's role: they see A's plants; a viewer changes
# nothing, a technician nothing that only administrators do (the URLs of these policies, the team,
# a plant's deletion through the API). A technician's other writes are theirs to make: the sweep
# does not send them (a deletion would leave nothing to check the next URLs with).
MEMBERS = ("viewer_a", "technician_a", "subcontractor")
TECHNICIANS = ("technician_a", "subcontractor")  # their writes on A's plant are theirs to make
ADMINISTRATORS_ONLY = {PLANT_ADMINISTER, ADMIN, OWN_TOKEN, DJANGO_ADMIN}
ADMINISTRATORS_ONLY_URLS = {"team", "plant-detail"}
DEVICE_READS = {"inverter-settings-read"}  # read from the inverter itself, through A's (absent) logger
# GET answers for the outsiders and the admin, by policy (a page's login redirect is a 302).
GET_ANSWERS = {
    PUBLIC: {actor: None for actor in (*OUTSIDERS, "admin")},  # anything but a 5xx
    LOGGED_IN: {"anonymous": {302, 401, 403}, "deactivated_installer": {302, 401, 403}},
    INSTALLER: {
        "anonymous": {302, 401, 403},
        "deactivated_installer": {302, 401, 403},
        "other_customer": {403},
        "admin": {403},
    },
    ADMIN: {
        "anonymous": {302, 401, 403},
        "deactivated_installer": {302, 401, 403},
        "other_customer": {403},
        "other_installer": {403},
        "admin": {200, 302, 405},
    },
    PLANT_VIEW: {
        "anonymous": {302, 401, 403},
        "deactivated_installer": {302, 401, 403},
        "other_customer": {404},
        "other_installer": {404},
        "admin": {200},
        "viewer_a": {200},
        "technician_a": {200},
        "subcontractor": {200},
        "limited_technician_a": {404},
        "former_subcontractor": {404},
    },
    PLANT_CHANGE: {
        "anonymous": {302, 401, 403, 405},
        "deactivated_installer": {302, 401, 403, 405},
        "other_customer": {403, 404, 405},
        "other_installer": {403, 404, 405},
        "admin": {403, 404, 405},
        "viewer_a": {403, 404, 405},
    },
    PLANT_ADMINISTER: {
        "anonymous": {302, 401, 403, 405},
        "deactivated_installer": {302, 401, 403, 405},
        "other_customer": {403, 404, 405},
        "other_installer": {403, 404, 405},
        "admin": {403, 404, 405},
        "viewer_a": {403, 404, 405},
        "technician_a": {403, 404, 405},
        "subcontractor": {403, 404, 405},
    },
    ADMINISTRATOR_OF_A: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {403},
        "other_installer": {404},
        "admin": {403},
        "viewer_a": {403},
        "technician_a": {403},
        "limited_technician_a": {403},
        "subcontractor": {404},
    },
    INSTALLER_OF_PLANT: {
        "anonymous": {302, 401, 403},
        "deactivated_installer": {302, 401, 403},
        "other_customer": {403, 404},
        "other_installer": {404},
        "admin": {200},
    },
    DJANGO_ADMIN: {actor: {302, 404, 405} for actor in (*OUTSIDERS, "admin")},
    CUSTOMER: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {200},  # their own account
        "other_installer": {403},
        "admin": {403},
    },
    OWN_COPY: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {404},
        "other_installer": {403},
        "admin": {403},
    },
    OWN_EXPORT: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {404},
        "other_installer": {404},
        "admin": {404},  # sees the plant, but the file is the installer's who asked
    },
    OWN_TOKEN: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {404, 405},
        "other_installer": {404, 405},
        "admin": {404, 405},
        "viewer_a": {404, 405},  # the administrator's token and the company's webhook
        "technician_a": {404, 405},
    },
    INVITEE: {
        "anonymous": {302},
        "deactivated_installer": {302},
        "other_customer": {404},
        "other_installer": {404},
        "admin": {404},
    },
}


def _patterns(resolvers, namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            regex = entry.pattern.regex
            yield f"{namespace}{entry.name}", tuple(sorted(regex.groupindex))


def all_url_names():
    return sorted(set(_patterns(get_resolver().url_patterns)), key=lambda item: item[0])


def policy_of(name):
    if name.startswith("admin:"):
        return PUBLIC if name == "admin:login" else DJANGO_ADMIN
    return POLICIES.get(name)


@pytest.fixture
def world(db, settings, tmp_path):
    """Company A's plant and everything on it; the outsiders; the admin."""
    settings.MEDIA_ROOT = tmp_path
    a = Company.objects.create(name="A", address="-", mobile_phone="0600000000", email="a@a.fr")
    b = Company.objects.create(name="B", address="-", mobile_phone="0600000001", email="b@b.fr")
    gone = Company.objects.create(
        name="C", address="-", mobile_phone="0600000002", email="c@c.fr", is_active=False
    )
    installer = make_user("installer_a", User.Role.INSTALLER, a)
    customer = make_user("customer_a", User.Role.CUSTOMER)
    plant = make_plant(a, name=SECRET)
    other_plant = make_plant(b, name="Ferme B")
    other_customer = make_user("customer_b", User.Role.CUSTOMER)
    PlantGrant.objects.create(
        plant=other_plant, customer=other_customer, granted_by=installer, accepted_at=now()
    )
    grant = PlantGrant.objects.create(plant=plant, customer=customer, granted_by=installer, accepted_at=now())
    logger = Datalogger.objects.create(plant=plant, serial_number=SECRET_SN, reach="direct", host="192.0.2.1")
    inverter = Inverter.objects.create(datalogger=logger, serial_number="KSSECRET01")
    alarm = Alarm.objects.create(
        plant=plant, datalogger=logger, inverter=inverter, code_id="F13", started_at=plant.created_at
    )
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "PNG")
    photo = photo_add(plant=plant, by=installer, upload=SimpleUploadedFile("a.png", buffer.getvalue()))
    request = ProAccountRequest.objects.create(
        company_name="D", address="-", mobile_phone="0600000003", email="d@d.fr", login="newpro",
        customer_account_number="42",
    )  # fmt: skip
    actors = {
        "anonymous": None,
        "other_customer": other_customer,
        "other_installer": make_user("installer_b", User.Role.INSTALLER, b),
        "deactivated_installer": make_user("installer_c", User.Role.INSTALLER, gone),
        "admin": make_user("distributor", User.Role.DISTRIBUTOR_ADMIN),
        "viewer_a": make_user("viewer_a", User.Role.INSTALLER, a, company_role="viewer"),
        "technician_a": make_user("technician_a", User.Role.INSTALLER, a, company_role="technician"),
        "limited_technician_a": make_user(
            "limited_a", User.Role.INSTALLER, a, company_role="technician", all_plants=False
        ),
        "subcontractor": make_user("sub_b", User.Role.INSTALLER, b, borrows_plants=True),
        "former_subcontractor": make_user("former_b", User.Role.INSTALLER, b, borrows_plants=True),
    }
    objects = {
        "plant": plant, "logger": logger, "inverter": inverter, "alarm": alarm, "photo": photo,
        "grant": grant, "company": a, "request": request, "code": alarm.code,
        "read": SimpleNamespace(pk=remote.settings_read_request(inverter=inverter, by=installer)),
        "change": SettingChange.objects.create(
            inverter=inverter, plant=plant, by=installer, key="working_mode", old_value=0, new_value=2
        ),
        "report": HandoverReport.objects.create(
            plant=plant, created_by=installer, sha256="0" * 64,
            pdf=SimpleUploadedFile("report.pdf", b"%PDF-1.7 " + SECRET.encode()),
        ),
    }  # fmt: skip
    Tick.objects.create(plant=plant, item="stop_order_explained", by=installer)
    objects["window"] = MaintenanceWindow.objects.create(
        plant=plant, by=installer, ends_at=now() + timedelta(hours=4)
    )
    objects["readings_export"] = ReadingsExport.objects.create(
        user=installer, plant=plant, first=date(2026, 1, 1), last=date(2026, 12, 31), language="fr",
        status=ReadingsExport.Status.READY, expires_at=now() + timedelta(days=1),
        file=SimpleUploadedFile("readings.csv", SECRET.encode()),
    )  # fmt: skip
    objects["api_token"], _secret = api_token_create(
        user=installer, name=SECRET, scopes=["read"], expires_at=now() + timedelta(days=30)
    )
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    objects["webhook"] = webhook_create(user=installer, name=SECRET, url="http://127.0.0.1:9/")
    objects["saved_filter"] = SavedFilter.objects.create(user=installer, name=SECRET, query="status=offline")
    actors["limited_technician_a"].assigned_plants.set([make_plant(a, name="Autre centrale A")])
    objects["access"] = PlantAccess.objects.create(
        plant=plant, user=actors["subcontractor"], ends_at=now() + timedelta(days=1), given_by=installer
    )
    PlantAccess.objects.create(
        plant=plant, user=actors["former_subcontractor"], starts_at=now() - timedelta(days=2),
        ends_at=now() - timedelta(seconds=1), given_by=installer,
    )  # fmt: skip
    objects["member"] = actors["technician_a"]
    objects["settings_job"] = SettingsJob.objects.create(company=a, by=installer, preset={"charge_limit": 50})
    objects["tariff"] = Tariff.objects.create(
        plant=plant, valid_from=date(2026, 1, 1), base_price=Decimal("0.25")
    )
    objects["rule"] = ThresholdRule.objects.create(
        company=a, name="SOC", value="battery_soc", comparison="below", threshold=15, minutes=30
    )
    return actors, objects


KWARGS_BY_BASENAME = {
    "plant": "plant", "grant": "grant", "photo": "photo", "datalogger": "logger", "inverter": "inverter",
    "alarm": "alarm", "company": "company", "account-request": "request", "alarm-code": "code",
    "setting-change": "change",
    "settings-read": "read",
    "commissioning": "plant",
    "alarm-rule": "rule",
    "maintenance-window": "window",
}  # fmt: skip


PAGE_OBJECTS = {
    "devices:settings": "inverter",
    "devices:live": "inverter",
    "devices:live_values": "inverter",
    "devices:settings_read": "inverter",
    "devices:settings_write": "inverter",
    "devices:setting_changes": "inverter",
    "devices:replacement": "inverter",
    "alarms:detail": "alarm",
    "alarms:acknowledge": "alarm",
    "alarms:incident": "alarm",
    "alarms:note": "alarm",
    "alarms:rule_delete": "rule",
    "alarms:maintenance": "plant",
    "alarms:maintenance_end": "plant",
    "devices:inverter": "inverter",
    "company_detail": "company",
    "company_set_active": "company",
    "account_request_detail": "request",
    "energy:daily_csv": "plant",
    "energy:battery": "plant",
    "economics:savings": "plant",
    "economics:savings_csv": "plant",
    "economics:tariffs": "plant",
    "economics:tariff_delete": "plant",
    "economics:monthly_report": "plant",
    "economics:charge_schedule": "plant",
    "devices:settings_job": "settings_job",
    "devices:settings_job_run": "settings_job",
    "devices:settings_job_cancel": "settings_job",
    "energy:readings_csv": "plant",
    "energy:readings_export": "plant",
    "energy:readings_export_download": "plant",
    "api_token_revoke": "api_token",
    "plants:saved_filter_delete": "saved_filter",
    "webhook": "webhook",
    "webhook_test": "webhook",
    "webhook_enable": "webhook",
    "webhook_delete": "webhook",
}


def object_key(name):
    """Which of A's objects a URL's `pk` names."""
    if name in PAGE_OBJECTS:
        return PAGE_OBJECTS[name]
    if name.startswith("plants:"):
        return "plant"
    basename = max((b for b in KWARGS_BY_BASENAME if name.startswith(b + "-")), key=len)
    return KWARGS_BY_BASENAME[basename]


FIXED_ARGUMENTS = {
    "variant": "thumb",
    "step": "datalogger",
    "decision": "reject",
    "item": "stop_order_explained",
    "month": "2026-11",
}


def url_for(name, kwargs_names, objects):
    """The URL `name` with A's objects in its arguments (None: an argument this test cannot fill)."""
    kwargs = {}
    for arg in kwargs_names:
        if arg == "format":
            kwargs[arg] = "json"
        elif arg == "pk":
            kwargs[arg] = objects[object_key(name)].pk
        elif arg in (
            "photo_pk",
            "logger_pk",
            "grant_pk",
            "inverter_pk",
            "report_pk",
            "window_pk",
            "export_pk",
            "access_pk",
            "member_pk",
            "tariff_pk",
        ):
            names = {
                "export_pk": "readings_export",
                "access_pk": "access",
                "member_pk": "member",
                "tariff_pk": "tariff",
                "photo_pk": "photo",
                "logger_pk": "logger",
                "grant_pk": "grant",
                "inverter_pk": "inverter",
                "report_pk": "report",
                "window_pk": "window",
            }
            kwargs[arg] = objects[names[arg]].pk
        elif arg in FIXED_ARGUMENTS:
            kwargs[arg] = FIXED_ARGUMENTS[arg]
        elif arg == "token" and name == "plants:invitation":
            kwargs[arg] = objects["grant"].token
        elif arg in ("uidb64", "token"):
            kwargs[arg] = "x"
        else:
            return None
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        return None


# Each table's rows in the order of its first column (its key).
FINGERPRINT_SQL = "SELECT " + ", ".join(
    f"(SELECT md5(coalesce(string_agg(({columns})::text, ',' ORDER BY {columns.split(',')[0]}), ''))"
    f" FROM {table})"
    for table, columns in [
        ("portal_company", "id, is_active, name"),
        ("portal_user", "id, is_active, role, company_id, email, company_role, all_plants"),
        ("plants_plant", "id, name, archived_at, notes"),
        ("devices_datalogger", "id, plant_id, archived_at, host, port"),
        ("plants_plantgrant", "id, plant_id, customer_id"),
        ("plants_plantaccess", "id, ends_at"),
        ("plants_plant_members", "id, plant_id, user_id"),
        ("plants_plantphoto", "id, caption"),
        ("alarms_alarm", "id, acknowledged_at, note, plant_id, cleared_at, status, assignee_id"),
        ("alarms_alarmnote", "id, text"),
        ("portal_proaccountrequest", "id, status"),
        ("commissioning_tick", "id, item, reason"),
        ("alarms_thresholdrule", "id, threshold, enabled"),
        ("alarms_maintenancewindow", "id, ends_at"),
        ("commissioning_site", "plant_id, breaker_distance_m, grid_standard_reason"),
        ("commissioning_handoverreport", "id, sha256"),
        ("devices_settingchange", "id, outcome"),
        ("integrations_apitoken", "id, revoked_at, name"),
        ("integrations_webhook", "id, enabled, name, url"),
        ("economics_tariff", "id, base_price, valid_from"),
        ("economics_tempoday", "id, colour"),
        ("economics_chargeschedule", "id, enabled"),
        ("devices_settingsjob", "id, status"),
    ]
)


def fingerprint():
    """What an outsider must never change, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL)
        return cursor.fetchone()


def content_of(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def client_for(user):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user, backend="accounts.backends.ActiveCompanyBackend")
    return client


def test_every_url_is_declared():
    undeclared = [name for name, _args in all_url_names() if policy_of(name) is None]
    assert undeclared == [], f"declare these URLs in POLICIES: {undeclared}"


@pytest.mark.slow  # a sweep: every URL for every actor (tests/README.md)
def test_every_openapi_path_is_a_declared_url(admin_user):
    client = client_for(admin_user)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    for path in schema["paths"]:
        token = "0" * 32 if "settings-reads" in path else "1"  # a background read's id is a token
        match = resolve(path.replace("{id}", token).replace("{report_pk}", "1"))
        assert policy_of(match.view_name) is not None, path


def methods_for(actor, name, policy):
    if policy == DJANGO_ADMIN:
        return ["get"]
    if actor in TECHNICIANS and policy not in ADMINISTRATORS_ONLY and name not in ADMINISTRATORS_ONLY_URLS:
        return ["get"]
    return ["get", "post", "put", "patch", "delete"]


def is_server_error(response, name, actor):
    """A 5xx, but for an honest 503: the health check's, or a live read of A's absent stick."""
    if response.status_code == 503 and (name == "healthz" or (name in DEVICE_READS and actor in TECHNICIANS)):
        return False
    return response.status_code >= 500


@pytest.mark.slow  # a sweep: every URL for every actor (tests/README.md)
@pytest.mark.parametrize("actor", [*OUTSIDERS, "admin", *MEMBERS])
def test_the_access_matrix(world, actor):
    actors, objects = world
    user = actors[actor]
    failures = []
    client = client_for(user)
    for name, args in all_url_names():
        url = url_for(name, args, objects)
        if url is None:
            continue
        policy = policy_of(name)
        for method in methods_for(actor, name, policy):
            before = fingerprint()
            response = getattr(client, method)(url)
            if name == "logout":
                client = client_for(user)
            body = content_of(response)
            if is_server_error(response, name, actor):
                failures.append(f"{method.upper()} {url} as {actor}: {response.status_code}")
                continue
            if actor in OUTSIDERS or method != "get":
                if actor in OUTSIDERS and (SECRET in body or SECRET_SN in body):
                    failures.append(f"{method.upper()} {url} as {actor}: shows company A's data")
                changed = fingerprint() != before
                if changed and not (actor == "admin" and policy == ADMIN):
                    failures.append(f"{method.upper()} {url} as {actor}: changed the database")
            expected = GET_ANSWERS[policy].get(actor) if method == "get" else None
            if expected and response.status_code not in expected:
                failures.append(
                    f"GET {url} ({policy}) as {actor}: {response.status_code}, expected {expected}"
                )
    assert not failures, "\n".join(failures)


BEFORE = ["4242", "AVANT-REMISE", "NOTE-AVANT", "4343", "77777", "11111"]  # the previous owner's


@pytest.fixture
def handed_over(world):
    """A's plant handed over half an hour ago, with the previous owner's rows on every read path
    before that moment (markers BEFORE) and the new owner's after it."""
    actors, objects = world
    plant, inverter, installer = objects["plant"], objects["inverter"], objects["change"].by
    moment = now() - timedelta(minutes=30)
    before, after = moment - timedelta(minutes=20), moment + timedelta(minutes=10)
    slot = lambda t: t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0)  # noqa: E731
    Reading.objects.create(inverter=inverter, slot=slot(before), pv_power=4242)
    Reading.objects.create(inverter=inverter, slot=slot(after), pv_power=5151)
    InverterLive.objects.create(inverter=inverter, values={"pv_power": 4343}, at=before)
    Alarm.objects.filter(pk=objects["alarm"].pk).update(started_at=before, note="NOTE-AVANT")
    PlantPhoto.objects.filter(pk=objects["photo"].pk).update(created_at=before, caption="AVANT-REMISE")
    SettingChange.objects.filter(pk=objects["change"].pk).update(created_at=before, new_value=1)
    day = localdate(moment, plant.tzinfo)
    for d, wh in ((day, 77777), (day - timedelta(days=1), 11111)):
        DailyEnergy.objects.create(plant=plant, company=plant.company, day=d, production_wh=wh)
    plant_transfer(plant=plant, by=installer, email="nouveau@exemple.fr", password="Nouveau-Proprio-2026")
    Plant.objects.filter(pk=plant.pk).update(customer_history_since=moment)
    PlantGrant.objects.filter(plant=plant).update(accepted_at=now())
    return User.objects.get(email="nouveau@exemple.fr"), objects, day


def _bodies(response):
    """The response's text; every member's for a ZIP (the customer's data export)."""
    if response.get("Content-Type") == "application/zip":
        with zipfile.ZipFile(io.BytesIO(content_of_bytes(response))) as archive:
            return [archive.read(name).decode("utf-8-sig") for name in archive.namelist()]
    return [content_of(response)]


def content_of_bytes(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_new_owner_reads_nothing_from_before_the_hand_over(handed_over):
    owner, objects, day = handed_over
    plant, inverter = objects["plant"], objects["inverter"]
    client = client_for(owner)
    export, _new = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    extra = [
        reverse("my_data_download", args=[export.token]),
        f"/api/v1/inverters/{inverter.pk}/readings/?since=2000-01-01T00:00:00Z",
        f"/api/v1/plants/{plant.pk}/power/?date={day}",
        f"/api/v1/plants/{plant.pk}/energy/?period=month&date={day:%Y-%m}",
        f"/api/v1/plants/{plant.pk}/energy/?period=year&date={day:%Y}",
        f"/api/v1/plants/{plant.pk}/energy/?period=total",
        f"/api/v1/setting-changes/?plant={plant.pk}",
        reverse("energy:readings_csv", args=[plant.pk]) + f"?start={day - timedelta(days=2)}&end={day}",
        reverse("energy:daily_csv", args=[plant.pk]) + f"?start={day - timedelta(days=2)}&end={day}",
    ]
    urls = [url_for(name, args, objects) for name, args in all_url_names() if not name.startswith("admin:")]
    failures = []
    for url in [u for u in urls if u] + extra:
        response = client.get(url)
        for body in _bodies(response):
            failures += [f"GET {url}: {marker}" for marker in BEFORE if marker in body]
    assert not failures, "\n".join(failures)
    readings = client.get(extra[1]).json()["results"]
    assert [r["pv_power"] for r in readings] == [5151]  # the new owner's own history is there
    assert client.get(f"/api/v1/alarms/{objects['alarm'].pk}/").status_code == 404
    assert client.get(f"/api/v1/photos/{objects['photo'].pk}/").status_code == 404
