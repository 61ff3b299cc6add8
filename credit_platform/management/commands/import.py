from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from credit_platform.imports.engine import import_file, importers, imports_ending
from credit_platform.models import ImportLog, Organization


class Command(BaseCommand):
    help = "Import a CSV or XLSX file. Any error rejects the whole file (nothing is written); exit code 1."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=list(importers()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--organization", help="slug; may be omitted when there is only one organization")
        parser.add_argument("--user", help="username recorded as the importer")
        parser.add_argument("--encoding", default="utf-8")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        org = self._organization(options["organization"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user '{options['user']}'.")
        log = import_file(organization=org, kind=options["kind"], path=path, user=user,
                          dry_run=options["dry_run"], encoding=options["encoding"])
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # Embedded mode: work an import deferred in-process (the re-score) must run before the process ends.
            imports_ending.send(sender=type(self))
        seconds = f" in {log.duration_seconds:.2f}s" if log.duration_seconds is not None else ""
        if log.status == ImportLog.Status.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(
                f"{path.name}: {log.rows} rows: {log.created} created, {log.updated} updated, "
                f"{log.unchanged} unchanged{seconds}. {log.message}".rstrip()
            ))
            return
        for err in log.errors:
            where = f"row {err['row']}" + (f", column '{err['column']}'" if err["column"] else "")
            shown = f": '{err['value']}'" if err["value"] else ""
            self.stderr.write(f"{path.name}, {where}{shown}: {err['reason']}")
        if log.error_count > len(log.errors):
            self.stderr.write(f"... and {log.error_count - len(log.errors)} more")
        raise CommandError(f"{path.name}: {log.message} (import log {log.pk})")

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            org = Organization.objects.filter(slug=slug).first()
            if org is None:
                raise CommandError(f"No organization '{slug}'.")
            return org
        orgs = list(Organization.objects.all()[:2])
        if len(orgs) != 1:
            raise CommandError("Several organizations exist: pass --organization <slug>.")
        return orgs[0]
