"""What the OpenAPI schema says beyond the serializers: every operation's error answers, the API
tokens' quota among them."""

from django.conf import settings

ERRORS = {
    "400": "Invalid input: each field with its reasons, or `detail`.",
    "401": "Not authenticated.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object among those you may see.",
    "415": "Unsupported request body type.",
}
DATES = {"date", "date-time"}
ERROR_SCHEMA = {
    "description": "DRF's error body: {'detail': reason} or {field: [reasons]}.",
    "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}],
}


QUOTA = {
    "description": (
        f"The API token's quota is spent: {settings.API_TOKEN_QUOTA} requests per "
        f"{settings.API_TOKEN_QUOTA_SECONDS} s per token (a logged-in session is not counted). "
        "Retry after the number of seconds in `Retry-After`."
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds until the quota's next window.",
            "schema": {"type": "integer"},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the 4xx answers every operation may give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and (schema.get("format") in DATES or "enum" in schema):
                    parameter["allowEmptyValue"] = True  # an empty filter is no filter, as on the pages
            codes = {code: text for code, text in ERRORS.items() if method != "get" or code != "415"}
            responses = operation.setdefault("responses", {})
            responses.setdefault("429", QUOTA)
            for code, text in codes.items():
                responses.setdefault(
                    code,
                    {
                        "description": text,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
