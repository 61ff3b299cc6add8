"""Writes to tenants, memberships and FX rates: every one validated and in the organization's ledger.

The admin, the demo seed and the tests call these; nothing else writes these tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from .audit import audit_append
from .models import FXRate, Membership, Organization, UserPreference
from .roles import STAFF_ROLES

ORGANIZATION_FIELDS = ("name", "base_currency", "time_zone", "is_active")
MEMBERSHIP_FIELDS = ("role", "approval_limit", "is_active")
FX_FIELDS = ("currency", "rate_date", "rate", "source")


def _values(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@transaction.atomic
def organization_create(*, name: str, slug: str, base_currency: str = "EUR", time_zone: str = "Europe/Berlin",
                        actor: Any = None) -> Organization:
    org = Organization(name=name, slug=slug, base_currency=base_currency, time_zone=time_zone)
    org.full_clean()
    org.save()
    audit_append(organization=org, actor=actor, action="organization.created", obj=org,
                 after={"name": name, "slug": slug, "base_currency": base_currency, "time_zone": time_zone})
    return org


@transaction.atomic
def organization_update(*, organization: Organization, actor: Any, reason: str = "", **changes: Any) -> Organization:
    """Change an organization's name, base currency, time zone or active flag (the slug is its identity).
    The ledger keeps the old and new value of each changed field."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    before = _values(org, ORGANIZATION_FIELDS)
    for field, value in changes.items():
        if field not in ORGANIZATION_FIELDS:
            raise ValueError(f"{field} is not an editable organization field")
        setattr(org, field, value)
    org.full_clean()
    old, new = _changed(before, _values(org, ORGANIZATION_FIELDS))
    if new:
        org.save(update_fields=list(new))
        audit_append(organization=org, actor=actor, action="organization.changed", obj=org, before=old, after=new,
                     reason=reason)
    return org


def _make_staff(user: Any, role: str) -> None:
    if role in STAFF_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


@transaction.atomic
def membership_grant(*, organization: Organization, user: Any, role: str, approval_limit: Decimal | None = None,
                     actor: Any = None, reason: str = "") -> Membership:
    """Give a user a role in an organization (or change it). Staff roles may use the admin screens."""
    existing = Membership.objects.select_for_update().filter(user=user, organization=organization).first()
    before = _values(existing, MEMBERSHIP_FIELDS) if existing else None
    membership = existing or Membership(user=user, organization=organization)
    membership.role, membership.approval_limit, membership.is_active = role, approval_limit, True
    membership.full_clean(validate_unique=existing is not None)
    membership.save()
    _make_staff(user, role)
    audit_append(organization=organization, actor=actor,
                 action="membership.created" if existing is None else "membership.changed", obj=membership,
                 before=before,
                 after={"user": user.get_username(), **_values(membership, MEMBERSHIP_FIELDS)}, reason=reason)
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, actor: Any, reason: str = "", **changes: Any) -> Membership:
    """Change a member's role, approval limit or active flag; the ledger keeps old and new values."""
    stored = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    before = _values(stored, MEMBERSHIP_FIELDS)
    for field, value in changes.items():
        if field not in MEMBERSHIP_FIELDS:
            raise ValueError(f"{field} is not an editable membership field")
        setattr(stored, field, value)
    stored.full_clean()
    old, new = _changed(before, _values(stored, MEMBERSHIP_FIELDS))
    if new:
        stored.save(update_fields=list(new))
        _make_staff(stored.user, stored.role)
        audit_append(organization=stored.organization_id, actor=actor, action="membership.changed", obj=stored,
                     before={"user": stored.user.get_username(), **old}, after=new, reason=reason)
    return stored


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: Any, reason: str = "") -> None:
    """Remove a user from an organization. The user account stays (it may belong to other tenants)."""
    stored = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    audit_append(organization=stored.organization_id, actor=actor, action="membership.revoked", obj=stored,
                 before={"user": stored.user.get_username(), **_values(stored, MEMBERSHIP_FIELDS)}, reason=reason)
    stored.delete()


