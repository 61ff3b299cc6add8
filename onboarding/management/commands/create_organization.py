from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credit_platform.services import user_ensure
from onboarding.services import organization_setup


class Command(BaseCommand):
    help = ("Create an organization (name, base currency, time zone, fiscal calendar) and, with --admin, its "
            "first administrator (an existing username or e-mail, or a new account with --password).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", default="", help="default: derived from the name")
        parser.add_argument("--currency", default="EUR", help="base currency (ISO 4217), default EUR")
        parser.add_argument("--time-zone", default="Europe/Berlin", help="IANA time zone, default Europe/Berlin")
        parser.add_argument("--fiscal-year-start", type=int, default=1, help="month 1-12, default 1")
        parser.add_argument("--admin", default="", help="username or e-mail of the first administrator")
        parser.add_argument("--password", default="", help="password of the administrator's new account")

    def handle(self, *args: Any, **options: Any) -> None:
        admin = None
        if options["admin"]:
            User = get_user_model()
            ident = options["admin"].strip()
            admin = User.objects.filter(username__iexact=ident).first() or User.objects.filter(
                email__iexact=ident).first()
            if admin is None:
                if not options["password"]:
                    raise CommandError(f"No account '{ident}': pass --password to create it.")
                admin = user_ensure(username=ident, password=options["password"],
                                    email=ident if "@" in ident else "")
        try:
            org = organization_setup(
                name=options["name"], slug=options["slug"], base_currency=options["currency"].upper(),
                time_zone=options["time_zone"], fiscal_year_start_month=options["fiscal_year_start"], admin=admin,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                               if hasattr(exc, "error_dict") else "; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Organization '{org.name}' created: slug {org.slug}, base currency {org.base_currency}, "
            f"time zone {org.time_zone}, fiscal year from month {options['fiscal_year_start']}"
            + (f", administrator {admin.get_username()}" if admin else "") + "."))
