"""Who may do what, said once: `restrict(user, action)` on every queryset (NetBox's verb).

Actions are "view", "change" and "administer" (what only a company's administrators do: hand a plant
over, delete it). Plants carry the rule; everything attached to a plant (loggers,
inverters, alarms, grants, photos) is restricted through its plant, so that pages, API viewsets and
JSON / CSV endpoints share one answer.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import DateField, F, Func, Q
from django.http import HttpRequest

VIEW, CHANGE, ADMINISTER = "view", "change", "administer"
ACTIONS = (VIEW, CHANGE, ADMINISTER)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # reading: "view"; anything else changes

# What an API token may be used for (integrations.ApiToken.scopes). A token never does more than its
# user may; its scopes narrow that further. Reading is "read"; each write is declared by its view
# (`token_scope`, or `token_scopes` by action, which may also put a read behind a write scope: the
# inverter's settings are read live from the device); an undeclared write needs "manage"
# (core.access.TokenScope).
READ, ALARMS, CONTROL, MANAGE, ADMIN = "read", "alarms", "control", "manage", "admin"


class LocalDate(Func):
    """A moment's date in a time zone column: LocalDate(F("moment"), F("time_zone"))."""

    arg_joiner = " AT TIME ZONE "
    template = "((%(expressions)s)::date)"
    output_field = DateField()


class RestrictedByPlantQuerySet(models.QuerySet):
    """A queryset of things attached to a plant through `plant_path`.

    The hand-over boundary: where `history_field` is set (the row's moment, or with `history_by_day`
    its local day or month), an end customer sees nothing from before the plant's
    `customer_history_since` (set when the plant changed owner; Plant.history_since_for). A row
    dated by day is shown only from the day after the hand-over: the hand-over day mixes both owners.
    Every read path of a customer goes through this or Plant.history_since_for
    (docs/architecture/invariants.md).
    """

    plant_path = "plant"
    history_field = None
    history_by_day = False

    def restrict(self, user: Any, action: str = VIEW) -> models.QuerySet:
        rows = self.filter(**{f"{self.plant_path}__in": self.plant_model().objects.restrict(user, action)})
        if self.history_field and user.is_authenticated and user.is_customer:
            rows = rows.filter(self.history_visible())
        return rows

    def plant_model(self) -> Any:
        """The plant model, found by following `plant_path` (this layer imports no app above it)."""
        model = self.model
        for name in self.plant_path.split("__"):
            model = model._meta.get_field(name).related_model
        return model

    def history_visible(self) -> Q:
        since = F(f"{self.plant_path}__customer_history_since")
        if self.history_by_day:
            bound = Q(**{f"{self.history_field}__gt": LocalDate(since, F(f"{self.plant_path}__time_zone"))})
        else:
            bound = Q(**{f"{self.history_field}__gte": since})
        return Q(**{f"{self.plant_path}__customer_history_since__isnull": True}) | bound


def api_action(request: HttpRequest) -> str:
    """The action an API request needs: reading is "view", anything else is "change"."""
    return VIEW if request.method in SAFE_METHODS else CHANGE


def abilities(request: HttpRequest) -> dict[str, dict[str, bool]]:
    """What the page templates may offer the user (a context processor): the role rules stay here."""
    # No user when a request is refused before authentication (an unknown Host header): anonymous.
    user: Any = getattr(request, "user", None) or AnonymousUser()
    installer = user.is_authenticated and user.is_installer and user.may_change  # not a company's viewer
    pro = user.is_authenticated and not user.is_customer
    return {
        "can": {
            "administer": user.is_authenticated and user.is_distributor_admin,
            "create_plant": installer,
            "commission": installer,
            "manage_customers": installer,
            "export": pro,
            "open_alarms": pro,
            "see_fleet_tools": pro,
        }
    }
