"""Celery beat entries of the scoring app (plain data: read by settings before apps load).

The beat fires every 15 minutes in UTC; ``scoring.nightly`` starts, for each organization whose local
time (``Organization.time_zone``) has passed ``SCORING_NIGHTLY_HOUR`` (default 01:00, before the dunning
run and the alerts that read grades), the re-score of its local date unless that night already has a
run. A missed beat or a worker outage is caught up at the next beat of the same local day.
"""

BEAT: dict[str, dict] = {
    "scoring-nightly": {"task": "scoring.nightly", "schedule": 15 * 60.0},
}
