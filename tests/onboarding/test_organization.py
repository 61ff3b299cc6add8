"""A new client's first day: the organization, its calendar, its team and the ledger of each step."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from credit_platform.audit import audit_verify
from credit_platform.models import AuditEntry, Membership, Organization
from credit_platform.roles import Role
from onboarding.models import Invitation, OrganizationProfile
from onboarding.services import invitation_accept, invitation_create, organization_setup

pytestmark = pytest.mark.django_db


def _link_token(text: str) -> str:
    match = re.search(r"/onboarding/invitations/([^/\s]+)/", text)
    assert match, text
    return match.group(1)


def test_create_organization_command_makes_org_calendar_admin_and_ledger(capsys):
    call_command("create_organization", "Müller Handel GmbH", "--currency", "cny", "--time-zone", "Asia/Shanghai",
                 "--fiscal-year-start", "4", "--admin", "boss@example.com", "--password", "Str0ng-pass-phrase")
    org = Organization.objects.get(slug="muller-handel-gmbh")
    assert (org.base_currency, org.time_zone) == ("CNY", "Asia/Shanghai")
    assert OrganizationProfile.objects.get(organization=org).fiscal_year_start_month == 4
    admin = get_user_model().objects.get(username="boss@example.com")
    assert admin.check_password("Str0ng-pass-phrase")
    assert Membership.objects.get(organization=org, user=admin).role == Role.ADMIN
    actions = list(AuditEntry.objects.for_organization(org).values_list("action", flat=True))
    assert actions == ["organization.created", "organization.calendar_set", "membership.created"]
    assert audit_verify(org)[1] is None
    assert "muller-handel-gmbh" in capsys.readouterr().out


def test_create_organization_command_refuses_bad_input_and_writes_nothing():
    with pytest.raises(CommandError, match="time zone"):
        call_command("create_organization", "Acme", "--time-zone", "Mars/Olympus")
    with pytest.raises(CommandError, match="month"):
        call_command("create_organization", "Acme", "--fiscal-year-start", "13")
    with pytest.raises(CommandError, match="--password"):
        call_command("create_organization", "Acme", "--admin", "nobody")
    assert not Organization.objects.exists()


def test_invite_command_sends_a_link_that_creates_the_account_with_role_and_limit(
        capsys, django_capture_on_commit_callbacks):
    org = organization_setup(name="Acme", base_currency="EUR", time_zone="Europe/Berlin")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invite_user", "Ann@Example.com", "--organization", org.slug, "--role", Role.FINANCE_APPROVER,
                     "--approval-limit", "50000", "--base-url", "https://credit.example")
    out = capsys.readouterr().out
    assert "https://credit.example/onboarding/invitations/" in out
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ann@example.com"]
    token = _link_token(mail.outbox[0].body)
    assert token == _link_token(out)
    membership = invitation_accept(token=token, username="ann", password="Another-str0ng-one")
    assert (membership.role, membership.approval_limit) == (Role.FINANCE_APPROVER, Decimal("50000.00"))
    assert membership.user.email == "ann@example.com" and membership.user.check_password("Another-str0ng-one")
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED
    # a used link does not work twice
    with pytest.raises(Exception, match="not valid"):
        invitation_accept(token=token, username="ann2", password="Another-str0ng-one")
    actions = list(AuditEntry.objects.for_organization(org).values_list("action", flat=True))
    assert actions[-3:] == ["invitation.created", "membership.created", "invitation.accepted"]
    assert Invitation.objects.get().token_sha256 != token  # only the hash is stored


def test_invite_command_errors():
    org = organization_setup(name="Acme", base_currency="EUR", time_zone="Europe/Berlin")
    with pytest.raises(CommandError, match="No organization"):
        call_command("invite_user", "a@example.com", "--organization", "nope")
    with pytest.raises(CommandError, match="not an amount"):
        call_command("invite_user", "a@example.com", "--organization", org.slug, "--approval-limit", "lots")
    with pytest.raises(CommandError, match=r"e-mail|email"):
        call_command("invite_user", "not-an-email", "--organization", org.slug)
    assert not Invitation.objects.exists()


def test_weak_password_is_refused_and_the_invitation_stays_open():
    org = organization_setup(name="Acme", base_currency="EUR", time_zone="Europe/Berlin")
    _inv, link = invitation_create(organization=org, email="bo@example.com", role=Role.COLLECTOR, actor=None)
    with pytest.raises(Exception, match="password"):
        invitation_accept(token=_link_token(link), username="bo", password="123")
    assert Invitation.objects.get().status == Invitation.Status.PENDING
    assert not get_user_model().objects.filter(username="bo").exists()


def test_pages_create_org_invite_manage_and_accept(client, django_capture_on_commit_callbacks):
    founder = get_user_model().objects.create_user("founder", password="x-Founder-pw-1")
    client.force_login(founder)
    response = client.post("/onboarding/organizations/new/", {
        "name": "Shanghai Trading", "base_currency": "CNY", "time_zone": "Asia/Shanghai",
        "fiscal_year_start_month": "7"})
    assert response.status_code == 302, response.content.decode()[:2000]
    org = Organization.objects.get(name="Shanghai Trading")
    assert OrganizationProfile.objects.get(organization=org).fiscal_year_start_month == 7
    # a refused form names the field and creates nothing
    bad = client.post("/onboarding/organizations/new/", {"name": "X", "base_currency": "EUR",
                                                         "time_zone": "Nowhere/Land", "fiscal_year_start_month": "1"})
    assert bad.status_code == 400 and "time_zone" in bad.content.decode()
    assert Organization.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/onboarding/team/", {"action": "invite", "email": "li@example.com",
                                                     "role": Role.CREDIT_OFFICER, "approval_limit": ""})
    assert response.status_code == 302
    token = _link_token(mail.outbox[-1].body)
    page = client.get("/onboarding/team/").content.decode()
    assert "li@example.com" in page

    client.logout()
    accept = client.post(f"/onboarding/invitations/{token}/", {"username": "li", "password1": "Li-str0ng-pass",
                                                               "password2": "Li-str0ng-pass"})
    assert accept.status_code == 302
    li = Membership.objects.get(organization=org, user__username="li")
    assert li.role == Role.CREDIT_OFFICER

    # the administrator changes the role and approval limit, then removes the member
    client.force_login(founder)
    response = client.post(f"/onboarding/team/members/{li.pk}/", {
        f"m{li.pk}-role": Role.CREDIT_MANAGER, f"m{li.pk}-approval_limit": "25000", f"m{li.pk}-is_active": "on",
        "action": "save"})
    li.refresh_from_db()
    assert (li.role, li.approval_limit) == (Role.CREDIT_MANAGER, Decimal("25000.00"))
    client.post(f"/onboarding/team/members/{li.pk}/", {"action": "revoke"})
    assert not Membership.objects.filter(pk=li.pk).exists()
    actions = set(AuditEntry.objects.for_organization(org).values_list("action", flat=True))
    assert {"membership.changed", "membership.revoked", "invitation.accepted"} <= actions


def test_team_page_is_for_administrators_only(client, org, member):
    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.get("/onboarding/team/").status_code == 403
    assert client.post("/onboarding/team/", {"action": "invite", "email": "x@example.com",
                                             "role": Role.ADMIN}).status_code == 403
    assert not Invitation.objects.exists()


def test_another_tenants_member_cannot_be_changed(client, org, other_org, member):
    outsider = member(other_org, Role.CREDIT_OFFICER)
    client.force_login(member(org, Role.ADMIN))
    target = Membership.objects.get(user=outsider)
    assert client.post(f"/onboarding/team/members/{target.pk}/", {"action": "revoke"}).status_code == 404
    assert Membership.objects.filter(pk=target.pk).exists()


def test_a_signed_in_user_accepts_only_an_invitation_to_their_own_address(org, member):
    _inv, link = invitation_create(organization=org, email="zoe@example.com", role=Role.AUDITOR, actor=None)
    other = member(org, Role.CREDIT_OFFICER)
    with pytest.raises(Exception, match=r"zoe@example\.com"):
        invitation_accept(token=_link_token(link), user=other)
    zoe = get_user_model().objects.create_user("zoe", email="Zoe@example.com", password="Zoe-pass-2026x")
    assert invitation_accept(token=_link_token(link), user=zoe).role == Role.AUDITOR
