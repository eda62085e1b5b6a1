"""The events feed over the API: newest last, with a cursor an integration keeps between reads."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import TokenScope

from .models import Event, EventKind
from .serializers import EventSerializer
from .services import events_number

MAX_EVENTS = 500


def parse_after(value: str) -> int:
    """An event's number as the feed gave it, or nothing: from the oldest event kept."""
    if not value:
        return 0
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**63:
        raise ValidationError(
            {"after": [_("Not an event number of this feed: pass an event's id as given.")]}
        )
    return int(value)


def parse_limit(value: str) -> int:
    if not value:
        return 100
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_EVENTS:
        raise ValidationError({"limit": [_("A whole number from 1 to %(max)d.") % {"max": MAX_EVENTS}]})
    return int(value)


class EventFeedView(APIView):
    """The events of the plants you see: alarms opened, cleared, acknowledged and resolved, plants
    offline and online, commissioning completed, setting changes executed, inverters replaced
    (an end customer: those their pages show). Oldest first; each page's `next` is the cursor to
    pass as `?after=` for the following events: read again and again, an integration gets each event
    exactly once, after a gap too, for EVENT_DAYS days."""

    permission_classes = [TokenScope, IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="The `next` of the previous page"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Events per page, 1 to {MAX_EVENTS}"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=EventKind.values, description="Only this kind"),
        ],
        responses=inline_serializer(
            "EventPage",
            {
                "results": EventSerializer(many=True),
                "next": serializers.IntegerField(help_text="Pass as ?after= to read on"),
                "more": serializers.BooleanField(help_text="More events wait after this page"),
            },
        ),
    )
    def get(self, request):
        after = parse_after(request.query_params.get("after", ""))
        limit = parse_limit(request.query_params.get("limit", ""))
        events = Event.objects.restrict(request.user)
        kind = request.query_params.get("kind", "")
        if kind:
            if kind not in EventKind.values:
                raise ValidationError({"kind": [_("Not a kind of event.")]})
            events = events.filter(kind=kind)
        events_number()
        page = list(events.after(after)[: limit + 1])
        more, page = len(page) > limit, page[:limit]
        following = page[-1].number if page else after
        return Response({"results": EventSerializer(page, many=True).data, "next": following, "more": more})