def user_find(identifier: str) -> Any:
    """The account whose username or e-mail is exactly ``identifier`` (case-insensitive), or None.
    An exact match only: organization admins add people they know, they do not browse other tenants'."""
    value = identifier.strip()
    if not value:
        return None
    matches = list(get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value))[:2])
    return matches[0] if len(matches) == 1 else None


@transaction.atomic
def membership_invite(*, organization: Organization, identifier: str, role: str, actor: Any,
                      approval_limit: Decimal | None = None, email: str = "", password: str = "",
                      reason: str = "") -> Membership:
    """Add a person to an organization by username or e-mail; a new account is created when none
    matches (then ``password`` is required and must pass the password validators)."""
    user = user_find(identifier)
    if user is None:
        if not password:
            raise ValidationError({"password": gettext("No account has this username or e-mail: give a password to "
                                                       "create the account '%(strip)s'.") % {
                'strip': identifier.strip()}})
        username = identifier.strip()
        if "@" in username and not email:
            email = username
        user = get_user_model()(username=username, email=email)
        user.full_clean(exclude=["password"])
        validate_password(password, user)
        user.set_password(password)
        user.save()
    elif Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError({"identifier": gettext('%(username)s is already a member of %(organization)s.') % {
            'username': user.get_username(), 'organization': organization}})
    return membership_grant(organization=organization, user=user, role=role, approval_limit=approval_limit,
                            actor=actor, reason=reason)


def user_ensure(*, username: str, password: str, email: str = "", first_name: str = "") -> Any:
    """The demo's accounts (seed_demo): created once, never changed afterwards."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email, "first_name": first_name})
    if created:
        user.set_password(password)
        user.save()
    return user


@transaction.atomic
def fx_rate_save(*, rate: FXRate, actor: Any, reason: str = "") -> FXRate:
    """Create or correct a dated rate. A rate changes every base-currency total from its date on, so the
    ledger keeps the old and new value."""
    before = None
    if rate.pk is not None:
        stored = FXRate.objects.select_for_update().get(pk=rate.pk, organization_id=rate.organization_id)
        before = _values(stored, FX_FIELDS)
    rate.full_clean()
    rate.save()
    after = _values(rate, FX_FIELDS)
    if before is None:
        audit_append(organization=rate.organization_id, actor=actor, action="fx_rate.created", obj=rate,
                     after=after, reason=reason)
    else:
        old, new = _changed(before, after)
        if new:
            audit_append(organization=rate.organization_id, actor=actor, action="fx_rate.changed", obj=rate,
                         before=old, after=new, reason=reason)
    return rate


@transaction.atomic
def fx_rate_delete(*, rate: FXRate, actor: Any, reason: str = "") -> None:
    audit_append(organization=rate.organization_id, actor=actor, action="fx_rate.deleted", obj=rate,
                 before=_values(rate, FX_FIELDS), reason=reason)
    rate.delete()


@transaction.atomic
def preference_language_set(*, user: Any, language: str, organization: Organization | None = None) -> UserPreference:
    """The user's interface language, kept for every browser they sign in from; in the ledger of the
    organization they act in (a language is the user's own choice, not an organization's decision)."""
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": gettext("'%(value)s' is not one of %(choices)s.") % {
            "value": str(language)[:16], "choices": ", ".join(dict(settings.LANGUAGES))}})
    preference, _created = UserPreference.objects.get_or_create(user=user, defaults={"language": language})
    before = None if _created else preference.language
    if not _created and preference.language != language:
        preference.language = language
        preference.save(update_fields=["language", "updated_at"])
    if organization is not None and before != language:
        audit_append(organization=organization, actor=user, action="user.language_changed", obj=preference,
                     before={"language": before}, after={"language": language})
    return preference
