"""The tokens made before scoped tokens (DRF's authtoken: one per user, every right, never expiring)
become scoped tokens with their role's every scope, valid 90 days from the upgrade, so that the tools
using them keep working while their owners make scoped ones; then DRF's table goes."""

import hashlib
from datetime import timedelta

from django.db import migrations
from django.utils import timezone

SCOPES_OF_ROLE = {
    "installer": ["alarms", "control", "manage", "read"],
    "distributor_admin": ["admin", "read"],
    "customer": ["read"],
}


def convert(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return
        cursor.execute(
            "SELECT t.key, t.user_id, t.created, u.role FROM authtoken_token t JOIN portal_user u ON u.id = t.user_id"
        )
        rows = cursor.fetchall()
    ApiToken = apps.get_model("integrations", "ApiToken")
    expires_at = timezone.now() + timedelta(days=90)
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="Jeton d'avant les droits (API token from before scopes)",
            prefix=key[:8],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            scopes=SCOPES_OF_ROLE.get(role, ["read"]),
            expires_at=expires_at,
            created_at=created,
        )
        for key, user_id, created, role in rows
    )
    schema_editor.execute("DROP TABLE authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(convert, migrations.RunPython.noop)]
