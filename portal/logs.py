"""One log format for every process: time, level, request id and user id, then the logger and the
message; JSON lines when LOG_FORMAT=json (for a log collector).

The request id is django-guid's (the X-Request-ID a proxy sent, else a new one, returned in the
response and carried into the Celery tasks the request starts); the user id is set by
`UserIdMiddleware` once the user is known. Outside a request both read "-".
"""

import logging
from contextvars import ContextVar

current_user_id = ContextVar("current_user_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(correlation_id)s] user=%(user_id)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(correlation_id)s %(user_id)s %(name)s %(message)s"
JSON_NAMES = {"asctime": "time", "levelname": "level", "correlation_id": "request_id", "name": "logger"}


class UserId(logging.Filter):
    """Adds `user_id` to every record (the id of the user whose request is being served)."""

    def filter(self, record):
        record.user_id = current_user_id.get()
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = "-"
        return True


class UserIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Not reset on the way out: Django logs a response's status (404, 500) after the middlewares
        # returned. The next request of the thread sets it again.
        user = getattr(request, "user", None)
        current_user_id.set(str(user.pk) if user is not None and user.is_authenticated else "-")
        return self.get_response(request)


def logging_config(*, level, json):
    """The LOGGING setting."""
    json_formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": JSON_FIELDS,
        "rename_fields": JSON_NAMES,
    }
    formatter = json_formatter if json else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "django_guid.log_filters.CorrelationId"},
            "user_id": {"()": "portal.logs.UserId"},
        },
        "formatters": {"portal": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "portal",
                "filters": ["request_id", "user_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "pymodbus": {"level": "CRITICAL"},
            "pysolarmanv5": {"level": "CRITICAL"},
            "axes": {"level": "WARNING"},
            "django_guid": {"level": "WARNING"},  # a line per request saying it made an id
        },
    }
