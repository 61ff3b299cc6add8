"""Writes of onboarding: a new organization with its first administrator, and e-mail invitations.

Every write is validated and appended to the organization's ledger; e-mails leave after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from credit_platform.audit import audit_append
from credit_platform.models import Membership, Organization
from credit_platform.roles import Role
from credit_platform.services import membership_grant, organization_create, user_find

from .models import INVITATION_DAYS, Invitation, OrganizationProfile


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unique_slug(name: str) -> str:
    """A slug from the name, made unique with a number when taken (``acme``, ``acme-2``...)."""
    base = (slugify(name) or "organization")[:50]
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_setup(*, name: str, base_currency: str, time_zone: str, fiscal_year_start_month: int = 1,
                       slug: str = "", admin: Any = None, actor: Any = None) -> Organization:
    """Create an organization with its calendar; ``admin`` (a user) becomes its first administrator."""
    if not 1 <= int(fiscal_year_start_month) <= 12:
        raise ValidationError({"fiscal_year_start_month": _("The fiscal year starts in a month from 1 to 12.")})
    if slug and Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("An organization with the slug '%(slug)s' exists already.") % {"slug": slug}})
    org = organization_create(name=name.strip(), slug=slug or unique_slug(name), base_currency=base_currency,
                              time_zone=time_zone, actor=actor)
    profile = OrganizationProfile.objects.create(organization=org, fiscal_year_start_month=fiscal_year_start_month)
    audit_append(organization=org, actor=actor, action="organization.calendar_set", obj=profile,
                 after={"fiscal_year_start_month": profile.fiscal_year_start_month})
    if admin is not None:
        membership_grant(organization=org, user=admin, role=Role.ADMIN, actor=actor, reason="organization created")
    return org


def fiscal_year_start_month(organization: Organization) -> int:
    profile = OrganizationProfile.objects.filter(organization=organization).first()
    return profile.fiscal_year_start_month if profile else 1


@transaction.atomic
def organization_calendar_set(*, organization: Organization, fiscal_year_start_month: int, actor: Any) -> None:
    profile, _created = OrganizationProfile.objects.select_for_update().get_or_create(organization=organization)
    before = profile.fiscal_year_start_month
    profile.fiscal_year_start_month = fiscal_year_start_month
    profile.full_clean()
    if before != fiscal_year_start_month or _created:
        profile.save()
        audit_append(organization=organization, actor=actor, action="organization.calendar_set", obj=profile,
                     before={"fiscal_year_start_month": before},
                     after={"fiscal_year_start_month": fiscal_year_start_month})


def invitation_link(token: str, base_url: str = "") -> str:
    base = (base_url or getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}/onboarding/invitations/{token}/"


@transaction.atomic
def invitation_create(*, organization: Organization, email: str, role: str, actor: Any,
                      approval_limit: Decimal | None = None, base_url: str = "") -> tuple[Invitation, str]:
    """Invite ``email`` with ``role``; returns the invitation and its link (the token is shown only here
    and in the e-mail). A second invitation to the same address replaces the pending one."""
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("'%(role)s' is not a role; choose one of: %(roles)s")
                               % {"role": role, "roles": ", ".join(Role.values)}})
    existing = user_find(email)
    if existing is not None and Membership.objects.filter(user=existing, organization=organization).exists():
        raise ValidationError({"email": _("%(email)s is already a member of %(org)s.")
                               % {"email": email, "org": organization.name}})
    for old in Invitation.objects.for_organization(organization).filter(email=email,
                                                                        status=Invitation.Status.PENDING):
        _revoke(old, actor, reason="replaced by a new invitation")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization, email=email, role=role, approval_limit=approval_limit,
        token_sha256=token_hash(token), invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    audit_append(organization=organization, actor=actor, action="invitation.created", obj=invitation,
                 after={"email": email, "role": role, "approval_limit": approval_limit,
                        "expires_at": invitation.expires_at})
    link = invitation_link(token, base_url)
    subject = _("Invitation to %(org)s on the credit platform") % {"org": organization.name}
    body = _("You are invited to join %(org)s as %(role)s.\n\nOpen this link to accept and choose your "
             "password (valid for %(days)s days):\n%(link)s\n") % {
        "org": organization.name, "role": invitation.get_role_display(), "days": INVITATION_DAYS, "link": link}
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return invitation, link


def _revoke(invitation: Invitation, actor: Any, reason: str) -> None:
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    audit_append(organization=invitation.organization_id, actor=actor, action="invitation.revoked",
                 obj=invitation, before={"email": invitation.email, "status": "pending"},
                 after={"status": "revoked"}, reason=reason)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Any) -> None:
    stored = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if stored.status != Invitation.Status.PENDING:
        raise ValidationError(_("This invitation is no longer pending."))
    _revoke(stored, actor, reason="revoked by an administrator")


def invitation_by_token(token: str) -> Invitation | None:
    """The pending, unexpired invitation of this token, or None."""
    return (Invitation.objects.select_related("organization")
            .filter(token_sha256=token_hash(token), status=Invitation.Status.PENDING,
                    expires_at__gt=timezone.now(), organization__is_active=True).first())


@transaction.atomic
def invitation_accept(*, token: str, user: Any = None, username: str = "", password: str = "") -> Membership:
    """Accept an invitation: as the signed-in ``user``, or by creating the account (``username`` and
    ``password``, checked by the password validators). The membership gets the invited role and limit."""
    found = invitation_by_token(token)
    if found is None:
        raise ValidationError(_("This invitation link is not valid: it was used, revoked or has expired."))
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if getattr(user, "is_authenticated", False) and (user.email or "").strip().lower() != invitation.email:
        raise ValidationError(_("This invitation is for %(email)s: sign out, then open the link again.")
                              % {"email": invitation.email})
    if user is None or not getattr(user, "is_authenticated", False):
        if user_find(invitation.email) is not None:
            raise ValidationError(_("An account with this e-mail exists: sign in, then open the link again."))
        username = (username or invitation.email).strip()
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("The username '%(name)s' is taken.") % {"name": username}})
        user = User(username=username, email=invitation.email)
        user.full_clean(exclude=["password"])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
        user.save()
    membership = membership_grant(organization=invitation.organization, user=user, role=invitation.role,
                                  approval_limit=invitation.approval_limit, actor=user,
                                  reason=f"invitation {invitation.pk} accepted")
    invitation.status, invitation.accepted_by = Invitation.Status.ACCEPTED, user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
    audit_append(organization=invitation.organization_id, actor=user, action="invitation.accepted", obj=invitation,
                 after={"email": invitation.email, "user": user.get_username(), "role": invitation.role})
    return membership


@transaction.atomic
def historical_load_complete(*, organization: Organization, actor: Any = None,
                             rescore_dates: list[dt.date] | None = None) -> Any:
    """Close the organization's historical load and re-score it once: as of today and, when asked, as of
    past dates (so that grade history exists). The re-scores start after the commit, on the workers."""
    from credit_platform.imports.models import HistoricalLoad
    from scoring.models import Trigger
    from scoring.services import scoring_run_start

    load = (HistoricalLoad.objects.select_for_update().for_organization(organization)
            .filter(status=HistoricalLoad.Status.OPEN).first())
    if load is None:
        raise ValidationError(_("No historical load is open for %(org)s.") % {"org": organization.name})
    today = organization.local_date()
    past = sorted({d for d in (rescore_dates or []) if d < today})
    future = [d for d in (rescore_dates or []) if d > today]
    if future:
        raise ValidationError({"rescore_dates": _("Re-scores as of a later date than today (%(day)s) are not "
                                                  "possible.") % {"day": today.isoformat()}})
    load.status, load.completed_at = HistoricalLoad.Status.COMPLETED, timezone.now()
    load.rescore_dates = [d.isoformat() for d in past]
    load.save(update_fields=["status", "completed_at", "rescore_dates"])
    audit_append(organization=organization, actor=actor, action="historical_load.completed", obj=load,
                 before={"status": "open"}, after={"status": "completed", "rescore_as_of": [today, *past]})

    def rescore() -> None:
        for day in past:
            scoring_run_start(organization=organization, as_of=day, trigger=Trigger.BACKFILL)
        scoring_run_start(organization=organization, as_of=today, trigger=Trigger.MANUAL)

    transaction.on_commit(rescore)
    return load
