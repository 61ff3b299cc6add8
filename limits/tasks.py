"""Celery tasks of the limits app: thin wrappers taking ids."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from credit_platform.models import Organization

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(name="limits.after_scoring", time_limit=30 * 60, soft_time_limit=29 * 60, **RETRY)
def after_scoring(run_id: int) -> dict:
    """The step after a nightly scoring run (enqueued when its monitoring is done): recommended limits,
    decreases, proposed increases, expiry, reviews, dunning holds. Idempotent per organization and day:
    recommendations are upserted, a pending request is never proposed twice, an expired limit expires once."""
    from scoring.models import ScoringRun, Trigger

    from .nightly import nightly_run

    run = ScoringRun.objects.select_related("organization").get(pk=run_id)
    if run.trigger != Trigger.NIGHTLY:
        return {}
    return nightly_run(run.organization, run.as_of).counts()


@shared_task(name="limits.nightly_organization", time_limit=30 * 60, soft_time_limit=29 * 60, **RETRY)
def nightly_organization(organization_id: int, as_of: str | None = None) -> dict:
    from .nightly import nightly_run

    organization = Organization.objects.get(pk=organization_id)
    return nightly_run(organization, dt.date.fromisoformat(as_of) if as_of else None).counts()
