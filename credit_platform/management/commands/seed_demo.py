from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from alerts.services import alerts_sweep_all
from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from credit_platform.models import Organization
from credit_platform.roles import Role
from credit_platform.services import membership_grant, organization_create, user_ensure
from customers.models import Customer
from limits.demo import seed_work
from receivables.dunning.outbox import dunning_outbox_send
from receivables.dunning.run import dunning_run
from receivables.history import balance_snapshots_refresh
from receivables.models import CollectionProfile
from receivables.services import collection_assign
from scoring.services import scoring_seed_history

DEMO_PASSWORD = "demo-credit-2026"  # noqa: S105 - printed on purpose: demo logins on a local machine
DEMO_USERS = [
    ("admin", Role.ADMIN, None),
    ("manager", Role.CREDIT_MANAGER, Decimal("1000000")),
    ("officer", Role.CREDIT_OFFICER, None),
    ("approver", Role.FINANCE_APPROVER, Decimal("250000")),
    ("collector", Role.COLLECTOR, None),
    ("auditor", Role.AUDITOR, None),
    ("integrator", Role.INTEGRATOR, None),
]


class Command(BaseCommand):
    help = (
        "Create the demo organizations, one user per role, and a realistic seeded portfolio. "
        "Does nothing if the demo organization already holds customers."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--invoices", type=int, default=200_000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                            help="YYYY-MM-DD (default: the demo organization's today)")
        parser.add_argument("--organization", default="demo", help="slug of the demo organization")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 10 or options["invoices"] < options["customers"]:
            raise CommandError("--customers must be at least 10 and --invoices at least --customers.")
        say = (lambda m: None) if options["quiet"] else self.stdout.write
        slug = options["organization"]
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            org = organization_create(name="Acme Trading GmbH", slug=slug, base_currency="EUR",
                                      time_zone="Europe/Berlin")
        as_of = options["as_of"] or org.local_date()  # the demo tenant's business date
        loaded = []  # organizations whose portfolio this call loaded: they get the demo's dunning run
        if Customer.objects.for_organization(org).exists():
            say(f"Demo organization '{slug}' already has data; nothing to do.")
        else:
            loaded.append(org)
            t = time.perf_counter()
            portfolio = generate(DemoConfig(customers=options["customers"], invoices=options["invoices"],
                                            seed=options["seed"], as_of=as_of))
            say(f"Generated {options['customers']:,} customers and {len(portfolio.invoices):,} invoices "
                f"(seed {options['seed']}, as of {as_of}) in {time.perf_counter() - t:.1f}s; loading:")
            load_portfolio(org, portfolio, progress=say)
            say(f"Demo portfolio ready in {time.perf_counter() - t:.1f}s.")
        # A second, small tenant shows that organizations never see each other's data.
        other = Organization.objects.filter(slug="northwind").first()
        if other is None:
            other = organization_create(name="Northwind Supplies Ltd", slug="northwind", base_currency="GBP",
                                        time_zone="Europe/London")
            load_portfolio(other, generate(DemoConfig(customers=40, invoices=1500, seed=7, as_of=as_of,
                                                      base_currency="GBP", prefix="NW-")))
            loaded.append(other)
        scoring_seed_history(organizations=[org, other], as_of=as_of)  # scores: last 5 quarter ends and as_of
        for username, role, approval in DEMO_USERS:
            user = user_ensure(username=username, password=DEMO_PASSWORD, email=f"{username}@demo.example.com")
            if not user.memberships.filter(organization=org).exists():
                membership_grant(organization=org, user=user, role=role, approval_limit=approval)
        admin = user_ensure(username="admin", password=DEMO_PASSWORD)
        if not admin.memberships.filter(organization=other).exists():
            membership_grant(organization=other, user=admin, role=Role.ADMIN)
        nw = user_ensure(username="northwind", password=DEMO_PASSWORD)
        if not nw.memberships.filter(organization=other).exists():
            membership_grant(organization=other, user=nw, role=Role.CREDIT_OFFICER)
        collector = user_ensure(username="collector", password=DEMO_PASSWORD)
        if not CollectionProfile.objects.for_organization(org).filter(collector__isnull=False).exists():
            # The demo collector works the whole book, so the worklist has something to show.
            ids = list(Customer.objects.for_organization(org).values_list("pk", flat=True))
            collection_assign(organization=org, customer_ids=ids, collector=collector, actor=None)
        for organization in loaded:  # limits after scores: nightly results, requests, held orders, reviews
            seed_work(organization, as_of, officer=user_ensure(username="officer", password=DEMO_PASSWORD)
                      if organization == org else None)
        for organization in loaded:
            self._dunning(organization, as_of, say)
        # the early warnings of "today", last, as the night runs them: on the limits and holds decided above
        alerts_sweep_all(organizations=[org, other], as_of=as_of)
        for organization in loaded:  # the ECL history the nightly run keeps (PostgreSQL)
            balance_snapshots_refresh(organization, as_of)
        token, _ = Token.objects.get_or_create(user=user_ensure(username="integrator", password=DEMO_PASSWORD))
        if not options["quiet"]:
            self._print_logins(token.key)

    @staticmethod
    def _dunning(organization: Organization, as_of: dt.date, say: Callable[[str], None]) -> None:
        """The daily dunning run of the demo's "today", which the embedded mode (no Celery beat) would
        otherwise never run: the dunning page, worklist tasks and customer files show it from the start.
        Run after the collector assignment, so that call tasks land on the demo collector. Its messages
        are then sent from the outbox here, in this process (in the embedded mode to files under
        var/mail/, see ``settings.local``), rather than by the first "Run dunning now" press."""
        t = time.perf_counter()
        run = dunning_run(organization=organization, run_date=as_of, send_outbox=False)
        if run is not None:
            sent = dunning_outbox_send(organization).sent
            say(f"Dunning run of {as_of} for {organization.slug}: {run.actions:,} actions, "
                f"{run.messages:,} messages ({sent:,} sent), {run.tasks:,} tasks, {run.holds:,} credit holds "
                f"in {time.perf_counter() - t:.1f}s.")

    def _print_logins(self, token: str) -> None:
        w = self.stdout.write
        w("")
        w(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for username, role, _ in DEMO_USERS:
            w(f"  {username:<11} {Role(role).label}")
        w("  northwind   Credit officer of the second tenant (Northwind Supplies) only")
        w(f"  API token of 'integrator': {token}  (curl -H 'Authorization: Token {token}' "
          f"http://127.0.0.1:8000/api/v1/customers/)")
