from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from credit_platform.imports.engine import import_file, importers, imports_ending
from credit_platform.imports.services import mapping_for, mapping_save
from credit_platform.imports.spec import DATE_FORMATS, FileFormat
from credit_platform.models import ImportLog, Organization


class Command(BaseCommand):
    help = "Import a CSV or XLSX file. Any error rejects the whole file (nothing is written); exit code 1."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=list(importers()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--organization", help="slug; may be omitted when there is only one organization")
        parser.add_argument("--user", help="username recorded as the importer")
        parser.add_argument("--encoding", default=None, help="default: the saved mapping's, else utf-8")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--mapping", type=Path, help='JSON file: {"columns": {file header: field or ""}, '
                                                         '"defaults": {field: value}}')
        parser.add_argument("--saved-mapping", action="store_true",
                            help="read the file with the organization's saved mapping of this kind")
        parser.add_argument("--save-mapping", action="store_true", help="save --mapping and the formats for next time")
        parser.add_argument("--date-format", choices=list(DATE_FORMATS), help="e.g. %%d/%%m/%%Y")
        parser.add_argument("--decimal", choices=[".", ","])
        parser.add_argument("--thousands", choices=["", ",", ".", " ", "'"])
        parser.add_argument("--historical", action="store_true",
                            help="part of a historical load: no re-score until the load is completed")

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
        import_options, encoding = self._options(org, options, user)
        log = import_file(organization=org, kind=options["kind"], path=path, user=user,
                          dry_run=options["dry_run"], encoding=encoding, options=import_options)
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

    def _options(self, org: Organization, options: dict[str, Any], user: Any) -> tuple[dict[str, Any], str]:
        """The same mapping and formats as the pages and the API: a JSON mapping file or the saved mapping,
        with formats given here taking precedence."""
        out: dict[str, Any] = {}
        encoding = options["encoding"]
        if options["mapping"]:
            try:
                mapping = json.loads(options["mapping"].read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise CommandError(f"--mapping: {exc}") from None
            if not isinstance(mapping, dict) or not set(mapping) <= {"columns", "defaults", "format"}:
                raise CommandError('--mapping: expected an object with "columns", "defaults" and/or "format"')
            out.update(mapping)
        elif options["saved_mapping"]:
            saved = mapping_for(org, options["kind"])
            if saved is None:
                raise CommandError(f"No saved mapping for {options['kind']} files of {org.slug}.")
            out.update(saved.options())
            encoding = encoding or saved.encoding
        fmt = dict(out.get("format") or {})
        for key in ("date_format", "decimal", "thousands"):
            if options[key] is not None:
                fmt[key] = options[key]
        try:
            FileFormat.from_dict(fmt)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        out["format"] = fmt
        out["historical"] = options["historical"]
        encoding = encoding or "utf-8"
        if options["save_mapping"]:
            if not options["mapping"]:
                raise CommandError("--save-mapping needs --mapping.")
            mapping_save(organization=org, kind=options["kind"], columns=out.get("columns", {}),
                         defaults=out.get("defaults", {}), file_format=fmt, encoding=encoding, actor=user)
        return out, encoding

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            org = Organization.objects.filter(slug=slug).first()
            if org is None:
                raise CommandError(f"No organization '{slug}'.")
            return org
        orgs = list(Organization.objects.all()[:2])
        if not orgs:
            raise CommandError("No organization exists yet: create one with "
                               "`manage.py create_organization NAME --admin EMAIL --password ...`.")
        if len(orgs) != 1:
            slugs = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(f"Several organizations exist ({slugs}): pass --organization <slug>.")
        return orgs[0]
