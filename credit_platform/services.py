"""Writes to tenants and memberships."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from .audit import audit_append
from .models import Membership, Organization
from .roles import STAFF_ROLES


@transaction.atomic
def organization_create(*, name: str, slug: str, base_currency: str = "EUR", time_zone: str = "Europe/Berlin",
                        actor: Any = None) -> Organization:
    org = Organization(name=name, slug=slug, base_currency=base_currency, time_zone=time_zone)
    org.full_clean()
    org.save()
    audit_append(organization=org, actor=actor, action="organization.created", obj=org,
                 after={"name": name, "base_currency": base_currency, "time_zone": time_zone})
    return org


@transaction.atomic
def membership_grant(*, organization: Organization, user: Any, role: str, approval_limit: Decimal | None = None,
                     actor: Any = None) -> Membership:
    """Give a user a role in an organization (or change it). Staff roles may use the admin screens."""
    membership, created = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role, "approval_limit": approval_limit,
                                                        "is_active": True},
    )
    if role in STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_append(organization=organization, actor=actor,
                 action="membership.created" if created else "membership.changed", obj=membership,
                 after={"user": user.get_username(), "role": role, "approval_limit": approval_limit})
    return membership


def user_ensure(*, username: str, password: str, email: str = "", first_name: str = "") -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email, "first_name": first_name})
    if created:
        user.set_password(password)
        user.save()
    return user
