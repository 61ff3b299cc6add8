"""Celery tasks of the scoring app: thin wrappers that take ids and call a service.

Chunk and refresh tasks are idempotent (scores are upserted by organization, customer and as-of date;
a finished chunk is skipped), so they are acknowledged late and retried on transient database errors.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from alerts.tasks import sweep
from credit_platform.models import Organization

from . import services

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(name="scoring.nightly", time_limit=10 * 60, soft_time_limit=9 * 60)
def nightly() -> int:
    """Beat entry (every 15 minutes): start the night's run of every organization whose local night
    is due (``services.due_nightly_organizations``); each run fans out its chunks."""
    due = services.due_nightly_organizations(timezone.now())
    for org_id in due:
        run_organization.delay(org_id)
    return len(due)


@shared_task(name="scoring.run_organization", time_limit=10 * 60, soft_time_limit=9 * 60, **RETRY)
def run_organization(organization_id: int, trigger: str = "nightly") -> int:
    organization = Organization.objects.get(pk=organization_id)
    run = services.scoring_run_start(organization=organization, trigger=trigger)
    if trigger == "nightly":
        # beside the night's run, in their own tasks: both read every snapshot of the history, which at a
        # large book takes longer than a run's start may (the next night uses their result)
        from .challengers import training_due, training_run_start
        from .recalibration import recalibration_due

        if recalibration_due(services.champion(organization), organization.local_date()):
            recalibrate.delay(organization_id)
        if training_due(organization, organization.local_date()):
            training_run_start(organization=organization, trigger="nightly")
    return run.pk


@shared_task(name="scoring.recalibrate", time_limit=60 * 60, soft_time_limit=55 * 60, **RETRY)
def recalibrate(organization_id: int) -> int | None:
    """The expert scorecard refitted to the observed defaults when due (``recalibration``)."""
    from .recalibration import expert_recalibrate_if_due

    model = expert_recalibrate_if_due(organization=Organization.objects.get(pk=organization_id))
    return model.pk if model else None


@shared_task(name="scoring.score_chunk", time_limit=15 * 60, soft_time_limit=14 * 60, **RETRY)
def score_chunk(chunk_id: int) -> str:
    return services.scoring_run_chunk(chunk_id)


@shared_task(name="scoring.monitor_run", time_limit=15 * 60, soft_time_limit=14 * 60, **RETRY)
def monitor_run(run_id: int) -> int:
    report = services.monitoring_run(run_id)
    from celery import chain

    from limits.tasks import after_scoring

    # The next steps of the nightly canvas, once grades are in: limits (recommended limits, automatic
    # decreases, proposals, expiry, reviews), then the night's early warnings on those grades and limits.
    chain(after_scoring.si(run_id), sweep.si(report.organization_id, report.as_of.isoformat())).delay()
    return report.pk


@shared_task(name="scoring.refresh_customers", time_limit=10 * 60, soft_time_limit=9 * 60, **RETRY)
def refresh_customers(organization_id: int, customer_ids: list[int]) -> int:
    return services.score_refresh_customers(organization_id, customer_ids)


@shared_task(name="scoring.refresh_after_imports", time_limit=10 * 60, soft_time_limit=9 * 60, **RETRY)
def refresh_after_imports(organization_id: int, seq: int, customer_ids: list[int]) -> int:
    """The debounced re-score after a batch of imports (``rescore``): a superseded one does nothing."""
    from .rescore import refresh_after_imports as run

    return run(organization_id, seq, customer_ids)


@shared_task(name="scoring.refresh_customer", time_limit=5 * 60, soft_time_limit=4 * 60, **RETRY)
def refresh_customer(customer_id: int) -> int:
    return services.score_refresh_customer(customer_id)


@shared_task(name="scoring.train", time_limit=60 * 60, soft_time_limit=55 * 60, acks_late=True)
def train(training_run_id: int) -> int:
    """A training run started from the page or by the nightly run (``challengers``); not retried (a
    failed training is reported on the run, and started again by a person)."""
    from .challengers import training_run_execute

    return training_run_execute(training_run_id).pk
