"""History partitioned by month, with the register map's integers instead of numerics.

The table is rebuilt: PostgreSQL cannot turn a table into a partitioned one in place. Existing rows
are copied (numerics scaled to their register's integers) into monthly partitions created for their
months and the next two; `devices.partitions` creates the following ones ahead.
"""

import devices.fields
from django.db import migrations, models

COLUMNS = """
    inverter_id bigint NOT NULL, slot timestamptz NOT NULL,
    pv_power integer, load_power integer, grid_power integer,
    pv_energy_total integer, load_energy_total integer, grid_import_total integer, grid_export_total integer,
    battery_charge_total integer, battery_discharge_total integer, warning_bits integer, fault_bits integer,
    battery_power smallint, battery_soc smallint, pv_energy_today smallint, grid_import_today smallint,
    grid_export_today smallint, load_energy_today smallint, battery_discharge_today smallint,
    battery_charge_today smallint
"""
# Widest columns first: no alignment padding between them.
PARTITIONED = f"""
ALTER TABLE devices_reading RENAME TO devices_reading_old;
ALTER INDEX reading_slot_brin RENAME TO reading_slot_brin_old;
ALTER TABLE devices_reading_old RENAME CONSTRAINT devices_reading_pkey TO devices_reading_old_pkey;
CREATE TABLE devices_reading ({COLUMNS},
    CONSTRAINT devices_reading_pkey PRIMARY KEY (inverter_id, slot),
    CONSTRAINT devices_reading_inverter_id_fk FOREIGN KEY (inverter_id) REFERENCES devices_inverter (id)
        DEFERRABLE INITIALLY DEFERRED
) PARTITION BY RANGE (slot);
CREATE INDEX reading_slot_brin ON devices_reading USING brin (slot);
DO $$
DECLARE
    first timestamptz := least(now(), (SELECT min(slot) FROM devices_reading_old));
    month date := date_trunc('month', first AT TIME ZONE 'UTC');
BEGIN
    WHILE month <= (now() AT TIME ZONE 'UTC') + interval '2 months' LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF devices_reading FOR VALUES FROM (%L) TO (%L)',
            'devices_reading_p' || to_char(month, 'YYYYMM'), month::timestamp AT TIME ZONE 'UTC',
            (month + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        );
        month := month + interval '1 month';
    END LOOP;
END $$;
INSERT INTO devices_reading
SELECT inverter_id, slot, pv_power, load_power, grid_power,
    round(pv_energy_total * 10), round(load_energy_total * 10), round(grid_import_total * 10),
    round(grid_export_total * 10), battery_charge_total, battery_discharge_total,
    CASE WHEN warning_bits >= 2147483648 THEN warning_bits - 4294967296 ELSE warning_bits END,
    CASE WHEN fault_bits >= 2147483648 THEN fault_bits - 4294967296 ELSE fault_bits END,
    battery_power, round(battery_soc * 10), round(pv_energy_today * 10), round(grid_import_today * 10),
    round(grid_export_today * 10), round(load_energy_today * 10), round(battery_discharge_today * 10),
    round(battery_charge_today * 10)
FROM devices_reading_old;
DROP TABLE devices_reading_old;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0007_fillfactor"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(PARTITIONED)],
            state_operations=[
                migrations.AlterField(
                    model_name="reading",
                    name="battery_charge_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="battery_discharge_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="battery_power",
                    field=models.SmallIntegerField(help_text="W", null=True),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="battery_soc",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="%", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="fault_bits",
                    field=devices.fields.Bits32Field(null=True),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="grid_export_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="grid_export_total",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=9, null=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="grid_import_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="grid_import_total",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=9, null=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="grid_power",
                    field=models.IntegerField(help_text="W", null=True),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="load_energy_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="load_energy_total",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=9, null=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="pv_energy_today",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=4, null=True, small=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="pv_energy_total",
                    field=devices.fields.ScaledIntegerField(
                        decimal_places=1, help_text="kWh", max_digits=9, null=True
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="warning_bits",
                    field=devices.fields.Bits32Field(null=True),
                ),
            ],
        ),
    ]
