import devices.messages
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alarms", "0003_triage_index"), ("devices", "0012_stored_messages")]

    operations = [
        migrations.AddField(
            model_name="alarm",
            name="detail",
            field=devices.messages.MessageField(blank=True, null=True),
        ),
    ]
