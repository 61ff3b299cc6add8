"""Celery beat entries of the alerts app (plain data: read by settings before apps load)."""

BEAT: dict[str, dict] = {}
