"""Celery beat entries of the scoring app (plain data: read by settings before apps load)."""

BEAT: dict[str, dict] = {}
