"""``manage.py compile_catalogs``: compile every .po of the project without GNU gettext (Babel)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from credit_platform.catalogs import catalogue_paths, compile_catalogue


class Command(BaseCommand):
    help = "Compile the project's message catalogues (locale/ and <app>/locale/) to .mo, without gettext."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for po in catalogue_paths():
            compile_catalogue(po)
            count += 1
        if options["verbosity"] > 1:
            self.stdout.write(f"{count} catalogues compiled")
