"""Settings for the AURA installer portal, read from the environment.

Every value that differs between a laptop, CI and production comes from an environment variable,
read by the strict helpers below: a malformed value stops start-up instead of being guessed.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false).")


def env_networks(name, default):
    value = os.environ.get(name, default)
    try:
        return [ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()]
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}={value!r}: {e}") from None


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Without a key of its own, only a development run may start: sessions would otherwise be forgeable.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Served behind TLS in production; a demo or test run on plain HTTP sets HTTPS=0.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the containers' health checks speak plain HTTP inside
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",  # the widgets' own templates, for TemplatesSetting below
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_guid",
    "core",
    "accounts",
    "plants",
    "devices",
    "alarms",
    "energy",
    "economics",
    "commissioning",
    "monitoring",
    "privacy",
    "integrations",
    "portal",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "core.edge.RefuseNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.logs.UserIdMiddleware",
    "core.metrics.RequestLatencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.scoping.abilities",
                "core.context.hotline",
                "core.context.theme",
                "core.context.styles",
            ],
        },
    },
]

# Widgets render through the project's templates too (plants/widgets/plant_picker.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aura"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
# PostgreSQL's JIT compiles a query whose estimated cost is high, which costs ~0.7 s on this kind of
# short fleet query (measured by make bench-web) and never pays back on a web request: off.
# A random read costs about a sequential one on SSDs and in cache (1.1, PostgreSQL's usual advice
# for them, against the default 4 made for spinning disks): the planner then reaches a fleet's few
# active alarms through their plants' keys instead of scanning every plant of the company.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c random_page_cost=1.1"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ActiveCompanyBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # an invitation link stays valid three days

# Login throttling: ten failures for one login from one address lock it for a while.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# A login is locked after AXES_FAILURE_LIMIT failures from one address, and so is an address whose
# failures reach the limit across many logins (password spraying).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# Reverse proxies in front of the portal (1 behind the stack's Caddy): the client's address is read
# from X-Forwarded-For that many entries from the right (core.edge.client_address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.edge.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "core.edge.axes_username"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files in production (after collectstatic); plain files in dev and tests.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded photos are never served from a public URL: a view checks who may see them.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# `manage.py backup`: where archives go, and how many are kept (the oldest are removed).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# Months of 5-minute history kept; older months are rolled up by the hour (devices.ReadingHour).
READINGS_RETENTION_MONTHS = env_int("READINGS_RETENTION_MONTHS", 13)
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 8 * 1024 * 1024)
# Decoding is refused above this many megapixels (a few-kB PNG can declare 20,000 × 20,000).
PHOTO_MAX_MEGAPIXELS = env_int("PHOTO_MAX_MEGAPIXELS", 40)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AURA <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where the distributor hears of new pro-account requests.
DISTRIBUTOR_EMAIL = env_str("DISTRIBUTOR_EMAIL", "")
# The distributor's technical hotline, shown where the portal tells an installer to call it
# (failed checks, alarm hints, the LED helper). The guide gives the hours and the e-mail, no number.
HOTLINE = {
    "name": env_str("HOTLINE_NAME", "Hotline Bourgeois Global"),
    "phone": env_str("HOTLINE_PHONE", ""),
    "email": env_str("HOTLINE_EMAIL", "contact@bourgeoisglobal.fr"),
    "hours": env_str("HOTLINE_HOURS", "du lundi au vendredi, 9 h – 12 h et 13 h 30 – 17 h"),
}
# Absolute links in e-mails (set-password, alarms) are built on this address.
PORTAL_URL = env_str("PORTAL_URL", "http://localhost:8000").rstrip("/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token's first: its WWW-Authenticate header makes a refused request a 401.
        "integrations.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.throttling.ApiTokenQuota"],
    "DEFAULT_PERMISSION_CLASSES": ["core.access.TokenScope", "rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.edge.BoundedPagination",
    # Decimals (kWp, kWh, %) are JSON numbers, as the schema says.
    "COERCE_DECIMAL_TO_STRING": False,
    # JSON bodies; the photo upload alone takes multipart.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "PAGE_SIZE": 50,
}
# Only the portal's own (vendored) scripts and styles; no inline script; no inline style but the
# portal's own stylesheets on a first visit, under the response's nonce (core.context.styles); no
# framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],  # the camera preview of the SN scan
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AURA installer portal API",
    "DESCRIPTION": "Plants, devices and alarms of an AURA installer fleet.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",  # for `webhooks`
    "WEBHOOKS": ["integrations.serializers.event_webhook"],
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api_schema.document_errors",
    ],
    # The schema and its docs page need a login, unless API_DOCS_PUBLIC=1.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if env_bool("API_DOCS_PUBLIC", False)
        else "rest_framework.permissions.IsAuthenticated"
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page is served from our own static files: the portal must work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "devices.models.DeviceStatus.choices",
        "AccountRequestStatusEnum": "accounts.models.RequestStatus.choices",
        "IncidentStatusEnum": "alarms.models.Incident.choices",
    },
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message taken by a worker that died comes back after this long (`make soak` shortens it).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Device polling (see devices/): one cycle a minute, batches polled concurrently by the workers.
POLL_INTERVAL_SECONDS = env_int("POLL_INTERVAL_SECONDS", 60)
# /healthz: the bearer token that shows what is down and why (staff see it logged in; anyone else
# gets the status only), and how long a deep report is kept.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN", "")
# How long a customer's copy of their data stays downloadable (days).
DATA_EXPORT_DAYS = env_int("DATA_EXPORT_DAYS", 7)
# A readings CSV longer than this many rows (at most: inverters × days × 288) is built in the
# background and offered as a file for EXPORT_DAYS days (energy.exports).
EXPORT_BACKGROUND_ROWS = env_int("EXPORT_BACKGROUND_ROWS", 300_000)
EXPORT_DAYS = env_int("EXPORT_DAYS", 2)
# API tokens (integrations): each token's quota, API_TOKEN_QUOTA requests per
# API_TOKEN_QUOTA_SECONDS (then 429 with Retry-After), and how long a token may be made to last.
API_TOKEN_QUOTA = env_int("API_TOKEN_QUOTA", 120)
API_TOKEN_QUOTA_SECONDS = env_int("API_TOKEN_QUOTA_SECONDS", 60)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 366)
# Battery health findings: P07 under this state of health (the warranty's level, in %); P08 when it
# falls more than BATTERY_SOH_DROP_PCT points within BATTERY_SOH_DROP_DAYS days.
BATTERY_WARRANTY_SOH_PCT = env_int("BATTERY_WARRANTY_SOH_PCT", 70)
BATTERY_SOH_DROP_PCT = env_int("BATTERY_SOH_DROP_PCT", 5)
BATTERY_SOH_DROP_DAYS = env_int("BATTERY_SOH_DROP_DAYS", 90)
# Days the events feed keeps an event (GET /api/v1/events/).
EVENT_DAYS = env_int("EVENT_DAYS", 90)
# Webhooks: the private ranges they may reach (none by default), the wait for an answer, the attempts
# of one delivery, the hours of failing after which a webhook is disabled, the dispatch interval.
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS", "")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 12)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24)
WEBHOOK_DISPATCH_SECONDS = env_int("WEBHOOK_DISPATCH_SECONDS", 10)
HEALTHZ_DEEP_CACHE_SECONDS = env_int("HEALTHZ_DEEP_CACHE_SECONDS", 5)
# /metrics (Prometheus): a bearer token, or the scrapers' networks (none by default: refused).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", "")
if POLL_INTERVAL_SECONDS < 60:
    # A dead logger may take ~45 s to give up (5 s timeout, one retry, four reads): a batch task must
    # be able to finish within one cycle.
    raise ImproperlyConfigured("POLL_INTERVAL_SECONDS must be at least 60.")
# Time limits below the cycle length, so that a stuck batch never overlaps the next cycle's.
CELERY_TASK_SOFT_TIME_LIMIT = POLL_INTERVAL_SECONDS - 10
CELERY_TASK_TIME_LIMIT = POLL_INTERVAL_SECONDS - 5
# How often an open plant dashboard refreshes its live power flow (seconds).
DASHBOARD_REFRESH_SECONDS = env_int("DASHBOARD_REFRESH_SECONDS", 30)
# How often the beat recomputes each company's fleet-home power and energy (seconds).
FLEET_FIGURES_SECONDS = 60
POLL_BATCH_SIZE = env_int("POLL_BATCH_SIZE", 1000)
POLL_CONCURRENCY = env_int("POLL_CONCURRENCY", 400)
DEVICE_TIMEOUT_SECONDS = float(env_str("DEVICE_TIMEOUT_SECONDS", "5"))
DEVICE_RETRIES = env_int("DEVICE_RETRIES", 1)
DEVICE_REQUEST_GAP_SECONDS = float(env_str("DEVICE_REQUEST_GAP_SECONDS", "0.1"))
DEVICE_OFFLINE_AFTER_MISSED = env_int("DEVICE_OFFLINE_AFTER_MISSED", 3)
# The logger hub (devices.hub): sticks call in on its public port; pollers use its local relay.
LOGGER_HUB_PORT = env_int("LOGGER_HUB_PORT", 10000)
LOGGER_HUB_RELAY_HOST = env_str("LOGGER_HUB_RELAY_HOST", "127.0.0.1")
LOGGER_HUB_RELAY_PORT = env_int("LOGGER_HUB_RELAY_PORT", 10001)
# What installers type as Server B on the stick: the portal's public address.
LOGGER_HUB_PUBLIC_HOST = env_str("LOGGER_HUB_PUBLIC_HOST", "portal.example.fr")
# Remote control: how long a write or a live read waits for the stick's lock, and how many writes an
# inverter takes in 10 minutes.
REMOTE_LOCK_WAIT_SECONDS = float(env_str("REMOTE_LOCK_WAIT_SECONDS", "30"))
REMOTE_WRITES_PER_10_MINUTES = env_int("REMOTE_WRITES_PER_10_MINUTES", 10)
LIVE_LOCK_WAIT_SECONDS = float(env_str("LIVE_LOCK_WAIT_SECONDS", "5"))
# Private or loopback ranges the portal may connect to for direct loggers (e.g. a VPN), comma-separated.
DATALOGGER_ALLOWED_NETWORKS = env_networks("DATALOGGER_ALLOWED_NETWORKS", "")
# The inverter's identity (serial, model, firmware) is read hourly, and every 10 minutes until known.
IDENTITY_REFRESH = timedelta(minutes=env_int("IDENTITY_REFRESH_MINUTES", 60))
IDENTITY_RETRY = timedelta(minutes=env_int("IDENTITY_RETRY_MINUTES", 10))
HISTORY_RESOLUTION_MINUTES = env_int("HISTORY_RESOLUTION_MINUTES", 5)
# Alarm e-mails: the same code on the same device within this period sends no second e-mail.
ALARM_QUIET_MINUTES = env_int("ALARM_QUIET_MINUTES", 60)

# One format everywhere (portal.logs): time, level, request id, user id; JSON lines with LOG_FORMAT=json.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use text or json.")
LOGGING = logging_config(level=env_str("LOG_LEVEL", "INFO"), json=LOG_FORMAT == "json")
# The request id: a proxy's X-Request-ID is kept (Caddy sends one), else one is made; it is returned
# in the response and carried into the Celery tasks a request starts.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "RETURN_HEADER": True,
    "INTEGRATIONS": [],
}
# What the commissioning form proposes for a new logger's address (the demo points it at the simulator).
DEFAULT_LOGGER_HOST = env_str("DEFAULT_LOGGER_HOST", "")
DEFAULT_LOGGER_PORT = env_int("DEFAULT_LOGGER_PORT", 8899)
