"""The fleet pages' stored figures. A company's plant counters are kept by the database: one
statement trigger per event (a trigger with transition tables has one event) adds the rows the
statement inserted and subtracts those it deleted, by company and status; an unchanged status and
capacity adds nothing and locks nothing. Companies' rows are upserted in id order, so that two
statements lock them in the same order."""

import django.db.models.deletion
from django.db import migrations, models

STATUSES = ("incomplete", "online", "partially_offline", "offline")  # PlantStatus, as of this migration
COLUMNS = (*STATUSES, "pv_power_kwp")
DELTA = f"""
    INSERT INTO plants_fleetcount AS f (company_id, {", ".join(COLUMNS)})
    SELECT * FROM (
        SELECT company_id,
            {", ".join(f"coalesce(sum(n) FILTER (WHERE status = '{s}'), 0)" for s in STATUSES)},
            sum(kwp)
        FROM ({{rows}}) AS delta GROUP BY company_id
    ) AS d ({", ".join(("company_id", *COLUMNS))})
    WHERE ({", ".join(COLUMNS)}) <> ({", ".join("0" for _ in COLUMNS)})
    ORDER BY company_id
    ON CONFLICT (company_id) DO UPDATE
    SET {", ".join(f"{c} = f.{c} + EXCLUDED.{c}" for c in COLUMNS)};
"""
ADDED = "SELECT company_id, status, 1 AS n, pv_power_kwp AS kwp FROM new_rows WHERE archived_at IS NULL"
REMOVED = "SELECT company_id, status, -1 AS n, -pv_power_kwp AS kwp FROM old_rows WHERE archived_at IS NULL"

FLEET_COUNT_TRIGGERS = f"""
CREATE FUNCTION plants_fleet_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {DELTA.format(rows=ADDED)}
    ELSIF TG_OP = 'DELETE' THEN
        {DELTA.format(rows=REMOVED)}
    ELSE
        {DELTA.format(rows=ADDED + " UNION ALL " + REMOVED)}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER plants_fleet_count_insert AFTER INSERT ON plants_plant
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plants_fleet_count();
CREATE TRIGGER plants_fleet_count_update AFTER UPDATE ON plants_plant
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION plants_fleet_count();
CREATE TRIGGER plants_fleet_count_delete AFTER DELETE ON plants_plant
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION plants_fleet_count();
"""
DROP_TRIGGERS = """
DROP TRIGGER plants_fleet_count_insert ON plants_plant;
DROP TRIGGER plants_fleet_count_update ON plants_plant;
DROP TRIGGER plants_fleet_count_delete ON plants_plant;
DROP FUNCTION plants_fleet_count();
"""
FLEET_COUNT_FILL = f"""
INSERT INTO plants_fleetcount (company_id, {", ".join(COLUMNS)})
SELECT company_id, {", ".join(f"count(*) FILTER (WHERE status = '{s}')" for s in STATUSES)},
    sum(pv_power_kwp)
FROM plants_plant WHERE archived_at IS NULL GROUP BY company_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("plants", "0009_battery_confirmed"),
        ("portal", "0005_data_rights"),
    ]

    operations = [
        migrations.CreateModel(
            name="FleetCount",
            fields=[
                (
                    "company",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="portal.company",
                    ),
                ),
                ("incomplete", models.IntegerField(default=0)),
                ("online", models.IntegerField(default=0)),
                ("partially_offline", models.IntegerField(default=0)),
                ("offline", models.IntegerField(default=0)),
                ("pv_power_kwp", models.DecimalField(decimal_places=2, default=0, max_digits=12)),
            ],
        ),
        migrations.CreateModel(
            name="FleetFigures",
            fields=[
                (
                    "company",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="portal.company",
                    ),
                ),
                ("pv_power_w", models.BigIntegerField()),
                ("day", models.DateField()),
                ("production_today_wh", models.BigIntegerField()),
                ("production_month_wh", models.BigIntegerField()),
                ("computed_at", models.DateTimeField()),
            ],
        ),
        migrations.RemoveIndex(model_name="plant", name="plant_company_status"),
        migrations.AddIndex(
            model_name="plant",
            index=models.Index(fields=["company", "status", "name"], name="plant_company_status_name"),
        ),
        migrations.RunSQL(FLEET_COUNT_TRIGGERS, reverse_sql=DROP_TRIGGERS),
        migrations.RunSQL(FLEET_COUNT_FILL, reverse_sql=migrations.RunSQL.noop),
    ]
