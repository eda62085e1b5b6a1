"""The API token in the OpenAPI schema: a bearer scheme with its scopes said."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                'A token made on the portal\'s "API tokens" page, sent as `Authorization: Bearer <token>`. '
                "Its scopes narrow what its owner may do: `read` (every GET), `alarms` (acknowledge, "
                "incidents, notes), `control` (inverter settings, read live and written), `manage` "
                "(plants, customers, commissioning, alarm rules), `admin` (the distributor's companies "
                "and requests); a token limited to some plants sees only them. A scope missing: 403."
            ),
        }
