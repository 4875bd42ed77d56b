"""On PostgreSQL, make the access-event table append-only in the database itself.

UPDATE, DELETE and TRUNCATE raise, whoever runs them: the application, the admin, or a
person in psql. (A superuser can still drop the trigger; that leaves its own trace.)
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION remote_access_event_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER remote_access_event_no_update_delete
    BEFORE UPDATE OR DELETE ON remote_access_accessevent
    FOR EACH ROW EXECUTE FUNCTION remote_access_event_is_append_only();

CREATE TRIGGER remote_access_event_no_truncate
    BEFORE TRUNCATE ON remote_access_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION remote_access_event_is_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS remote_access_event_no_truncate ON remote_access_accessevent;
DROP TRIGGER IF EXISTS remote_access_event_no_update_delete ON remote_access_accessevent;
DROP FUNCTION IF EXISTS remote_access_event_is_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("remote_access", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
