"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit ledger."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credit_platform_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit ledger is append-only (%% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON credit_platform_auditentry
    FOR EACH ROW EXECUTE FUNCTION credit_platform_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON credit_platform_auditentry;
DROP FUNCTION IF EXISTS credit_platform_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("credit_platform", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
