"""Celery beat entries of the receivables app (plain data: read by settings before apps load).

The beat fires every 15 minutes in UTC; the task itself decides, per organization time zone, whose
daily run is due (see ``receivables.tasks``)."""

BEAT: dict[str, dict] = {
    "receivables-daily": {"task": "receivables.daily_beat", "schedule": 15 * 60.0},
}
