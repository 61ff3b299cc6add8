"""Celery beat entries of the scoring app (plain data: read by settings before apps load).

The nightly re-score starts at 01:30 UTC (before the dunning run and the alerts that read grades);
each organization's run scores as of its own local date.
"""

from celery.schedules import crontab

BEAT: dict[str, dict] = {
    "scoring-nightly": {"task": "scoring.nightly", "schedule": crontab(hour=1, minute=30)},
}
