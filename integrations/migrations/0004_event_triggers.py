"""The events are written by triggers, in the transaction of the change, whatever code made it: a
new path that opens, clears or acknowledges an alarm, changes a plant's status, finishes a setting
change or replaces an inverter cannot forget its event (docs/architecture/invariants.md, "Events").
An event is numbered after its commit (`integrations.services.events_number`, from the sequence made
here): the number is the feed's order."""

from django.db import migrations

INSERT = """
    INSERT INTO integrations_event (kind, plant_id, company_id, occurred_at, recorded_at, data)
    SELECT %s, p.id, p.company_id, %s, clock_timestamp(), %s
    FROM plants_plant p WHERE p.id = %s;
"""

ALARM_DATA = """jsonb_build_object(
    'alarm', NEW.id, 'plant', NEW.plant_id, 'code', NEW.code_id, 'severity', NEW.severity,
    'datalogger', NEW.datalogger_id, 'inverter', NEW.inverter_id, 'started_at', NEW.started_at,
    'cleared_at', NEW.cleared_at, 'acknowledged_at', NEW.acknowledged_at, 'status', NEW.status)"""

FORWARD = f"""
CREATE SEQUENCE integrations_event_number;
CREATE FUNCTION integrations_alarm_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := '{{}}';
    kind text;
BEGIN
    IF TG_OP = 'INSERT' OR (OLD.cleared_at IS NOT NULL AND NEW.cleared_at IS NULL) THEN
        kinds := kinds || 'alarm.opened'::text;  -- a new alarm, or one come back within its quiet period
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.cleared_at IS NULL AND NEW.cleared_at IS NOT NULL THEN kinds := kinds || 'alarm.cleared'::text; END IF;
        IF OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL THEN
            kinds := kinds || 'alarm.acknowledged'::text;
        END IF;
        IF OLD.status <> 'resolved' AND NEW.status = 'resolved' THEN kinds := kinds || 'alarm.resolved'::text; END IF;
    END IF;
    FOREACH kind IN ARRAY kinds LOOP
        {INSERT % (
            "kind",
            "CASE kind WHEN 'alarm.opened' THEN coalesce(NEW.raised_at, NEW.started_at)"
            " WHEN 'alarm.cleared' THEN NEW.cleared_at WHEN 'alarm.acknowledged' THEN NEW.acknowledged_at"
            " ELSE coalesce(NEW.resolved_at, clock_timestamp()) END",
            ALARM_DATA,
            "NEW.plant_id",
        )}
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER integrations_alarm_event AFTER INSERT OR UPDATE OF cleared_at, acknowledged_at, status
    ON alarms_alarm FOR EACH ROW EXECUTE FUNCTION integrations_alarm_event();

CREATE FUNCTION integrations_plant_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Offline from online only: a new plant whose stick has not called yet is not news.
    IF NEW.status IN ('offline', 'partially_offline') AND OLD.status = 'online' THEN
        {INSERT % ("'plant.offline'", "clock_timestamp()",
                   "jsonb_build_object('plant', NEW.id, 'status', NEW.status, 'previous_status', OLD.status)",
                   "NEW.id")}
    ELSIF NEW.status = 'online' AND OLD.status IN ('offline', 'partially_offline') THEN
        {INSERT % ("'plant.online'", "clock_timestamp()",
                   "jsonb_build_object('plant', NEW.id, 'status', NEW.status, 'previous_status', OLD.status)",
                   "NEW.id")}
    END IF;
    IF OLD.commissioning_completed_at IS NULL AND NEW.commissioning_completed_at IS NOT NULL THEN
        {INSERT % ("'commissioning.completed'", "NEW.commissioning_completed_at",
                   "jsonb_build_object('plant', NEW.id, 'completed_at', NEW.commissioning_completed_at)",
                   "NEW.id")}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER integrations_plant_event AFTER UPDATE OF status, commissioning_completed_at ON plants_plant
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.commissioning_completed_at IS DISTINCT FROM NEW.commissioning_completed_at)
    EXECUTE FUNCTION integrations_plant_event();

CREATE FUNCTION integrations_setting_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERT % ("'setting_change.executed'", "coalesce(NEW.finished_at, clock_timestamp())",
               "jsonb_build_object('setting_change', NEW.id, 'plant', NEW.plant_id, 'inverter', NEW.inverter_id,"
               " 'key', NEW.key, 'old_value', NEW.old_value, 'new_value', NEW.new_value,"
               " 'outcome', NEW.outcome, 'finished_at', NEW.finished_at)",
               "NEW.plant_id")}
    RETURN NULL;
END $$;
CREATE TRIGGER integrations_setting_change_event AFTER UPDATE OF outcome ON devices_settingchange
    FOR EACH ROW WHEN (OLD.outcome = 'pending' AND NEW.outcome <> 'pending')
    EXECUTE FUNCTION integrations_setting_change_event();

CREATE FUNCTION integrations_inverter_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plant integer;
BEGIN
    SELECT d.plant_id INTO plant FROM devices_datalogger d WHERE d.id = NEW.datalogger_id;
    {INSERT % ("'inverter.replaced'", "clock_timestamp()",
               "jsonb_build_object('inverter', NEW.id, 'plant', plant, 'serial_number', NEW.serial_number,"
               " 'replaces', NEW.replaces_id, 'replaced_serial_number',"
               " (SELECT o.serial_number FROM devices_inverter o WHERE o.id = NEW.replaces_id))",
               "plant")}
    RETURN NULL;
END $$;
CREATE TRIGGER integrations_inverter_event AFTER INSERT ON devices_inverter
    FOR EACH ROW WHEN (NEW.replaces_id IS NOT NULL) EXECUTE FUNCTION integrations_inverter_event();
"""

BACKWARD = """
DROP TRIGGER integrations_alarm_event ON alarms_alarm; DROP FUNCTION integrations_alarm_event();
DROP TRIGGER integrations_plant_event ON plants_plant; DROP FUNCTION integrations_plant_event();
DROP TRIGGER integrations_setting_change_event ON devices_settingchange;
DROP FUNCTION integrations_setting_change_event();
DROP TRIGGER integrations_inverter_event ON devices_inverter; DROP FUNCTION integrations_inverter_event();
DROP SEQUENCE integrations_event_number;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_events"),
        ("alarms", "0012_subscriptions"),
        ("devices", "0014_reading_flags"),
        ("plants", "0014_search_without_pending_list"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
