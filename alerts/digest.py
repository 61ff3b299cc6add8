"""Per-user e-mail digests: once a day, each member who works alerts gets the active alerts assigned to
them and the unassigned high and critical ones raised since their last digest. Nothing to say, no mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from credit_platform.models import Membership, Organization
from credit_platform.roles import Cap, role_has

from .models import Alert, DigestMark

DIGEST_HOUR = 7  # local time: before the working day starts
MAX_LISTED = 50


def digest_alerts(organization: Organization, user: Any, since: dt.datetime | None,
                  today: dt.date) -> list[Alert]:
    active = (Alert.objects.for_organization(organization).filter(status__in=Alert.ACTIVE)
              .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lt=today)).select_related("customer"))
    new_unassigned = Q(assignee__isnull=True, severity__in=["high", "critical"])
    if since is not None:
        new_unassigned &= Q(last_raised_at__gt=since)
    return list(active.filter(Q(assignee=user) | new_unassigned).order_by("-last_raised_at")[:MAX_LISTED])


def alerts_digest_send(*, organization: Organization, now: dt.datetime | None = None,
                       language: str | None = None) -> int:
    """Send today's digests of one organization; returns the number of e-mails sent. Idempotent per day:
    a member whose digest went out today is skipped."""
    now = now or timezone.now()
    today = organization.local_date(now)
    members = (Membership.objects.filter(organization=organization, is_active=True).exclude(user__email="")
               .select_related("user"))
    marks = {m.user_id: m for m in DigestMark.objects.for_organization(organization)}
    sent = 0
    for membership in members:
        if not role_has(membership.role, Cap.COLLECTIONS):
            continue
        mark = marks.get(membership.user_id)
        if mark is not None and organization.local_date(mark.sent_at) == today:
            continue
        alerts = digest_alerts(organization, membership.user, mark.sent_at if mark else None, today)
        if alerts:
            with translation.override(language or translation.get_language() or "en"):
                body = render_to_string("alerts/digest.txt", {"alerts": alerts, "organization": organization,
                                                              "user": membership.user, "today": today})
                subject = render_to_string("alerts/digest_subject.txt", {"count": len(alerts),
                                                                         "organization": organization}).strip()
            EmailMessage(subject, body, to=[membership.user.email]).send()
            sent += 1
        DigestMark.objects.update_or_create(organization=organization, user=membership.user,
                                            defaults={"sent_at": now})
    return sent


def digests_due(now: dt.datetime) -> int:
    sent = 0
    for organization in Organization.objects.filter(is_active=True):
        if organization.local_time(now).hour >= DIGEST_HOUR:
            sent += alerts_digest_send(organization=organization, now=now)
    return sent
