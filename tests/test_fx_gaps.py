"""A currency without an FX rate never takes the tenant down: an import names the row that lacks a rate,
and a page whose rate went missing shows its figures under a banner naming the currency and date."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from credit_platform.imports.engine import import_file
from credit_platform.models import FXRate, ImportLog
from credit_platform.roles import Role
from receivables.models import Invoice
from tests.factories import CustomerFactory, FXRateFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

D = dt.date


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


INVOICES = ("number,customer_external_id,issue_date,amount,currency\n"
            "I-1,C1,2026-01-05,1000,EUR\nI-2,C1,2026-01-05,50000,JPY\n")


def test_an_invoice_in_a_currency_without_a_rate_is_a_located_import_error(org, tmp_path):
    CustomerFactory(organization=org, external_id="C1")
    path = write(tmp_path, "inv.csv", INVOICES)
    log = import_file(organization=org, kind="invoices", path=path)
    assert (log.status, log.created) == (ImportLog.Status.REJECTED, 0)
    assert log.errors == [{"row": 3, "column": "currency", "value": "JPY",
                           "reason": "no JPY->EUR rate on or before 2026-01-05 (issue_date); import FX rates first"}]
    assert not Invoice.objects.for_organization(org).exists()

    FXRateFactory(organization=org, currency="JPY", rate_date=D(2026, 2, 1), rate=Decimal("0.0061"))
    log = import_file(organization=org, kind="invoices", path=path)
    assert log.status == ImportLog.Status.REJECTED  # a rate from after the invoice date does not convert it

    FXRateFactory(organization=org, currency="JPY", rate_date=D(2026, 1, 1), rate=Decimal("0.0062"))
    log = import_file(organization=org, kind="invoices", path=path)
    assert (log.status, log.created) == (ImportLog.Status.SUCCEEDED, 2)


@pytest.mark.parametrize("kind,text", [
    ("payments", "reference,customer_external_id,received_on,amount,currency\nP-1,C1,2026-03-01,10,XXX\n"),
    ("credit_notes", "number,customer_external_id,issue_date,amount,currency\nCN-1,C1,2026-03-01,10,XXX\n"),
    ("orders", "number,customer_external_id,order_date,amount,currency\nSO-1,C1,2026-03-01,10,XXX\n"),
])
def test_every_money_document_needs_a_rate(org, tmp_path, kind, text):
    CustomerFactory(organization=org, external_id="C1")
    log = import_file(organization=org, kind=kind, path=write(tmp_path, f"{kind}.csv", text))
    assert log.status == ImportLog.Status.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in log.errors] == [(2, "currency", "XXX")]
    assert "no XXX->EUR rate on or before 2026-03-01" in log.errors[0]["reason"]


def test_the_upload_page_answers_with_the_located_error(client, org, member, tmp_path, settings,
                                                        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    CustomerFactory(organization=org, external_id="C1")
    client.force_login(member(org, Role.CREDIT_OFFICER))
    with open(write(tmp_path, "inv.csv", INVOICES), "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-list"), {"kind": "invoices", "file": fh, "encoding": "utf-8"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "no JPY-&gt;EUR rate on or before 2026-01-05" in page and "Rejected" in page
    assert not Invoice.objects.for_organization(org).exists()


@pytest.fixture
def book_with_a_lost_rate(org):
    """A JPY invoice imported while its rate existed; then the rate was deleted."""
    customer = CustomerFactory(organization=org, currency="JPY", legal_name="Tokyo Trading KK",
                               credit_limit=Decimal("5000000"))
    eur = CustomerFactory(organization=org, legal_name="Berlin GmbH")
    InvoiceFactory(customer=customer, currency="JPY", amount=Decimal("300000"), issue_date=D(2026, 6, 1))
    InvoiceFactory(customer=eur, amount=Decimal("700.00"), issue_date=D(2026, 6, 1))
    FXRate.objects.for_organization(org).filter(currency="JPY").delete()
    return customer


PAGES = [
    ("home", False), ("customer-list", False), ("customer-detail", True), ("collections-overview", False),
    ("collections-worklist", False), ("collections-file", True), ("collections-ecl", False),
    ("scoring-home", False), ("collections-dunning", False),
]


@pytest.mark.parametrize("name,per_customer", PAGES)
def test_pages_answer_with_a_flagged_figure_when_a_rate_is_missing(client, org, member, book_with_a_lost_rate,
                                                                   name, per_customer):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    url = reverse(name, args=[book_with_a_lost_rate.pk] if per_customer else [])
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    if name != "collections-dunning":  # the dunning page converts nothing
        assert 'class="fx-gap"' in text, name
        assert "no JPY→EUR rate on or before 2026-11-29" in text, name


def test_aging_as_of_a_date_before_the_first_rate_is_flagged(client, org, member):
    customer = CustomerFactory(organization=org, currency="USD")
    InvoiceFactory(customer=customer, currency="USD", amount=Decimal("100.00"), issue_date=D(2026, 5, 2))
    FXRateFactory(organization=org, currency="USD", rate_date=D(2026, 5, 10), rate=Decimal("0.9"))
    client.force_login(member(org, Role.CREDIT_MANAGER))
    for name in ("collections-overview", "collections-ecl"):
        response = client.get(reverse(name), {"as_of": "2026-05-05"})
        assert response.status_code == 200
        assert "no USD→EUR rate on or before 2026-05-05" in response.content.decode(), name
        today = client.get(reverse(name))
        assert today.status_code == 200 and 'class="fx-gap"' not in today.content.decode(), name


def test_the_statement_pdf_leaves_out_the_base_total_it_cannot_compute(client, org, member, book_with_a_lost_rate):
    from receivables.statements import statement_build

    client.force_login(member(org, Role.COLLECTOR))
    response = client.get(reverse("collections-statement", args=[book_with_a_lost_rate.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    st = statement_build(org, book_with_a_lost_rate, D(2026, 11, 29))
    assert st.aging_base is None and st.aging_by_currency["JPY"]


def test_writes_and_the_api_keep_a_missing_rate_an_error(client, org, member, book_with_a_lost_rate):
    from credit_platform.errors import AppError
    from credit_platform.money import FxTable

    with pytest.raises(AppError, match="No JPY->EUR rate on or before 2026-11-29"):
        FxTable.load(org, D(2026, 11, 29)).rate("JPY")
    client.force_login(member(org, Role.INTEGRATOR))
    response = client.get("/api/v1/grades/")
    assert response.status_code in (200, 400)  # never a 500
    if response.status_code == 400:
        assert response.json()["code"] == "fx_rate_missing"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_log_tells_the_truth_when_work_after_the_commit_fails(org, tmp_path):
    """Rows and log commit together; a follow-up that fails after the commit does not make the log say
    that nothing was written."""
    from django.db import transaction

    from credit_platform.imports.engine import import_written

    def failing_follow_up(**kwargs):
        def boom():
            raise RuntimeError("scoring is down")
        transaction.on_commit(boom)

    import_written.connect(failing_follow_up, dispatch_uid="test.failing")
    try:
        CustomerFactory(organization=org, external_id="C1")
        log = import_file(organization=org, kind="invoices", path=write(
            tmp_path, "i.csv", "number,customer_external_id,issue_date,amount,currency\nI-9,C1,2026-01-05,10,EUR\n"))
    finally:
        import_written.disconnect(dispatch_uid="test.failing")
    log.refresh_from_db()
    assert (log.status, log.created) == (ImportLog.Status.SUCCEEDED, 1)
    assert "scoring is down" in log.message and "nothing was written" not in log.message
    assert Invoice.objects.for_organization(org).filter(number="I-9").exists()
