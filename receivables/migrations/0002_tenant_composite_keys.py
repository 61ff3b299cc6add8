"""On PostgreSQL, one composite foreign key per document table: (organization_id, customer_id) must
name a customer of the same organization. It replaces two single-column checks (organization,
customer) with one, and makes a cross-tenant reference impossible at the database level; the same
shape is what Citus requires when tables are distributed by organization_id."""

from django.db import migrations

TABLES = ["receivables_order", "receivables_invoice", "receivables_payment", "receivables_creditnote"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_org_customer_fk FOREIGN KEY (organization_id, customer_id) "
            f"REFERENCES customers_customer (organization_id, id) DEFERRABLE INITIALLY DEFERRED"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_org_customer_fk")


class Migration(migrations.Migration):
    dependencies = [("receivables", "0001_initial"), ("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
