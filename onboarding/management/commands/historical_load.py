from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credit_platform.imports.services import historical_load_start
from credit_platform.models import Organization
from onboarding.services import historical_load_complete


class Command(BaseCommand):
    help = ("Start or complete an organization's historical load. While it is open, imports re-score nothing "
            "and the nightly re-score and dunning skip the organization; completing it re-scores once as of "
            "today and, with --rescore-as-of, as of past dates.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["start", "complete"])
        parser.add_argument("--organization", required=True, help="slug")
        parser.add_argument("--rescore-as-of", action="append", default=[], metavar="YYYY-MM-DD",
                            help="also re-score as of this past date (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["organization"]).first()
        if org is None:
            raise CommandError(f"No organization '{options['organization']}'.")
        if options["action"] == "start":
            historical_load_start(organization=org)
            self.stdout.write(self.style.SUCCESS(f"Historical load of {org.slug} is open."))
            return
        try:
            dates = [dt.date.fromisoformat(d) for d in options["rescore_as_of"]]
        except ValueError as exc:
            raise CommandError(f"--rescore-as-of: {exc}") from None
        try:
            load = historical_load_complete(organization=org, rescore_dates=dates)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Historical load of {org.slug} completed; re-scored as of {org.local_date()}"
            + (f" and {', '.join(load.rescore_dates)}" if load.rescore_dates else "") + "."))
