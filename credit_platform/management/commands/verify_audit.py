from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credit_platform.audit import audit_verify, organizations_with_ledgers
from credit_platform.models import Organization


class Command(BaseCommand):
    help = "Verify the hash chain of the audit ledger; names the first broken link and exits 1 if one is found."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", help="slug of one organization (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["organization"]:
            org = Organization.objects.filter(slug=options["organization"]).first()
            if org is None:
                raise CommandError(f"No organization with slug '{options['organization']}'.")
            org_ids = [org.pk]
        else:
            org_ids = list(organizations_with_ledgers())
        names = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "slug"))
        broken = []
        for org_id in org_ids:
            checked, brk = audit_verify(org_id)
            label = names.get(org_id, org_id)
            if brk is None:
                self.stdout.write(f"{label}: {checked} entries, chain intact")
            else:
                self.stdout.write(f"{label}: BROKEN after {checked} good entries: {brk}")
                broken.append(brk)
        if broken:
            raise CommandError(f"Audit ledger broken in {len(broken)} organization(s); first: {broken[0]}")
        self.stdout.write(self.style.SUCCESS("Audit ledger verified."))
