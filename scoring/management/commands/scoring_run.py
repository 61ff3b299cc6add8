"""``manage.py scoring_run --organization demo``: re-score every customer now (in this process), as the
nightly run does, and write its monitoring report."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credit_platform.models import Organization
from scoring import services
from scoring.models import Trigger


class Command(BaseCommand):
    help = "Score every customer of an organization (or of all organizations) now, chunk by chunk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="organization slug (default: every active organization)")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default today)")
        parser.add_argument("--chunk-size", type=int, default=None, help="customers per chunk (default 5,000)")

    def handle(self, *args: Any, **o: Any) -> None:
        orgs = Organization.objects.filter(is_active=True)
        if o["organization"]:
            orgs = orgs.filter(slug=o["organization"])
            if not orgs.exists():
                raise CommandError(f"no active organization with slug '{o['organization']}'")
        for org in orgs.order_by("pk"):
            t = time.perf_counter()
            run = services.scoring_run_sync(organization=org, as_of=o["as_of"], trigger=Trigger.MANUAL,
                                            chunk_size=o["chunk_size"])
            self.stdout.write(
                f"{org.slug}: scored {run.scored} of {run.customers} customers as of {run.as_of} with model "
                f"v{run.model.version} in {time.perf_counter() - t:.1f}s ({run.chunks_total} chunk(s)); "
                f"{run.grade_changes} grade change(s)")
