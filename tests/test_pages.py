"""Pages a credit officer uses render the organization's data with a bounded number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from credit_platform.roles import Role
from receivables.models import Allocation
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org):
    customers = [CustomerFactory(organization=org) for _ in range(30)]
    for c in customers:
        inv = InvoiceFactory(customer=c, issue_date=dt.date(2026, 1, 1), amount=Decimal("500.00"))
        pay = PaymentFactory(customer=c, amount=Decimal("200.00"))
        Allocation.objects.create(organization=org, invoice=inv, payment=pay, amount=Decimal("200.00"),
                                  allocated_on=pay.received_on)
    StatementFactory(customer=customers[0])
    return customers


def test_dashboard_shows_exposure_and_aging(officer_client, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(17):  # 15 + the active alerts' count (nav) and list (overview)
        page = officer_client.get(reverse("home"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "9,000" in text  # 30 customers x 300.00 open
    assert "Over 180" in text


def test_customer_list_queries_do_not_grow_with_rows(officer_client, book, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        page = officer_client.get(reverse("customer-list"))
    assert page.status_code == 200 and page.context["paginator"].count == 30
    assert page.context["rows"][0].open == Decimal("300.00")
    filtered = officer_client.get(reverse("customer-list"), {"q": book[3].external_id})
    assert filtered.context["paginator"].count == 1


def test_customer_360_shows_ratios_and_open_items(officer_client, book):
    page = officer_client.get(reverse("customer-detail", args=[book[0].pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Altman Z" in text and "4.12" in text
    assert page.context["balance"].open == Decimal("300.00")


def test_import_upload_page_runs_the_import_and_shows_errors(
    client, org, member, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(member(org, Role.CREDIT_OFFICER))
    path = tmp_path / "c.csv"
    path.write_text("external_id,legal_name,country,sector,currency\nC1,A,DE,C,EUR\nC2,B,DE,C,EURO\n")
    with open(path, "rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import-list"), {"kind": "customers", "file": fh, "encoding": "utf-8"})
    response = client.get(response["Location"])
    text = response.content.decode()
    assert response.status_code == 200
    assert "Rejected" in text and "ISO 4217" in text and "EURO" in text


def test_import_template_download(officer_client):
    response = officer_client.get(reverse("import-template", args=["invoices"]))
    assert response.content.decode().startswith("number,customer_external_id,issue_date,due_date,amount")


def test_login_page_and_redirect(client, db):
    assert client.get(reverse("customer-list")).status_code == 302
    assert client.get(reverse("login")).status_code == 200
