"""Invitations: a grant to a customer who already had an account waits for their acceptance.
Existing grants count as accepted (they were shown already); each grant gets its own token."""

import secrets

from django.db import migrations, models

import plants.models


def accept_existing_and_give_tokens(apps, schema_editor):
    PlantGrant = apps.get_model("plants", "PlantGrant")
    for grant in PlantGrant.objects.all():
        grant.accepted_at = grant.created_at
        grant.token = secrets.token_urlsafe(32)
        grant.save(update_fields=["accepted_at", "token"])


class Migration(migrations.Migration):
    dependencies = [("plants", "0005_customer_notes")]

    operations = [
        migrations.AddField(
            model_name="plantgrant", name="accepted_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="plantgrant", name="token", field=models.CharField(max_length=64, null=True, editable=False)
        ),
        migrations.RunPython(accept_existing_and_give_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="plantgrant",
            name="token",
            field=models.CharField(default=plants.models.new_token, editable=False, max_length=64, unique=True),
        ),
    ]
