"""Balance snapshots for the ECL history and the change log that tells when one is out of date.

PostgreSQL triggers write a ``receivables_bookchange`` row (organization, earliest date affected,
transaction id) for every statement that changes what an open balance at a date depends on:

* allocations inserted (including COPY), updated or deleted: from the earliest allocation date involved;
* invoices inserted or deleted, or updated in amount, dates, currency or customer: from the earliest issue
  date involved (``cleared_on``, which the database keeps itself, is not a change of the book);
* customers whose default status, sector or country changes: every date (the ECL history is keyed by
  them).

A ``BalanceSnapshot`` of day D is used only while no change with ``earliest <= D`` was made by a
transaction that the snapshot's database snapshot does not see (``pg_visible_in_snapshot``).
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION receivables_book_changed_allocations() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        SELECT organization_id, min(allocated_on), pg_current_xact_id()::text::bigint, now()
        FROM changed_new GROUP BY organization_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        SELECT organization_id, min(allocated_on), pg_current_xact_id()::text::bigint, now()
        FROM changed_old GROUP BY organization_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allocation_book_insert AFTER INSERT ON receivables_allocation
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_book_changed_allocations();
CREATE TRIGGER allocation_book_update AFTER UPDATE ON receivables_allocation
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_book_changed_allocations();
CREATE TRIGGER allocation_book_delete AFTER DELETE ON receivables_allocation
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_book_changed_allocations();

CREATE OR REPLACE FUNCTION receivables_book_changed_invoices() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        SELECT organization_id, min(issue_date), pg_current_xact_id()::text::bigint, now()
        FROM changed_new GROUP BY organization_id;
    ELSE
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        SELECT organization_id, min(issue_date), pg_current_xact_id()::text::bigint, now()
        FROM changed_old GROUP BY organization_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_book_insert AFTER INSERT ON receivables_invoice
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_book_changed_invoices();
CREATE TRIGGER invoice_book_delete AFTER DELETE ON receivables_invoice
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_book_changed_invoices();

-- Updates: a row trigger whose WHEN clause passes over the updates that change nothing of the book (the
-- database's own cleared_on, thousands per allocation statement) without calling anything. (A statement
-- trigger joining the old and new transition tables was planned as a nested loop: quadratic.)
CREATE OR REPLACE FUNCTION receivables_book_changed_row() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'receivables_invoice' THEN
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        VALUES (NEW.organization_id, least(OLD.issue_date, NEW.issue_date), pg_current_xact_id()::text::bigint, now());
    ELSE
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        VALUES (NEW.organization_id, DATE '0001-01-01', pg_current_xact_id()::text::bigint, now());
    END IF;
    IF OLD.organization_id IS DISTINCT FROM NEW.organization_id THEN
        INSERT INTO receivables_bookchange (organization_id, earliest, xid, recorded_at)
        VALUES (OLD.organization_id, DATE '0001-01-01', pg_current_xact_id()::text::bigint, now());
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_book_update AFTER UPDATE ON receivables_invoice
    FOR EACH ROW WHEN ((OLD.amount, OLD.issue_date, OLD.due_date, OLD.currency, OLD.customer_id, OLD.organization_id)
                       IS DISTINCT FROM
                       (NEW.amount, NEW.issue_date, NEW.due_date, NEW.currency, NEW.customer_id, NEW.organization_id))
    EXECUTE FUNCTION receivables_book_changed_row();

-- customers: the ECL history is keyed by default status, sector and country
CREATE TRIGGER customer_book_update AFTER UPDATE ON customers_customer
    FOR EACH ROW WHEN ((OLD.status = 'in_default') IS DISTINCT FROM (NEW.status = 'in_default')
                       OR OLD.sector_id IS DISTINCT FROM NEW.sector_id
                       OR OLD.country_id IS DISTINCT FROM NEW.country_id
                       OR OLD.organization_id IS DISTINCT FROM NEW.organization_id)
    EXECUTE FUNCTION receivables_book_changed_row();
"""

DROP = """
DROP TRIGGER IF EXISTS allocation_book_insert ON receivables_allocation;
DROP TRIGGER IF EXISTS allocation_book_update ON receivables_allocation;
DROP TRIGGER IF EXISTS allocation_book_delete ON receivables_allocation;
DROP TRIGGER IF EXISTS invoice_book_insert ON receivables_invoice;
DROP TRIGGER IF EXISTS invoice_book_update ON receivables_invoice;
DROP TRIGGER IF EXISTS invoice_book_delete ON receivables_invoice;
DROP TRIGGER IF EXISTS customer_book_update ON customers_customer;
DROP FUNCTION IF EXISTS receivables_book_changed_allocations();
DROP FUNCTION IF EXISTS receivables_book_changed_invoices();
DROP FUNCTION IF EXISTS receivables_book_changed_row();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)



class Migration(migrations.Migration):

    dependencies = [
        ('credit_platform', '0003_bounds'),
        ('receivables', '0008_invoice_cleared_on'),
        ('customers', '0003_bounds'),
    ]

    operations = [
        migrations.CreateModel(
            name='BookChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('organization_id', models.BigIntegerField(verbose_name='organization')),
                ('earliest', models.DateField(verbose_name='earliest date affected')),
                ('xid', models.BigIntegerField(verbose_name='transaction')),
                ('recorded_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='recorded at')),
            ],
            options={
                'verbose_name': 'book change',
                'verbose_name_plural': 'book changes',
                'indexes': [models.Index(fields=['organization_id', 'earliest'], name='bookchange_org_earliest_idx')],
            },
        ),
        migrations.CreateModel(
            name='BalanceSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('segment_by', models.CharField(blank=True, default='', max_length=16, verbose_name='segment by')),
                ('day', models.DateField(verbose_name='date')),
                ('seen', models.TextField(editable=False, verbose_name='database snapshot')),
                ('balances', models.JSONField(default=list, verbose_name='balances')),
                ('computed_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='computed at')),
                ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='credit_platform.organization')),
            ],
            options={
                'verbose_name': 'balance snapshot',
                'verbose_name_plural': 'balance snapshots',
                'constraints': [models.UniqueConstraint(fields=('organization', 'segment_by', 'day'), name='balancesnapshot_unique_day')],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
