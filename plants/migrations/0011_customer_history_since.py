"""The hand-over boundary becomes a moment: a day let the new owner see the hand-over day's earlier
hours. Existing boundaries start at their day's local midnight, as they were shown."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import migrations, models


def to_moment(apps, schema_editor):
    Plant = apps.get_model("plants", "Plant")
    for plant in Plant.objects.filter(customer_history_from__isnull=False).only("time_zone", "customer_history_from"):
        since = datetime.combine(plant.customer_history_from, datetime.min.time(), ZoneInfo(plant.time_zone))
        Plant.objects.filter(pk=plant.pk).update(customer_history_since=since)


def to_day(apps, schema_editor):
    Plant = apps.get_model("plants", "Plant")
    for plant in Plant.objects.filter(customer_history_since__isnull=False).only("time_zone", "customer_history_since"):
        day = plant.customer_history_since.astimezone(ZoneInfo(plant.time_zone)).date()
        Plant.objects.filter(pk=plant.pk).update(customer_history_from=day)


class Migration(migrations.Migration):
    dependencies = [("plants", "0010_fleet_figures")]

    operations = [
        migrations.AddField(
            model_name="plant",
            name="customer_history_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(to_moment, to_day),
        migrations.RemoveField(model_name="plant", name="customer_history_from"),
    ]
