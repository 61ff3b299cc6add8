"""Open promises recorded for a whole account before promises named their invoices cover nothing after
0006, so the dunning run would remind a customer who had promised to pay. Give each of them the coverage
a new promise gets (``receivables.services.promise_coverage``): the customer's invoices in the promise's
currency that were open on the day it was made, oldest due first, as far as its amount pays them in full."""

from decimal import Decimal

from django.db import migrations, models

from receivables.balances import open_amount


def cover_whole_account_promises(apps, schema_editor):
    PromiseToPay = apps.get_model("receivables", "PromiseToPay")
    PromiseInvoice = apps.get_model("receivables", "PromiseInvoice")
    Invoice = apps.get_model("receivables", "Invoice")
    Allocation = apps.get_model("receivables", "Allocation")
    rows = []
    uncovered = PromiseToPay.objects.filter(status="open", coverage__isnull=True)
    for promise in uncovered.iterator():
        left = promise.amount
        invoices = Invoice.objects.filter(
            customer_id=promise.customer_id, currency=promise.currency, issue_date__lte=promise.made_on
        ).order_by("due_date", "number")
        for inv in invoices.iterator():
            allocated = Allocation.objects.filter(
                invoice_id=inv.pk, allocated_on__lte=promise.made_on
            ).aggregate(s=models.Sum("amount"))["s"] or Decimal("0.00")
            open_ = open_amount(inv.amount, allocated)
            if open_ <= 0:
                continue
            if open_ > left:
                break
            rows.append(PromiseInvoice(organization_id=promise.organization_id, promise_id=promise.pk,
                                       invoice_id=inv.pk, open_amount=open_))
            left -= open_
    PromiseInvoice.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("receivables", "0006_promise_coverage_and_bounds")]

    operations = [migrations.RunPython(cover_whole_account_promises, migrations.RunPython.noop)]
