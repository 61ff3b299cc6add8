"""Each tenant sees only its own data: another organization's object answers 404 everywhere."""

import pytest
from django.urls import reverse

from credit_platform.models import AuditEntry, ImportLog
from credit_platform.roles import Role
from customers.models import Customer, CustomerGroup
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_tenants(org, other_org):
    mine = CustomerFactory(organization=org, legal_name="Mine GmbH", external_id="SAME")
    theirs = CustomerFactory(organization=other_org, legal_name="Theirs Ltd", external_id="SAME")
    InvoiceFactory(customer=theirs)
    return mine, theirs


def test_pages_answer_404_for_another_tenants_customer(client, org, member, two_tenants):
    mine, theirs = two_tenants
    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.get(reverse("customer-detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("customer-detail", args=[theirs.pk])).status_code == 404
    page = client.get(reverse("customer-list")).content.decode()
    assert "Mine GmbH" in page and "Theirs Ltd" not in page


def test_admin_answers_404_and_lists_only_own(client, org, member, two_tenants):
    mine, theirs = two_tenants
    client.force_login(member(org, Role.CREDIT_MANAGER))
    assert client.get(reverse("admin:customers_customer_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:customers_customer_change", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:customers_customer_delete", args=[theirs.pk])).status_code in (403, 404)
    listing = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "Mine GmbH" in listing and "Theirs Ltd" not in listing
    invoices = client.get(reverse("admin:receivables_invoice_changelist")).content.decode()
    assert "0 invoices" in invoices or "INV-" not in invoices


def test_api_answers_404_for_another_tenants_customer(client, org, member, two_tenants):
    mine, theirs = two_tenants
    client.force_login(member(org, Role.INTEGRATOR))
    assert client.get(f"/api/v1/customers/{mine.pk}/").status_code == 200
    response = client.get(f"/api/v1/customers/{theirs.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    listed = client.get("/api/v1/customers/").json()["results"]
    assert [c["legal_name"] for c in listed] == ["Mine GmbH"]
    assert client.get("/api/v1/invoices/").json()["results"] == []


def test_import_log_of_another_tenant_is_404(client, org, other_org, member):
    theirs = ImportLog.objects.create(organization=other_org, kind="customers", file_name="x.csv")
    client.force_login(member(org))
    assert client.get(reverse("import-detail", args=[theirs.pk])).status_code == 404


def test_switching_to_an_organization_you_do_not_belong_to_is_404(client, org, other_org, member):
    user = member(org)
    client.force_login(user)
    assert client.post(reverse("switch-organization"), {"organization": other_org.pk}).status_code == 404


def test_member_of_two_organizations_switches_between_them(client, org, other_org, member, two_tenants):
    from credit_platform.services import membership_grant

    user = member(org, Role.CREDIT_OFFICER)
    membership_grant(organization=other_org, user=user, role=Role.AUDITOR)
    client.force_login(user)
    response = client.post(reverse("switch-organization"), {"organization": other_org.pk})
    assert response.status_code == 302
    page = client.get(reverse("customer-list")).content.decode()
    assert "Theirs Ltd" in page and "Mine GmbH" not in page


def test_user_without_membership_sees_no_data(client, db, two_tenants):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("home")).status_code == 403
    assert client.get(reverse("customer-list")).status_code == 404
    assert client.get("/api/v1/customers/").status_code == 403


def test_admin_foreign_key_choices_are_scoped(client, org, other_org, member):
    CustomerGroup.objects.create(organization=org, external_id="G1", name="Our group")
    CustomerGroup.objects.create(organization=other_org, external_id="G2", name="Their group")
    client.force_login(member(org, Role.CREDIT_MANAGER))
    response = client.get(reverse("admin:autocomplete"),
                          {"app_label": "customers", "model_name": "customer", "field_name": "group", "term": ""})
    names = [r["text"] for r in response.json()["results"]]
    assert names == ["Our group"]


def test_admin_add_sets_organization_validates_uniqueness_and_audits(client, org, member):
    CustomerFactory(organization=org, external_id="C1")
    client.force_login(member(org, Role.CREDIT_MANAGER))
    data = {"external_id": "C1", "legal_name": "Dup", "status": "active", "country": "DE", "sector": "C",
            "size": "small", "currency": "EUR", "payment_terms_days": 30,
            "statements-TOTAL_FORMS": 0, "statements-INITIAL_FORMS": 0}
    response = client.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 200 and "already exists" in response.content.decode()
    data["external_id"] = "C2"
    response = client.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 302
    created = Customer.objects.get(external_id="C2")
    assert created.organization == org
    assert AuditEntry.objects.filter(action="customer.created", object_id=str(created.pk)).exists()


@pytest.mark.parametrize(
    ("role", "can_edit_customers", "can_see_audit"),
    [(Role.CREDIT_MANAGER, True, True), (Role.AUDITOR, False, True), (Role.COLLECTOR, False, False),
     (Role.CREDIT_OFFICER, True, False)],
)
def test_roles_decide_what_the_admin_allows(client, org, member, role, can_edit_customers, can_see_audit):
    customer = CustomerFactory(organization=org)
    client.force_login(member(org, role))
    change = client.post(reverse("admin:customers_customer_change", args=[customer.pk]), {})
    assert (change.status_code == 200) is can_edit_customers  # 200: the form, re-shown with its errors
    assert (client.get(reverse("admin:credit_platform_auditentry_changelist")).status_code == 200) is can_see_audit


def test_auditor_cannot_import(client, org, member, tmp_path):
    client.force_login(member(org, Role.AUDITOR))
    path = tmp_path / "c.csv"
    path.write_text("external_id,legal_name,country,sector,currency\nC1,A,DE,C,EUR\n")
    with open(path, "rb") as fh:
        response = client.post(reverse("import-list"), {"kind": "customers", "file": fh, "encoding": "utf-8"})
    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_admin_invoice_state_filter_and_used_currencies_only(client, org, member):
    import datetime as dt
    from decimal import Decimal

    from receivables.models import Allocation
    from tests.factories import PaymentFactory

    customer = CustomerFactory(organization=org)
    InvoiceFactory(customer=customer, number="OPEN-1", issue_date=dt.date(2020, 1, 1))
    paid = InvoiceFactory(customer=customer, number="PAID-1", issue_date=dt.date(2020, 1, 1))
    payment = PaymentFactory(customer=customer, amount=Decimal("100.00"))
    Allocation.objects.create(organization=org, invoice=paid, payment=payment, amount=Decimal("100.00"),
                              allocated_on=payment.received_on)
    client.force_login(member(org, Role.FINANCE_APPROVER))
    url = reverse("admin:receivables_invoice_changelist")
    overdue = client.get(url, {"state": "overdue"}).content.decode()
    assert "OPEN-1" in overdue and "PAID-1" not in overdue
    settled = client.get(url, {"state": "settled"}).content.decode()
    assert "PAID-1" in settled and "OPEN-1" not in settled
    assert "USD" not in client.get(url).content.decode()  # only currencies in use are offered
