from django.db import migrations


class Migration(migrations.Migration):
    """Every poll rewrites each inverter's row (status, latest values) and each logger's: pages with
    room to spare let PostgreSQL update them in place (HOT), without new index entries or bloat in the
    tables the fleet queries read. Applies to new pages; an existing table takes it at its next
    rewrite (VACUUM FULL or pg_repack)."""

    dependencies = [("devices", "0006_history_slot")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE devices_inverter SET (fillfactor = 50); ALTER TABLE devices_datalogger SET (fillfactor = 70);",
            "ALTER TABLE devices_inverter RESET (fillfactor); ALTER TABLE devices_datalogger RESET (fillfactor);",
        ),
    ]
