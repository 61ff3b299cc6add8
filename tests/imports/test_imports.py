"""Imports: full validation with located errors, all-or-nothing writes, idempotent re-imports."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from credit_platform.imports.engine import import_file
from credit_platform.models import AuditEntry, ImportLog
from customers.models import Customer, CustomerGroup, ExternalSignal, FinancialStatement
from limits.models import LimitRequest
from receivables.models import Allocation, CreditNote, Invoice, Order, Payment
from tests.factories import CustomerFactory, FXRateFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = (
    "external_id,legal_name,country,sector,size,currency,payment_terms_days,status,credit_limit,"
    "group_external_id,group_name,email\n"
) + """C1,Alpha GmbH,DE,C,medium,EUR,30,active,50000.00,G1,Alpha Holding,ap@alpha.example
C2,Beta SAS,fr,G,small,eur,45,active,,G1,,
C3,上海华远贸易有限公司,CN,G,large,CNY,60,prospect,200000,,,
"""


@pytest.fixture(autouse=True)
def cny_rate(org):
    """A limit in CNY becomes a request routed on its EUR amount."""
    return FXRateFactory(organization=org, currency="CNY", rate=Decimal("0.13"))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(org, kind, path, **kw):
    return import_file(organization=org, kind=kind, path=path, **kw)


def errors_of(log):
    return {(e["row"], e["column"]): e for e in log.errors}


def test_customers_import_creates_rows_and_groups(org, tmp_path):
    log = run(org, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    assert (log.rows, log.created, log.updated, log.unchanged) == (3, 3, 0, 0)
    c1, c2, c3 = Customer.objects.for_organization(org).order_by("external_id")
    # a file's limit is a request for the approvers, not a limit (limits app)
    assert c1.credit_limit is None and c1.group.name == "Alpha Holding"
    assert sorted(LimitRequest.objects.for_organization(org).values_list("customer__external_id", "requested_limit",
                                                                          "source")) == [
        ("C1", Decimal("50000.00"), "import"), ("C3", Decimal("200000.00"), "import")]
    assert c2.country_id == "FR" and c2.currency == "EUR" and c2.group_id == c1.group_id
    assert c2.payment_terms_days == 45 and c2.credit_limit is None
    assert c3.legal_name == "上海华远贸易有限公司" and c3.status == "prospect"
    assert CustomerGroup.objects.for_organization(org).count() == 1
    assert log.file_sha256 and log.finished_at


def test_same_file_twice_creates_nothing_twice(org, tmp_path):
    path = write(tmp_path, "c.csv", CUSTOMERS)
    run(org, "customers", path)
    again = run(org, "customers", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Customer.objects.for_organization(org).count() == 3
    assert CustomerGroup.objects.for_organization(org).count() == 1


def test_reimport_updates_changed_rows_and_audits_decisions(org, tmp_path):
    run(org, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    changed = CUSTOMERS.replace("C1,Alpha GmbH,DE,C,medium,EUR,30,active,50000.00",
                                "C1,Alpha GmbH,DE,C,medium,EUR,30,closed,50000.00")
    log = run(org, "customers", write(tmp_path, "c2.csv", changed))
    assert (log.created, log.updated, log.unchanged) == (0, 1, 2)
    c1 = Customer.objects.for_organization(org).get(external_id="C1")
    assert c1.status == "closed" and c1.credit_limit is None
    actions = list(AuditEntry.objects.for_organization(org).filter(object_type="customers.customer",
                                                                  object_id=str(c1.pk))
                   .values_list("action", "before", "after"))
    assert actions == [("customer.changed", {"status": "active"}, {"status": "closed"})]
    # the same request pending: nothing twice
    assert LimitRequest.objects.for_organization(org).filter(customer=c1).count() == 1


def test_import_cannot_set_a_hold_or_change_a_limit_or_terms_directly(org, tmp_path):
    usd = CUSTOMERS.replace("C2,Beta SAS,fr,G,small,eur,45,active,,", "C2,Beta SAS,fr,G,small,USD,45,active,10,")
    log = run(org, "customers", write(tmp_path, "usd.csv", usd))
    assert "no USD->EUR rate" in errors_of(log)[(3, "credit_limit")]["reason"]
    run(org, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    LimitRequest.objects.for_organization(org).update(status="rejected")
    held = CUSTOMERS.replace("C1,Alpha GmbH,DE,C,medium,EUR,30,active,50000.00",
                             "C1,Alpha GmbH,DE,C,medium,EUR,30,blocked,50000.00")
    log = run(org, "customers", write(tmp_path, "held.csv", held))
    assert log.status == ImportLog.Status.REJECTED
    assert "hold" in errors_of(log)[(2, "status")]["reason"]
    assert Customer.objects.for_organization(org).get(external_id="C1").status == "active"
    raised = CUSTOMERS.replace("C2,Beta SAS,fr,G,small,eur,45,active,,", "C2,Beta SAS,fr,G,small,eur,90,active,900000,")
    log = run(org, "customers", write(tmp_path, "raised.csv", raised))
    assert log.status == ImportLog.Status.SUCCEEDED, log.errors
    c2 = Customer.objects.for_organization(org).get(external_id="C2")
    assert (c2.credit_limit, c2.payment_terms_days) == (None, 45)
    request = LimitRequest.objects.for_organization(org).get(customer=c2, status="pending")
    assert (request.requested_limit, request.requested_terms_days) == (Decimal("900000.00"), 90)


def test_a_partial_customer_file_leaves_what_it_omits_and_audits_what_it_changes(org, tmp_path):
    """A file with only the required columns once put an on-hold customer back to active, wiped its
    limit, e-mail, registration number, group and start date, and reset its terms to 30 days."""
    full = (
        "external_id,legal_name,registration_number,country,sector,size,group_external_id,group_name,currency,"
        "payment_terms_days,status,credit_limit,customer_since,email,phone,address\n"
        "C1,Alpha GmbH,HRB 1234,DE,C,large,G1,Alpha Holding,EUR,60,closed,75000.00,2015-04-01,ap@alpha.example,"
        "+49 30 1234,Hauptstr. 1\n"
    )
    run(org, "customers", write(tmp_path, "full.csv", full))
    before = Customer.objects.for_organization(org).get(external_id="C1")
    log = run(org, "customers", write(tmp_path, "partial.csv",
                                      "external_id,legal_name,country,sector,currency\nC1,Alpha AG,DE,C,EUR\n"
                                      "C9,New Customer,FR,G,EUR\n"))
    assert (log.status, log.created, log.updated) == ("succeeded", 1, 1)
    after = Customer.objects.for_organization(org).get(external_id="C1")
    kept = ["status", "credit_limit", "email", "registration_number", "group_id", "customer_since",
            "payment_terms_days", "size", "phone", "address"]
    assert {f: getattr(after, f) for f in kept} == {f: getattr(before, f) for f in kept}
    assert after.legal_name == "Alpha AG"
    [entry] = AuditEntry.objects.for_organization(org).filter(action="customer.changed", object_id=str(after.pk))
    assert (entry.before, entry.after) == ({"legal_name": "Alpha GmbH"}, {"legal_name": "Alpha AG"})
    # a new row of the same file gets the defaults
    new = Customer.objects.for_organization(org).get(external_id="C9")
    assert (new.status, new.payment_terms_days, new.size, new.credit_limit) == ("active", 30, "small", None)


def test_bad_file_is_rejected_with_located_errors_and_writes_nothing(org, tmp_path):
    bad = """external_id,legal_name,country,sector,currency,payment_terms_days,customer_since,credit_limit,email
