"""The fleet pages' stored figures. Per-company plant counters kept by the database: one statement trigger per event (a trigger
with transition tables has one event), each adding the rows it inserted and subtracting the rows
it deleted, grouped by company and status. Rows are upserted in (company, status) order so that
two transactions lock them in the same order. Unchanged statuses and capacities add nothing and
lock nothing (HAVING)."""

import django.db.models.deletion
from django.db import migrations, models

DELTA = """
    INSERT INTO plants_fleetcount AS f (company_id, status, plants, pv_power_kwp)
    SELECT company_id, status, sum(n), sum(kwp) FROM ({rows}) AS delta
    GROUP BY company_id, status
    HAVING sum(n) <> 0 OR sum(kwp) <> 0
    ORDER BY company_id, status
    ON CONFLICT (company_id, status) DO UPDATE
    SET plants = f.plants + EXCLUDED.plants, pv_power_kwp = f.pv_power_kwp + EXCLUDED.pv_power_kwp;
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
FLEET_COUNT_FILL = """
INSERT INTO plants_fleetcount (company_id, status, plants, pv_power_kwp)
SELECT company_id, status, count(*), sum(pv_power_kwp) FROM plants_plant
WHERE archived_at IS NULL GROUP BY company_id, status
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
                    "pk",
                    models.CompositePrimaryKey(
                        "company_id", "status", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("incomplete", "Incomplete"),
                            ("online", "Online"),
                            ("partially_offline", "Partially offline"),
                            ("offline", "Offline"),
                        ],
                        max_length=20,
                    ),
                ),
                ("plants", models.IntegerField()),
                ("pv_power_kwp", models.DecimalField(decimal_places=2, max_digits=12)),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="portal.company"
                    ),
                ),
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
