"""Celery tasks of the receivables app: thin, idempotent, by id.

``receivables.daily_beat`` runs every 15 minutes (``schedule.BEAT``) and starts, for each organization
whose local time (``Organization.time_zone``) has passed its policy's run hour, the dunning run of its
local date unless that run already completed, followed by the balance snapshots of the ECL history
(``receivables.history``); the run is idempotent by (organization, run date), so a beat that fires
twice, or a redelivered task (``acks_late``), adds nothing.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from credit_platform.imports.engine import loading_organizations
from credit_platform.models import Organization

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3, "acks_late": True}


def due_organizations(now: dt.datetime) -> list[tuple[int, dt.date, bool]]:
    """(organization id, local date, statements due today) for every organization whose local time has
    passed its run hour and whose run of that local date has not completed."""
    from .models import DunningPolicy, DunningRun

    policies = {
        p.organization_id: p
        for p in DunningPolicy.objects.filter(is_default=True, organization__is_active=True)
    }
    orgs = Organization.objects.filter(pk__in=list(policies)).only("pk", "time_zone")
    local = {o.pk: o.local_time(now) for o in orgs}
    ready = {pk: t.date() for pk, t in local.items() if t.hour >= policies[pk].run_hour}
    ready = {pk: d for pk, d in ready.items() if pk not in loading_organizations(ready)}  # historical loads wait
    done = set(
        DunningRun.objects.filter(
            organization_id__in=list(ready), status=DunningRun.Status.COMPLETED
        ).values_list("organization_id", "run_date")
    )
    return [
        (pk, day, day.day == policies[pk].statement_day)
        for pk, day in sorted(ready.items())
        if (pk, day) not in done
    ]


@shared_task(name="receivables.daily_beat", time_limit=120, soft_time_limit=100)
def daily_beat() -> int:
    due = due_organizations(timezone.now())
    for org_id, day, statements in due:
        # the day's dunning, then the ECL history the day's views will read
        (dunning_run_org.si(org_id, day.isoformat()) | balance_snapshots.si(org_id, day.isoformat())).delay()
        if statements:
            statements_send_scheduled.delay(org_id, day.isoformat())
    return len(due)


@shared_task(name="receivables.dunning_run", time_limit=60 * 60, soft_time_limit=55 * 60, **RETRY)
def dunning_run_org(organization_id: int, run_date: str) -> str:
    from .dunning.run import dunning_run

    org = Organization.objects.get(pk=organization_id)
    run = dunning_run(organization=org, run_date=dt.date.fromisoformat(run_date))
    return run.status if run else "no_policy"


@shared_task(name="receivables.dunning_outbox", time_limit=60 * 60, soft_time_limit=55 * 60, **RETRY)
def dunning_send_outbox(organization_id: int) -> int:
    from .dunning.outbox import dunning_outbox_send

    return dunning_outbox_send(Organization.objects.get(pk=organization_id)).sent


@shared_task(name="receivables.statements_scheduled", time_limit=60 * 60, soft_time_limit=55 * 60, **RETRY)
def statements_send_scheduled(organization_id: int, as_of: str) -> int:
    from .statements import statements_send_scheduled as send

    return send(organization=Organization.objects.get(pk=organization_id), as_of=dt.date.fromisoformat(as_of))


@shared_task(name="receivables.balance_snapshots", time_limit=60 * 60, soft_time_limit=55 * 60, **RETRY)
def balance_snapshots(organization_id: int, day: str) -> int:
    """Keep the open balances at the past dates the ECL page of ``day`` reads (``receivables.history``)."""
    from .history import balance_snapshots_refresh

    return balance_snapshots_refresh(Organization.objects.get(pk=organization_id), dt.date.fromisoformat(day))
