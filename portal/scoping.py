"""Who may do what, said once: `restrict(user, action)` on every queryset (NetBox's verb).

Actions are "view" and "change". Plants carry the rule; everything attached to a plant (loggers,
inverters, alarms, grants, photos) is restricted through its plant, so that pages, API viewsets and
JSON / CSV endpoints share one answer.
"""

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import F, Q

VIEW, CHANGE = "view", "change"
ACTIONS = (VIEW, CHANGE)


class RestrictedByPlantQuerySet(models.QuerySet):
    """A queryset of things attached to a plant through `plant_path`.

    Where `history_lookup` is set (a lookup on the row's date, e.g. "day__gte"), an end customer sees
    nothing from before the plant's `customer_history_from` (set when the plant changed owner)."""

    plant_path = "plant"
    history_lookup = None

    def restrict(self, user, action=VIEW):
        plants = apps.get_model("plants", "Plant").objects.restrict(user, action)
        rows = self.filter(**{f"{self.plant_path}__in": plants})
        if self.history_lookup and user.is_authenticated and user.is_customer:
            start = f"{self.plant_path}__customer_history_from"
            rows = rows.filter(Q(**{f"{start}__isnull": True}) | Q(**{self.history_lookup: F(start)}))
        return rows


def api_action(request):
    """The action an API request needs: reading is "view", anything else is "change"."""
    return VIEW if request.method in ("GET", "HEAD", "OPTIONS") else CHANGE


def abilities(request):
    """What the page templates may offer the user (a context processor): the role rules stay here."""
    # No user when a request is refused before authentication (an unknown Host header): anonymous.
    user = getattr(request, "user", None) or AnonymousUser()
    installer = user.is_authenticated and user.is_installer
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
