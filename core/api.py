"""The API's base classes, for every app: refusals in the pages' words, strict text, no edits in place."""

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from .edge import ID_REGEX


def as_drf_error(error: DjangoValidationError) -> ValidationError:
    """The model's own refusal, with the same words the pages show."""
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


class ListCreateDestroyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Things attached to a plant: listed, added and removed, never edited in place."""

    lookup_value_regex = ID_REGEX  # a longer id is a 404, not a database error


class StrictCharField(serializers.CharField):
    """Text is a JSON string: DRF would quietly turn 0 into "0"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true / false (or a form's "true" / "on"): DRF would quietly take 0 and 1 as well."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number: DRF would quietly take false as 0.0."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelCleanSerializer(serializers.ModelSerializer):
    """Validation by the model's own clean(), so that a page and a POST are refused for the same
    reason in the same words (NetBox's full_clean in serializers)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.FloatField: StrictFloatField,
    }

    clean_exclude = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        model: Any = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance else model()
        many = {f.name for f in model._meta.many_to_many}  # set after saving, never assigned
        for name, value in attrs.items():
            if name not in many:
                setattr(candidate, name, value)
        try:
            candidate.full_clean(exclude=list(self.clean_exclude), validate_constraints=False)
        except DjangoValidationError as e:
            raise as_drf_error(e) from None
        return attrs
