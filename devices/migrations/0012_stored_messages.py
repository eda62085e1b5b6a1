"""A logger's last error and a setting change's answer become messages (a code and its parameters,
rendered in the reader's language). Sentences stored before keep their words ("verbatim")."""

import devices.messages
from django.db import migrations


def to_messages(apps, schema_editor):
    for model, old, new in (("Datalogger", "last_error_text", "last_error"), ("SettingChange", "answer_text", "answer")):
        Model = apps.get_model("devices", model)
        for row in Model.objects.exclude(**{old: ""}).only(old).iterator():
            message = {"code": devices.messages.VERBATIM, "params": {"text": getattr(row, old)}}
            Model.objects.filter(pk=row.pk).update(**{new: message})


class Migration(migrations.Migration):
    dependencies = [("devices", "0011_compact_history")]

    operations = [
        migrations.RenameField("datalogger", "last_error", "last_error_text"),
        migrations.RenameField("settingchange", "answer", "answer_text"),
        migrations.AddField(
            model_name="datalogger",
            name="last_error",
            field=devices.messages.MessageField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="settingchange",
            name="answer",
            field=devices.messages.MessageField(blank=True, null=True),
        ),
        migrations.RunPython(to_messages, migrations.RunPython.noop),
        migrations.RemoveField("datalogger", "last_error_text"),
        migrations.RemoveField("settingchange", "answer_text"),
    ]
