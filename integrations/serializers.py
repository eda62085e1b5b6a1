"""An event as the feed and the webhooks carry it: one shape, documented once in the OpenAPI."""

from drf_spectacular.utils import OpenApiWebhook, extend_schema
from rest_framework import serializers

from .models import Event


class EventSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="number", help_text="The event's number: pass it as ?after=.")

    class Meta:
        model = Event
        fields = ["id", "kind", "plant", "occurred_at", "recorded_at", "data"]


# The webhooks' requests in the OpenAPI (a 3.1 `webhooks` entry): the same event as the feed's.
event_webhook = OpenApiWebhook(
    name="event",
    decorator=extend_schema(
        summary="An event, POSTed to each webhook that carries its kind",
        description=(
            "Sent as it happens (within WEBHOOK_DISPATCH_SECONDS), at least once: skip an `id` already"
            " received. Headers: `AURA-Event` (the kind, or `ping` for a test), `AURA-Delivery`, and"
            " `AURA-Signature: t=<unix time>,v1=<hex>` where the hex is the HMAC-SHA256, with the"
            " webhook's secret, of `<t>.<body>`; refuse a `t` more than 5 minutes away from your clock."
            " Any 2xx answer is a delivery; otherwise it is tried again after 30 s, then twice as late"
            " each time, at most 6 h apart, up to WEBHOOK_MAX_ATTEMPTS times."
        ),
        request=EventSerializer,
        responses={200: None},
    ),
)
