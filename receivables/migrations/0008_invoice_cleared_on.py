"""``Invoice.cleared_on``: the date from which an invoice is settled for good, kept by PostgreSQL itself.

Whole-book reads (aging, exposure, ECL history, the dunning run) need the open items at a date, a few
percent of a book's invoices; without a marker they read every invoice and every allocation ever made
to find them. An invoice is open at t only if it was issued by t and t is before ``cleared_on`` (or
``cleared_on`` is NULL), so ``receivables.balances`` reads just those and still applies the full rule to
them: the column narrows a read, it never decides a balance.

Allocations are positive (a check constraint), so the running sum of an invoice's allocations only
grows: ``cleared_on`` is the first allocation date at which ``round(amount - allocated, 2) <= 0``.
The function below computes it defensively all the same (the first date after the last date at which
the invoice was still open, NULL when it is open after its last allocation).

Triggers keep it right whoever writes: statement-level triggers on every INSERT (including COPY),
UPDATE and DELETE of allocations recompute it for the invoices touched, set-based (the ids joined as a
table, never ``= ANY(array)``, which PostgreSQL compares element by element per row when it scans: minutes
for a 200,000-row COPY into a table without statistics); a row trigger
recomputes it when an invoice's amount changes. On SQLite (the embedded demo database) the column stays
NULL and reads take the whole book, as before.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION receivables_cleared_on_refresh(ids bigint[]) RETURNS void AS $$
    WITH touched AS MATERIALIZED (SELECT DISTINCT u.id FROM unnest(ids) AS u(id)),
    daily AS (
        SELECT a.invoice_id, a.allocated_on AS d, sum(a.amount) AS s
        FROM receivables_allocation a JOIN touched t ON t.id = a.invoice_id
        GROUP BY a.invoice_id, a.allocated_on),
    running AS (
        SELECT daily.invoice_id, daily.d,
               round(i.amount - sum(daily.s) OVER (PARTITION BY daily.invoice_id ORDER BY daily.d), 2) > 0
                   AS still_open
        FROM daily JOIN receivables_invoice i ON i.id = daily.invoice_id),
    tail AS (
        SELECT invoice_id, d,
               bool_or(still_open) OVER (PARTITION BY invoice_id ORDER BY d DESC) AS open_from_here
        FROM running),
    cleared AS (
        SELECT invoice_id, min(d) FILTER (WHERE NOT open_from_here) AS cleared_on
        FROM tail GROUP BY invoice_id)
    UPDATE receivables_invoice i SET cleared_on = c.cleared_on
    FROM cleared c
    WHERE i.id = c.invoice_id AND i.cleared_on IS DISTINCT FROM c.cleared_on;
    -- an invoice whose allocations were all deleted is open again
    UPDATE receivables_invoice i SET cleared_on = NULL
    FROM (SELECT DISTINCT u.id FROM unnest(ids) AS u(id)) t
    WHERE i.id = t.id AND i.cleared_on IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM receivables_allocation a WHERE a.invoice_id = i.id);
$$ LANGUAGE sql;

CREATE OR REPLACE FUNCTION receivables_allocation_cleared_sync() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM receivables_cleared_on_refresh(ARRAY(SELECT invoice_id FROM changed_new));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM receivables_cleared_on_refresh(ARRAY(SELECT invoice_id FROM changed_old));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER allocation_cleared_insert AFTER INSERT ON receivables_allocation
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_allocation_cleared_sync();
CREATE TRIGGER allocation_cleared_update AFTER UPDATE ON receivables_allocation
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_allocation_cleared_sync();
CREATE TRIGGER allocation_cleared_delete AFTER DELETE ON receivables_allocation
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION receivables_allocation_cleared_sync();

CREATE OR REPLACE FUNCTION receivables_invoice_amount_cleared_sync() RETURNS trigger AS $$
BEGIN
    PERFORM receivables_cleared_on_refresh(ARRAY[NEW.id]);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_amount_cleared AFTER UPDATE OF amount ON receivables_invoice
    FOR EACH ROW WHEN (OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION receivables_invoice_amount_cleared_sync();

SELECT receivables_cleared_on_refresh(ARRAY(SELECT DISTINCT invoice_id FROM receivables_allocation));
"""

DROP = """
DROP TRIGGER IF EXISTS invoice_amount_cleared ON receivables_invoice;
DROP TRIGGER IF EXISTS allocation_cleared_insert ON receivables_allocation;
DROP TRIGGER IF EXISTS allocation_cleared_update ON receivables_allocation;
DROP TRIGGER IF EXISTS allocation_cleared_delete ON receivables_allocation;
DROP FUNCTION IF EXISTS receivables_invoice_amount_cleared_sync();
DROP FUNCTION IF EXISTS receivables_allocation_cleared_sync();
DROP FUNCTION IF EXISTS receivables_cleared_on_refresh(bigint[]);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("receivables", "0007_cover_whole_account_promises")]
    operations = [
        migrations.AddField(
            model_name="invoice",
            name="cleared_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="settled for good on"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["organization", "cleared_on"], name="invoice_org_cleared_idx"),
        ),
        # the sales windows of DSO read recent invoices by issue date (receivables.kpis)
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["organization", "issue_date"], name="invoice_org_issue_idx"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
