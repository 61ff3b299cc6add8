from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.db import OperationalError

from credit_platform.models import ImportLog

from .engine import run_import


@shared_task(
    name="imports.run", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
    time_limit=30 * 60, soft_time_limit=28 * 60,
)
def import_run(log_id: int, encoding: str = "utf-8", options: dict | None = None) -> str:
    """Run a queued import. Re-running one that already finished does nothing (acks_late safety)."""
    log = ImportLog.objects.select_related("organization", "user").get(pk=log_id)
    if log.status not in (ImportLog.Status.QUEUED, ImportLog.Status.RUNNING):
        return log.status
    return run_import(log, Path(log.stored_path), encoding=encoding, options=options).status
