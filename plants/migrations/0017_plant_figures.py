"""The fleet table's figures, a row per plant. The database keeps the rows in step with the plants:
made with the plant (whatever inserts it: services, bulk inserts, the admin) and moved with it to a
new company, in the statement that changes the plant, so that the list sorted by a figure (an inner
join on the company's index) never loses a plant. The beat fills in the figures."""

import django.db.models.deletion
from django.db import migrations, models

PLANT_FIGURES_TRIGGERS = """
CREATE FUNCTION plants_plant_figures_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plants_plantfigures (plant_id, company_id) SELECT id, company_id FROM new_rows;
    RETURN NULL;
END $$;
CREATE FUNCTION plants_plant_figures_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE plants_plantfigures AS f SET company_id = n.company_id
    FROM new_rows AS n WHERE f.plant_id = n.id AND f.company_id <> n.company_id;
    RETURN NULL;
END $$;
CREATE TRIGGER plants_plant_figures_insert AFTER INSERT ON plants_plant
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plants_plant_figures_insert();
CREATE TRIGGER plants_plant_figures_move AFTER UPDATE ON plants_plant
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION plants_plant_figures_move();
"""
DROP_TRIGGERS = """
DROP TRIGGER plants_plant_figures_insert ON plants_plant;
DROP TRIGGER plants_plant_figures_move ON plants_plant;
DROP FUNCTION plants_plant_figures_insert();
DROP FUNCTION plants_plant_figures_move();
"""
# The sort keys as of this migration (plants.models.FIGURE_SORT_KEYS).
SORT_KEYS = ("pv_power_w", "today_wh", "yield_yesterday", "last_seen_at", "active_alarms")
PLANT_FIGURES_FILL = (
    "INSERT INTO plants_plantfigures (plant_id, company_id) SELECT id, company_id FROM plants_plant"
)


class Migration(migrations.Migration):
    dependencies = [
        ("plants", "0016_saved_filters"),
        ("portal", "0012_user_monthly_report"),
    ]

    operations = [
        migrations.CreateModel(
            name="PlantFigures",
            fields=[
                (
                    "plant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="figures",
                        serialize=False,
                        to="plants.plant",
                    ),
                ),
                ("pv_power_w", models.BigIntegerField(null=True)),
                ("today_wh", models.BigIntegerField(db_default=0)),
                ("yield_yesterday", models.DecimalField(decimal_places=2, max_digits=7, null=True)),
                ("last_seen_at", models.DateTimeField(null=True)),
                ("active_alarms", models.IntegerField(db_default=0)),
                ("computed_at", models.DateTimeField(null=True)),
                (
                    "company",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="portal.company",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        models.F("company"),
                        models.OrderBy(models.F(key), descending=True, nulls_last=True),
                        models.OrderBy(models.F("plant"), descending=True),
                        name=f"plant_figures_{key}",
                    )
                    for key in SORT_KEYS
                ],
            },
        ),
        migrations.RunSQL(PLANT_FIGURES_TRIGGERS, reverse_sql=DROP_TRIGGERS),
        migrations.RunSQL(PLANT_FIGURES_FILL, reverse_sql=migrations.RunSQL.noop),
    ]
