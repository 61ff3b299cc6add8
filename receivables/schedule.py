"""Celery beat entries of the receivables app (plain data: read by settings before apps load)."""

BEAT: dict[str, dict] = {}
