"""The scoring feature "dso" (open receivables over the last 91 days' sales, not the countback DSO of
the Aging page) is now "open_to_sales_days_3m": expert-scorecard factors under the old name follow.
Published scorecards, trained models and stored reasons keep the old name and read the new feature
through ``scoring.features.catalog.RENAMED``."""

from __future__ import annotations

from typing import Any

from django.db import migrations

RENAMED = {"dso": "open_to_sales_days_3m"}


def rename(apps: Any, schema_editor: Any, names: dict[str, str] = RENAMED) -> None:
    factor = apps.get_model("scoring", "ScorecardFactor")
    for old, new in names.items():
        taken = set(factor.objects.filter(feature=new).values_list("organization_id", flat=True))
        factor.objects.filter(feature=old).exclude(organization_id__in=taken).update(feature=new)


def rename_back(apps: Any, schema_editor: Any) -> None:
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(rename, rename_back)]
