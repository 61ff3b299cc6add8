"""Celery beat entries of the alerts app (plain data: read by settings before apps load).

The nightly sweep is not here: it follows each organization's scoring run (``scoring.monitor_run``
queues ``alerts.sweep``). Digests go out once per local day after 07:00; pending webhook retries whose
message was lost are re-queued every 5 minutes.
"""

BEAT: dict[str, dict] = {
    "alerts-digests": {"task": "alerts.digests", "schedule": 15 * 60.0},
    "alerts-webhook-retries": {"task": "alerts.webhook_retries", "schedule": 5 * 60.0},
}
