import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alarms", "0002_notification_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="alarm",
            name="severity",
            field=models.PositiveSmallIntegerField(default=3, editable=False),
            preserve_default=False,
        ),
        # Existing alarms take their code's severity.
        migrations.RunSQL(
            "UPDATE alarms_alarm a SET severity = c.severity FROM alarms_alarmcode c WHERE c.code = a.code_id",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="alarm",
            index=models.Index(
                django.db.models.expressions.OrderBy(
                    django.db.models.expressions.F("cleared_at"), descending=True, nulls_first=True
                ),
                models.F("severity"),
                models.F("started_at"),
                name="alarm_triage",
            ),
        ),
    ]
