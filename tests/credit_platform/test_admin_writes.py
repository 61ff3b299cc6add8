"""Every admin write goes through a service: posted documents are corrected with a reason and the ledger
keeps the old and new values (or the change is refused); new payments and credit notes are applied."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from credit_platform.admin_base import TenantAdmin
from credit_platform.models import AuditEntry, Membership
from credit_platform.roles import Role
from customers.models import FinancialStatement
from receivables.models import Allocation, CreditNote, DunningLevel, Invoice, Payment
from receivables.services import payment_record
from tests.admin_forms import admin_post
from tests.factories import CustomerFactory, InvoiceFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = dt.date


def ledger(org, action, obj):
    return list(AuditEntry.objects.for_organization(org).filter(action=action, object_id=str(obj.pk)))


@pytest.fixture
def approver(client, org, member):
    client.force_login(member(org, Role.FINANCE_APPROVER))
    return client


def test_an_invoice_due_date_moved_out_of_dunning_is_a_correction_with_a_reason_in_the_ledger(approver, org):
    invoice = InvoiceFactory(customer=CustomerFactory(organization=org), number="INV-2023-1",
                             issue_date=D(2023, 2, 1), due_date=D(2023, 3, 3), amount=Decimal("5000.00"))
    url = reverse("admin:receivables_invoice_change", args=[invoice.pk])

    # without a reason the change is refused: the form comes back and nothing moves
    response = admin_post(approver, url, due_date="2030-12-31", correction_reason="")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.due_date == D(2023, 3, 3)
    assert not ledger(org, "invoice.corrected", invoice)

    # with a reason it is recorded, old and new value; the amount of a posted invoice is not on the form
    response = admin_post(approver, url, due_date="2030-12-31", amount="1.00",
                          correction_reason="Customer agreed a payment plan")
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.due_date, invoice.amount) == (D(2030, 12, 31), Decimal("5000.00"))
    [entry] = ledger(org, "invoice.corrected", invoice)
    assert entry.before == {"due_date": "2023-03-03"} and entry.after == {"due_date": "2030-12-31"}
    assert entry.reason == "Customer agreed a payment plan" and entry.actor_label.startswith("user")


def test_a_posted_invoice_keeps_its_amount_customer_and_currency(approver, org):
    invoice = InvoiceFactory(customer=CustomerFactory(organization=org))
    page = approver.get(reverse("admin:receivables_invoice_change", args=[invoice.pk])).content.decode()
    for field in ("amount", "customer", "currency", "issue_date", "number"):
        assert f'name="{field}"' not in page, field
    assert 'name="due_date"' in page and 'name="correction_reason"' in page


def test_a_payment_edit_corrects_only_its_method_with_a_reason(approver, org):
    customer = CustomerFactory(organization=org)
    InvoiceFactory(customer=customer, amount=Decimal("100.00"))
    payment, _ = payment_record(customer=customer, reference="PAY-1", received_on=D(2026, 2, 1),
                                amount=Decimal("100.00"), currency="EUR")
    url = reverse("admin:receivables_payment_change", args=[payment.pk])
    response = admin_post(approver, url, method="cheque", amount="1.00", received_on="2020-01-01",
                          correction_reason="Was a cheque, not a transfer")
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.method, payment.amount, payment.received_on) == ("cheque", Decimal("100.00"), D(2026, 2, 1))
    [entry] = ledger(org, "payment.corrected", payment)
    assert (entry.before, entry.after) == ({"method": "transfer"}, {"method": "cheque"})
    assert entry.reason == "Was a cheque, not a transfer"


def test_a_financial_statement_correction_is_in_the_ledger_and_an_unbalanced_one_is_refused(client, org, member):
    client.force_login(member(org, Role.CREDIT_MANAGER))
    statement = StatementFactory(customer=CustomerFactory(organization=org))
    url = reverse("admin:customers_financialstatement_change", args=[statement.pk])

    response = admin_post(client, url, revenue="2500.00", correction_reason="Audited figures received")
    assert response.status_code == 302
    [entry] = ledger(org, "statement.corrected", statement)
    assert (entry.before, entry.after) == ({"revenue": "2000.00"}, {"revenue": "2500.00"})

    # total assets no longer equal liabilities + equity: refused, nothing written
    response = admin_post(client, url, total_assets="5000.00", correction_reason="typo")
    assert response.status_code == 200
    assert FinancialStatement.objects.get(pk=statement.pk).total_assets == Decimal("1000.00")
    assert len(ledger(org, "statement.corrected", statement)) == 1
    page = client.get(url).content.decode()
    assert 'name="period_end"' not in page and 'name="customer"' not in page


def test_a_payment_added_in_the_admin_is_applied_and_audited(approver, org):
    customer = CustomerFactory(organization=org)
    old = InvoiceFactory(customer=customer, number="OLD", issue_date=D(2026, 1, 1), amount=Decimal("60.00"))
    new = InvoiceFactory(customer=customer, number="NEW", issue_date=D(2026, 3, 1), amount=Decimal("60.00"))
    response = admin_post(approver, reverse("admin:receivables_payment_add"), customer=customer.pk,
                          reference="PAY-ADMIN", received_on="2026-04-01", amount="100.00", currency="EUR",
                          method="transfer", apply_to_invoice="")
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = Payment.objects.for_organization(org).get(reference="PAY-ADMIN")
    applied = dict(Allocation.objects.filter(payment=payment).values_list("invoice__number", "amount"))
    assert applied == {"OLD": Decimal("60.00"), "NEW": Decimal("40.00")}  # oldest first
    [entry] = ledger(org, "payment.recorded", payment)
    assert entry.after["applied"] == "100.00" and entry.after["on_account"] == "0.00"
    assert old.open_amount_on() == 0 and new.open_amount_on() == Decimal("20.00")


def test_a_credit_note_added_in_the_admin_is_applied_to_the_named_invoice(approver, org):
    customer = CustomerFactory(organization=org)
    InvoiceFactory(customer=customer, number="FIRST", amount=Decimal("50.00"))
    target = InvoiceFactory(customer=customer, number="TARGET", amount=Decimal("50.00"),
                            issue_date=D(2026, 2, 1))
    url = reverse("admin:receivables_creditnote_add")
    bad = admin_post(approver, url, customer=customer.pk, number="CN-1", issue_date="2026-03-01", amount="30.00",
                     currency="EUR", reason="damaged goods", apply_to_invoice="NO-SUCH")
    assert bad.status_code == 200 and "No invoice NO-SUCH" in bad.content.decode()
    assert not CreditNote.objects.exists()
    response = admin_post(approver, url, customer=customer.pk, number="CN-1", issue_date="2026-03-01",
                          amount="30.00", currency="EUR", reason="damaged goods", apply_to_invoice="TARGET")
    assert response.status_code == 302
    note = CreditNote.objects.get(number="CN-1")
    assert list(Allocation.objects.filter(credit_note=note).values_list("invoice_id", "amount")) == [
        (target.pk, Decimal("30.00"))]
    assert ledger(org, "credit_note.recorded", note)


def test_an_invoice_added_in_the_admin_is_posted_through_the_service(approver, org):
    customer = CustomerFactory(organization=org)
    response = admin_post(approver, reverse("admin:receivables_invoice_add"), customer=customer.pk,
                          number="INV-A1", issue_date="2026-05-01", due_date="2026-05-31", amount="10.00",
                          currency="EUR")
    assert response.status_code == 302
    invoice = Invoice.objects.for_organization(org).get(number="INV-A1")
    [entry] = ledger(org, "invoice.posted", invoice)
    assert entry.after["amount"] == "10.00" and entry.after["due_date"] == "2026-05-31"


def test_a_dunning_level_with_a_broken_template_is_refused_in_the_admin(client, org, member):
    from receivables.dunning.policy import dunning_policy_ensure_default

    policy = dunning_policy_ensure_default(org)
    level = policy.levels.order_by("days").first()
    client.force_login(member(org, Role.CREDIT_MANAGER))
    url = reverse("admin:receivables_dunningpolicy_change", args=[policy.pk])
    index = list(policy.levels.order_by("days").values_list("pk", flat=True)).index(level.pk)
    response = admin_post(client, url, **{f"levels-{index}-subject_en": "Hello {% if %}"})
    assert response.status_code == 200 and "is not a valid template" in response.content.decode()
    assert DunningLevel.objects.get(pk=level.pk).subject_en != "Hello {% if %}"
    response = admin_post(client, url, **{f"levels-{index}-subject_en": "Reminder from {{ organization }}"})
    assert response.status_code == 302
    [entry] = ledger(org, "dunning.level_changed", level)
    assert entry.after["subject_en"] == "Reminder from {{ organization }}"


def test_every_admin_that_writes_saves_through_a_service(org, member):
    """No admin falls back on Django's own save: each one that lets an organization's administrator add
    or change records overrides save_model (and delete_model where it may delete) to call a service."""
    from django.contrib.admin import ModelAdmin
    from django.test import RequestFactory

    user = member(org, Role.ADMIN)
    request = RequestFactory().get("/admin/")
    request.user, request.organization = user, org
    request.membership = Membership.objects.get(user=user, organization=org)
    # Shared reference data (countries, sectors) belongs to no tenant's ledger; only platform operators
    # (superusers) edit it, like Django's own user, group and token screens.
    exempt = {"auth", "authtoken"}
    writers = 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in exempt:
            continue
        cls = type(model_admin)
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            writers += 1
            assert cls.save_model not in (ModelAdmin.save_model, TenantAdmin.save_model), \
                f"{cls.__name__} saves around the services"
        if model_admin.has_delete_permission(request):
            assert cls.delete_model not in (ModelAdmin.delete_model, TenantAdmin.delete_model), cls.__name__
    assert writers >= 15


def test_organization_and_membership_changes_in_the_admin_are_audited(client, org, member):
    from tests.factories import UserFactory

    admin_user = member(org, Role.ADMIN)
    client.force_login(admin_user)
    response = admin_post(client, reverse("admin:credit_platform_organization_change", args=[org.pk]),
                          time_zone="Asia/Shanghai")
    assert response.status_code == 302
    [entry] = ledger(org, "organization.changed", org)
    assert (entry.before, entry.after) == ({"time_zone": "Europe/Berlin"}, {"time_zone": "Asia/Shanghai"})

    colleague = UserFactory(username="colleague")
    membership = Membership.objects.create(user=colleague, organization=org, role=Role.COLLECTOR)
    response = admin_post(client, reverse("admin:credit_platform_membership_change", args=[membership.pk]),
                          role=Role.CREDIT_OFFICER)
    assert response.status_code == 302
    [entry] = ledger(org, "membership.changed", membership)
    assert entry.before == {"user": "colleague", "role": "collector"} and entry.after == {"role": "credit_officer"}
    response = client.post(reverse("admin:credit_platform_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Membership.objects.filter(pk=membership.pk).exists()
    assert ledger(org, "membership.revoked", membership)


def test_admin_user_choices_list_only_members_of_the_organization(client, org, other_org, member):
    ours = member(org, Role.COLLECTOR, username="our-collector")
    member(other_org, Role.COLLECTOR, username="their-collector")
    client.force_login(member(org, Role.CREDIT_MANAGER, username="our-manager"))
    for url in (reverse("admin:receivables_collectiontask_add"), reverse("admin:receivables_collectionprofile_add")):
        page = client.get(url).content.decode()
        assert "our-collector" in page and "our-manager" in page, url
        assert "their-collector" not in page, url
    # and a forged post naming another tenant's user is refused by the form
    customer = CustomerFactory(organization=org)
    theirs = Membership.objects.get(user__username="their-collector").user
    response = admin_post(client, reverse("admin:receivables_collectiontask_add"), customer=customer.pk,
                          kind="call", due_date="2026-12-01", title="Call", assigned_to=theirs.pk)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = admin_post(client, reverse("admin:receivables_collectiontask_add"), customer=customer.pk,
                          kind="call", due_date="2026-12-01", title="Call", assigned_to=ours.pk)
    assert response.status_code == 302
    assert AuditEntry.objects.for_organization(org).filter(action="collections.task_created").exists()


def test_an_organization_admin_who_is_not_a_superuser_adds_a_member(client, org, other_org, member):
    from tests.factories import UserFactory

    admin_user = member(org, Role.ADMIN)
    assert not admin_user.is_superuser
    client.force_login(admin_user)
    url = reverse("admin:credit_platform_membership_add")
    page = client.get(url)
    assert page.status_code == 200 and 'name="identifier"' in page.content.decode()

    existing = UserFactory(username="li.wei", email="li.wei@example.com")
    response = admin_post(client, url, identifier="LI.WEI@example.com", role=Role.CREDIT_OFFICER)
    assert response.status_code == 302
    membership = Membership.objects.get(user=existing, organization=org)
    assert membership.role == Role.CREDIT_OFFICER and existing.memberships.count() == 1
    assert ledger(org, "membership.created", membership)

    again = admin_post(client, url, identifier="li.wei", role=Role.AUDITOR)
    assert again.status_code == 200 and "already a member" in again.content.decode()

    missing = admin_post(client, url, identifier="new.person", role=Role.COLLECTOR)
    assert missing.status_code == 200 and "give a password" in missing.content.decode()
    created = admin_post(client, url, identifier="new.person", email="new.person@example.com",
                         password="a-Long-enough-pass-42", role=Role.COLLECTOR)
    assert created.status_code == 302
    person = Membership.objects.get(user__username="new.person", organization=org)
    assert person.user.check_password("a-Long-enough-pass-42") and person.user.email == "new.person@example.com"
    # the new member landed in the admin's organization, never in another one
    assert not Membership.objects.filter(organization=other_org).exists()


def test_a_customer_profile_edit_in_the_admin_is_in_the_ledger(client, org, member):
    customer = CustomerFactory(organization=org, email="old@example.com")
    client.force_login(member(org, Role.CREDIT_MANAGER))
    response = admin_post(client, reverse("admin:customers_customer_change", args=[customer.pk]),
                          email="ap@example.com", address="Unit 7, Dock Road")
    assert response.status_code == 302
    [entry] = ledger(org, "customer.changed", customer)
    assert entry.before == {"email": "old@example.com", "address": ""}
    assert entry.after == {"email": "ap@example.com", "address": "Unit 7, Dock Road"}


def test_a_write_the_service_refuses_comes_back_to_the_form_with_the_reason(client, org, member):
    from receivables.models import CollectionTask
    from receivables.services import collection_task_create, task_complete

    user = member(org, Role.CREDIT_MANAGER)
    client.force_login(user)
    task = collection_task_create(customer=CustomerFactory(organization=org), kind="call", title="Call",
                                  due_date=D(2026, 12, 1), actor=user)
    url = reverse("admin:receivables_collectiontask_change", args=[task.pk])
    page = client.get(url)
    task_complete(task=task, actor=user)  # closed meanwhile, e.g. from the worklist
    from tests.admin_forms import form_values

    data = form_values(page.content.decode())
    data.pop("csrfmiddlewaretoken", None)
    response = client.post(url, {**data, "title": "Call again"})
    assert response.status_code == 302 and response["Location"] == url
    shown = client.get(url).content.decode()
    assert "Nothing was saved: The task is already done." in shown
    assert CollectionTask.objects.get(pk=task.pk).title == "Call"


def test_disputes_promises_and_call_notes_in_the_admin_go_through_the_collections_services(client, org, member):
    from receivables.models import CallNote, Dispute
    from receivables.services import promise_create

    client.force_login(member(org, Role.CREDIT_MANAGER))
    customer = CustomerFactory(organization=org)
    invoice = InvoiceFactory(customer=customer, number="INV-D1")
    response = admin_post(client, reverse("admin:receivables_dispute_add"), invoice=invoice.pk, reason="quality",
                          description="Broken pallets", amount="40.00")
    assert response.status_code == 302, response.content.decode()[:2000]
    dispute = Dispute.objects.get(invoice=invoice)
    assert dispute.customer == customer and ledger(org, "dispute.opened", dispute)
    url = reverse("admin:receivables_dispute_change", args=[dispute.pk])
    assert admin_post(client, url, status="open", resolution="x").status_code == 200  # must be closed
    response = admin_post(client, url, status="resolved", resolution="Credit note CN-7 agreed")
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution) == ("resolved", "Credit note CN-7 agreed")
    assert ledger(org, "dispute.resolved", dispute)

    # promises are made on the collections page or the API; the admin reads them and cancels open ones
    assert client.get(reverse("admin:receivables_promisetopay_add")).status_code == 403
    promise = promise_create(customer=customer, invoices=[invoice], amount=Decimal("100.00"),
                             promised_date=D(2026, 12, 10), actor=None)
    response = client.post(reverse("admin:receivables_promisetopay_changelist"),
                           {"action": "cancel", "_selected_action": [promise.pk]})
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.status == "cancelled" and ledger(org, "promise.cancelled", promise)

    response = admin_post(client, reverse("admin:receivables_callnote_add"), customer=customer.pk,
                          outcome="promised", note="Will pay on the 10th", next_action_on="2026-12-11",
                          next_action="Check the payment")
    assert response.status_code == 302
    call = CallNote.objects.get(customer=customer)
    assert ledger(org, "collections.call_logged", call) and call.author is not None