C1,Alpha GmbH,DE,C,EUR,30,2024-01-31,1000,ok@example.com
C2,,XX,C,EUR,30,2024-13-01,1000,
C3,Gamma,DE,ZZ,EURO,400,2024-01-01,"1,000.00",not-an-email
C1,Alpha again,DE,C,EUR,30,,,
"""
    log = run(org, "customers", write(tmp_path, "bad.csv", bad))
    assert log.status == ImportLog.Status.REJECTED
    errs = errors_of(log)
    assert errs[(3, "legal_name")]["reason"] == "is required"
    assert "ISO 3166" in errs[(3, "country")]["reason"] and errs[(3, "country")]["value"] == "XX"
    assert errs[(3, "customer_since")]["value"] == "2024-13-01"
    assert "not a date" in errs[(3, "customer_since")]["reason"]
    assert "sector code" in errs[(4, "sector")]["reason"]
    assert "ISO 4217" in errs[(4, "currency")]["reason"]
    assert "at most 365" in errs[(4, "payment_terms_days")]["reason"]
    assert "thousands separator" in errs[(4, "credit_limit")]["reason"]
    assert "e-mail" in errs[(4, "email")]["reason"]
    assert "first on row 2" in errs[(5, "external_id")]["reason"]
    assert log.error_count == len(log.errors) == 9
    assert Customer.objects.for_organization(org).count() == 0
    assert not AuditEntry.objects.for_organization(org).filter(action="import.completed").exists()


def test_header_problems_are_reported_on_row_one(org, tmp_path):
    log = run(org, "customers", write(tmp_path, "h.csv", "external_id,legal_nam,country\nC1,A,DE\n"))
    errs = errors_of(log)
    assert "unknown column" in errs[(1, "legal_nam")]["reason"]
    assert errs[(1, "legal_name")]["reason"] == "required column is missing"
    assert errs[(1, "sector")]["reason"] == "required column is missing"


def test_semicolon_csv_with_bom_and_blank_lines(org, tmp_path):
    text = "\ufeffexternal_id;legal_name;country;sector;currency\nC1;Alpha;DE;C;EUR\n\nC2;Beta;AT;F;EUR\n;;;;\n"
    log = run(org, "customers", write(tmp_path, "c.csv", text))
    assert log.status == "succeeded", log.errors
    assert log.created == 2


def test_xlsx_import_with_date_and_number_cells(org, tmp_path):
    CustomerFactory(organization=org, external_id="1001")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["number", "customer_external_id", "issue_date", "due_date", "amount", "currency"])
    ws.append(["INV-1", 1001, dt.datetime(2026, 3, 1), dt.date(2026, 3, 31), 1234.5, "EUR"])
    ws.append(["INV-2", 1001, dt.datetime(2026, 3, 2), None, 99, "EUR"])
    path = tmp_path / "inv.xlsx"
    wb.save(path)
    log = run(org, "invoices", path)
    assert log.status == "succeeded", log.errors
    inv1, inv2 = Invoice.objects.for_organization(org).order_by("number")
    assert inv1.amount == Decimal("1234.50") and inv1.due_date == dt.date(2026, 3, 31)
    assert inv2.due_date == dt.date(2026, 4, 1)  # issue date + the customer's 30 days terms


def test_statement_that_does_not_balance_is_refused_at_its_row(org, tmp_path):
    CustomerFactory(organization=org, external_id="C1")
    head = ("customer_external_id,period_end,currency,cash,receivables,inventory,current_assets,total_assets,"
            "current_liabilities,total_liabilities,equity,revenue,ebit,ebitda,interest_expense,net_income\n")
    good = "C1,2024-12-31,EUR,100,200,150,500,1000,250,600,400,2000,120,160,30,70\n"
    bad = "C1,2025-12-31,EUR,100,200,150,500,1000,250,600,300,2000,120,160,30,70\n"
    log = run(org, "statements", write(tmp_path, "s.csv", head + good + bad))
    assert log.status == "rejected"
    assert "does not balance" in errors_of(log)[(3, "equity")]["reason"]
    assert FinancialStatement.objects.count() == 0
    log = run(org, "statements", write(tmp_path, "s2.csv", head + good))
    assert log.created == 1
    assert FinancialStatement.objects.get().ratios["current_ratio"] == pytest.approx(2.0)


def test_signals_import_and_bureau_score_range(org, tmp_path):
    CustomerFactory(organization=org, external_id="C1")
    text = ("customer_external_id,kind,observed_on,source,value,severity\n"
            "C1,bureau_score,2026-01-01,Bureau,55,info\nC1,litigation,2026-02-01,Court,,medium\n"
            "C1,bureau_score,2026-03-01,Bureau,140,info\n")
    log = run(org, "signals", write(tmp_path, "sig.csv", text))
    assert "between 0 and 100" in errors_of(log)[(4, "value")]["reason"]
    log = run(org, "signals", write(tmp_path, "sig2.csv", "\n".join(text.splitlines()[:3]) + "\n"))
    assert log.created == 2
    assert ExternalSignal.objects.get(kind="litigation").reference == "litigation:2026-02-01"


INVOICES = """number,customer_external_id,issue_date,due_date,amount,currency,order_number
INV-1,C1,2026-01-01,2026-01-31,100.00,EUR,SO-1
INV-2,C1,2026-02-01,2026-03-03,200.00,EUR,
INV-3,C1,2026-03-01,2026-03-31,300.00,EUR,
"""


@pytest.fixture
def with_invoices(org, tmp_path):
    CustomerFactory(organization=org, external_id="C1")
    CustomerFactory(organization=org, external_id="C2")
    orders = "number,customer_external_id,order_date,amount,currency\nSO-1,C1,2025-12-20,100.00,EUR\n"
    assert run(org, "orders", write(tmp_path, "o.csv", orders)).status == "succeeded"
    log = run(org, "invoices", write(tmp_path, "i.csv", INVOICES))
    assert log.status == "succeeded", log.errors
    return org


def test_invoices_link_orders_and_reimport_is_idempotent(with_invoices, tmp_path):
    org = with_invoices
    assert Order.objects.get(number="SO-1").status == Order.Status.INVOICED
    assert Invoice.objects.get(number="INV-1").order.number == "SO-1"
    again = run(org, "invoices", write(tmp_path, "i.csv", INVOICES))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_reimport_that_moves_a_due_date_is_a_correction_in_the_ledger(with_invoices, tmp_path):
    """A re-sent invoice is never rewritten silently: each changed document has its entry, old and new."""
    org = with_invoices
    moved = INVOICES.replace("INV-2,C1,2026-02-01,2026-03-03,200.00", "INV-2,C1,2026-02-01,2030-12-31,250.00")
    log = run(org, "invoices", write(tmp_path, "moved.csv", moved))
    assert (log.updated, log.unchanged) == (1, 2)
    invoice = Invoice.objects.get(number="INV-2")
    [entry] = AuditEntry.objects.for_organization(org).filter(action="invoice.corrected", object_id=str(invoice.pk))
    assert entry.before == {"due_date": "2026-03-03", "amount": "200.00"}
    assert entry.after == {"due_date": "2030-12-31", "amount": "250.00"}
    assert entry.object_repr == "INV-2" and entry.reason == "import"


def test_invoice_conflicts_are_refused(with_invoices, tmp_path):
    org = with_invoices
    run(org, "payments", write(tmp_path, "p.csv", "reference,customer_external_id,received_on,amount,currency,"
                                                  "invoice_number\nP1,C1,2026-02-10,80.00,EUR,INV-1\n"))
    text = ("number,customer_external_id,issue_date,due_date,amount,currency\n"
            "INV-1,C1,2026-01-01,2026-01-31,50.00,EUR\n"  # below the 80.00 already paid
            "INV-2,C2,2026-02-01,2026-03-03,200.00,EUR\n"  # another customer
            "INV-9,C9,2026-02-01,2026-01-03,10.00,EUR\n")  # unknown customer, due before issue
    log = run(org, "invoices", write(tmp_path, "bad.csv", text))
    errs = errors_of(log)
    assert "no customer with this id" in errs[(4, "customer_external_id")]["reason"]
    assert "before issue_date" in errs[(4, "due_date")]["reason"]
    log = run(org, "invoices", write(tmp_path, "bad2.csv", "\n".join(text.splitlines()[:3]) + "\n"))
    errs = errors_of(log)
    assert "80.00 already paid" in errs[(2, "amount")]["reason"]
    assert "already exists for customer C1" in errs[(3, "number")]["reason"]
    assert Invoice.objects.get(number="INV-1").amount == Decimal("100.00")


def _open(number):
    return Invoice.objects.get(number=number).open_amount_on()


def test_payments_explicit_oldest_first_partial_and_overpayment(with_invoices, tmp_path):
    org = with_invoices
    text = ("reference,customer_external_id,received_on,amount,currency,invoice_number\n"
            "P1,C1,2026-03-05,250.00,EUR,INV-2\n"  # explicit: 200 to INV-2, 50 stays on account
            "P2,C1,2026-03-06,150.00,EUR,\n")  # oldest first: 100 to INV-1, 50 to INV-3
    log = run(org, "payments", write(tmp_path, "p.csv", text))
    assert log.status == "succeeded", log.errors
    assert "3 allocation(s)" in log.message and "50.00 left on account" in log.message
    assert (_open("INV-1"), _open("INV-2"), _open("INV-3")) == (Decimal("0"), Decimal("0"), Decimal("250.00"))
    assert Payment.objects.with_unapplied().get(reference="P1").unapplied == Decimal("50.00")
    # the same file again applies nothing twice
    again = run(org, "payments", write(tmp_path, "p.csv", text))
    assert (again.created, again.unchanged) == (0, 2)
    assert Allocation.objects.count() == 3
    # as-of balances: before P2 arrived INV-1 was still open
    inv1 = Invoice.objects.with_balances(dt.date(2026, 3, 5)).get(number="INV-1")
    assert inv1.open_amount == Decimal("100.00")
    assert inv1.days_past_due(dt.date(2026, 3, 5), inv1.open_amount) == 33


def test_payment_changed_after_import_is_refused(with_invoices, tmp_path):
    org = with_invoices
    head = "reference,customer_external_id,received_on,amount,currency\n"
    run(org, "payments", write(tmp_path, "p.csv", head + "P1,C1,2026-03-05,50.00,EUR\n"))
    log = run(org, "payments", write(tmp_path, "p2.csv", head + "P1,C1,2026-03-05,60.00,EUR\n"))
    assert "already imported" in errors_of(log)[(2, "reference")]["reason"]
    assert Payment.objects.get().amount == Decimal("50.00")


def test_payment_for_other_customers_or_currency_invoice_is_refused(with_invoices, tmp_path):
    org = with_invoices
    text = ("reference,customer_external_id,received_on,amount,currency,invoice_number\n"
            "P1,C2,2026-03-05,50.00,EUR,INV-1\nP2,C1,2026-03-05,50.00,USD,INV-1\n")
    errs = errors_of(run(org, "payments", write(tmp_path, "p.csv", text)))
    assert "belongs to another customer" in errs[(2, "invoice_number")]["reason"]
    assert "another currency" in errs[(3, "invoice_number")]["reason"]
    assert Payment.objects.count() == 0


def test_credit_note_reduces_the_named_invoice(with_invoices, tmp_path):
    org = with_invoices
    text = "number,customer_external_id,issue_date,amount,currency,reason,invoice_number\n" \
           "CN-1,C1,2026-03-10,30.00,EUR,Damaged,INV-3\n"
    log = run(org, "credit_notes", write(tmp_path, "cn.csv", text))
    assert log.status == "succeeded", log.errors
    assert _open("INV-3") == Decimal("270.00")
    assert CreditNote.objects.get().allocations.get().allocated_on == dt.date(2026, 3, 10)


def test_dry_run_validates_and_writes_nothing(org, tmp_path):
    log = run(org, "customers", write(tmp_path, "c.csv", CUSTOMERS), dry_run=True)
    assert log.status == "succeeded" and log.created == 3 and "Dry run" in log.message
    assert Customer.objects.for_organization(org).count() == 0


def test_import_is_scoped_to_the_organization(org, other_org, tmp_path):
    CustomerFactory(organization=other_org, external_id="C1")
    log = run(org, "invoices", write(tmp_path, "i.csv", INVOICES))
    assert "no customer with this id in your organization" in errors_of(log)[(2, "customer_external_id")]["reason"]


def test_command_reports_success_and_located_errors(org, tmp_path):
    out = StringIO()
    call_command("import", "customers", str(write(tmp_path, "c.csv", CUSTOMERS)), organization="acme", stdout=out)
    assert "3 created" in out.getvalue()
    err = StringIO()
    bad = write(tmp_path, "bad.csv", "external_id,legal_name,country,sector,currency\nC9,X,DE,C,EURO\n")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import", "customers", str(bad), organization="acme", stderr=err)
    assert "bad.csv, row 2, column 'currency': 'EURO': is not an ISO 4217 currency code" in err.getvalue()


def test_unreadable_file_is_rejected_clearly(org, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("external_id,legal_name\nC1,Müller\n".encode("cp1252"))
    log = run(org, "customers", path)
    assert log.status == "rejected" and "not utf-8 text" in log.errors[0]["reason"]
    log = run(org, "customers", path, encoding="cp1252")
    assert all("utf-8" not in e["reason"] for e in log.errors)  # decodes; only the missing columns remain
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert "unsupported file type" in run(org, "customers", pdf).errors[0]["reason"]


def test_invoice_settled_by_parts_is_closed_to_the_cent(with_invoices, tmp_path):
    """3445.53 = 1879.37 + 1566.16: SQLite's float arithmetic leaves 4.5e-13; the invoice is still paid."""
    org = with_invoices
    head = "number,customer_external_id,issue_date,due_date,amount,currency\n"
    run(org, "invoices", write(tmp_path, "i.csv", head + "INV-X,C1,2025-07-23,2025-09-21,3445.53,EUR\n"))
    run(org, "payments", write(tmp_path, "p.csv", "reference,customer_external_id,received_on,amount,currency,"
                                                  "invoice_number\nPX1,C1,2025-09-23,1879.37,EUR,INV-X\n"
                                                  "PX2,C1,2025-10-05,1566.16,EUR,INV-X\n"))
    as_of = dt.date(2026, 11, 29)
    assert not Invoice.objects.for_organization(org).open(as_of).filter(number="INV-X").exists()
    assert Invoice.objects.with_balances(as_of).get(number="INV-X").open_amount == Decimal("0.00")
    from receivables.selectors import customer_balances

    c1 = Invoice.objects.get(number="INV-X").customer_id
    assert customer_balances(org, as_of, [c1])[c1].open == Decimal("600.00")  # INV-1..3 only
